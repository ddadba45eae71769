"""Many image files -> uint8 arrays, decoded by worker processes in batches.

Decoding is ``logicat.data.load_images`` (the data layer's resize policy, including JPEG draft
mode: a 1024x768 JPEG is decoded at 1/8 scale, 128x96, before the LANCZOS resize to 64x64); this
module only spreads the files over processes, a batch of files per task, and puts the results
back in order. Unreadable files are returned as ``(path, reason)``, never raised.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence

import numpy as np

from logicat.core.machine import usable_cpus
from logicat.data.images import load_images

#: Files per task sent to a worker.
BATCH = 64
#: Below this many files, decoding in this process is faster than starting workers.
MIN_FILES_FOR_WORKERS = 48


def default_workers() -> int:
    """The CPUs this process may use."""
    return usable_cpus()


def _decode(task: tuple[Sequence, int]) -> tuple[np.ndarray, list[int], list[tuple[int, str]]]:
    """Worker: decode one batch; returns (images, indices that loaded, [(index, reason)])."""
    paths, size = task
    images, ok_paths, failures = load_images(paths, size)
    # Each path is in exactly one of the two lists, in order: walk them side by side.
    ok, bad, next_ok, next_bad = [], [], 0, 0
    for i, path in enumerate(paths):
        if next_ok < len(ok_paths) and ok_paths[next_ok] is path:
            ok.append(i)
            next_ok += 1
        else:
            bad.append((i, failures[next_bad][1]))
            next_bad += 1
    return images, ok, bad


def iter_decoded(
    paths: Sequence, size: int = 64, *, workers: int | None = None, batch: int = BATCH
) -> Iterator[tuple[np.ndarray, list, list[tuple[object, str]]]]:
    """Yield ``(images (k, size, size, 3) uint8, ok_paths, failures)`` batch by batch, in order.

    ``workers``: processes to decode with (default: the CPUs available; 1 decodes here).
    """
    paths = list(paths)
    workers = default_workers() if workers is None else max(1, int(workers))
    tasks = [(paths[i:i + batch], size) for i in range(0, len(paths), batch)]
    if workers == 1 or len(paths) < MIN_FILES_FOR_WORKERS:
        for chunk, _ in tasks:
            yield load_images(chunk, size)
        return
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["logicat.data.images"])
    with ctx.Pool(min(workers, len(tasks))) as pool:
        for (chunk, _), (images, ok, bad) in zip(tasks, pool.imap(_decode, tasks), strict=True):
            yield images, [chunk[i] for i in ok], [(chunk[i], why) for i, why in bad]


def load_images_parallel(
    paths: Sequence, size: int = 64, *, workers: int | None = None, batch: int = BATCH
) -> tuple[np.ndarray, list, list[tuple[object, str]]]:
    """``logicat.data.load_images`` with the decoding spread over worker processes.

    Returns the same ``(images (k, size, size, 3) uint8, ok_paths, failures)``, in the order of
    ``paths``, with the same images.
    """
    parts, ok_paths, failures = [], [], []
    for images, ok, bad in iter_decoded(paths, size, workers=workers, batch=batch):
        parts.append(images)
        ok_paths += ok
        failures += bad
    images = np.concatenate(parts) if parts else np.empty((0, size, size, 3), np.uint8)
    return images, ok_paths, failures
