"""The folder cache: a photo folder's decoded images, packed once, read back only while they are
still the folder's.

``logicat train --images photos/`` decodes photos/ once (``logicat.data.pack``) into
``$XDG_CACHE_HOME/logicat/folders/<key>.h5`` and reads that file on the runs after. The cache
must never answer with pixels, labels or class names the folder no longer holds:

**The key** is the SHA-256 of the cache's version, the positive class, the image size, the
folder's real path (``os.path.realpath``: a ``cp -p`` copy of the folder is another key, with
other pixels or not) and, for each listed file, its path in the folder, its label and the
status of the file it names (symlinks followed): device, inode, size, modification time and
status-change time (``st_ctime_ns``), in nanoseconds. An entry that is not a regular file (a
dangling link, a FIFO) counts by its name only; the decoder skips it.

Why the files' status and not a hash of their bytes: a hash reads every byte of every photo on
every run - gigabytes for a few thousand phone photos - to save the decoding the cache is there
to save, while the status is one ``stat`` per file. What makes the status enough is the
status-change time: the kernel sets it to the current time on every change of a file's bytes or
metadata, and no call sets it back (``os.utime`` sets the access and modification times, and
itself moves the status-change time on). So a photo edited in place, its size and modification
time then restored, makes a new key; the inode catches a photo replaced by another (a rename
over it). What it cannot see: an edit in the same clock tick (a few milliseconds) as an earlier
change, both after the stat that made the key, or a file system that keeps no status-change
time (FAT, some network mounts): there, delete the cache folder after editing photos.

**Reading** checks a cache file against the listing before using it, and decodes the folder
again (replacing the file) when any check fails: its version, its key, the cat-data layout
(``catvnoncat.h5_layout``, the labels 0/1), images of size x size x 3 uint8, no more rows than
listed files, the class names the listing gives, ``source_rows`` - the listing's row of each
image, strictly increasing - with each image's label its file's, and a SHA-256 of all of it
(``digest``), so that a damaged or edited byte anywhere is caught. (The cache is the user's own:
this catches damage and careless edits, not a file forged with its digest recomputed.)

**Writing** goes through ``paths.atomic_output``: the file appears whole or not at all, and its
temporary file is removed on any error or Ctrl-C. A process packing a folder holds the key's
lock (``<key>.lock``, ``flock``): a second process on the same folder waits, then reads the
cache; the temporary file of a process that was killed (its lock gone with it) is removed by
the next run that packs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np

from logicat.core.errors import DataFileError
from logicat.core.paths import atomic_output
from logicat.data.catvnoncat import (
    cache_dir,
    check_labels,
    class_names,
    h5_layout,
    open_h5,
    stored_dataset,
)
from logicat.data.folders import list_image_folder

#: bump when what a cache file holds changes, so that old ones are not read
CACHE_VERSION = 3
#: rows of images hashed at a time when a cache file is written
_DIGEST_ROWS = 1024
#: a temporary file of the atomic writer (nested ones too): ".<key>.h5.<random>.tmp"
_TEMPORARY = re.compile(r"^\.+([0-9a-f]{32})\.h5\..*\.tmp$")


class FolderImages(NamedTuple):
    """A folder's decoded images, as its cache file holds them.

    x : uint8 ndarray of shape (m, size, size, 3)
    y : int64 ndarray of shape (m,), 1 = the positive class
    classes : (negative name, positive name)
    key : the folder's key (``folder_key``)
    path : the cache file
    n_skipped : the listed files that could not be decoded
    """

    x: np.ndarray
    y: np.ndarray
    classes: tuple[str, str]
    key: str
    path: Path
    n_skipped: int


def folders_cache() -> Path:
    """Where the cache files are: ``$XDG_CACHE_HOME/logicat/folders``."""
    return cache_dir().parent / "folders"


def folder_key(root: str | os.PathLike[str], positive: str = "cat", size: int = 64) -> str:
    """The SHA-256 of what ``root``'s decoded images depend on (see the module docstring)."""
    return _key(root, list_image_folder(root, positive)[0], positive, size)


def _status(path: Path) -> list[int] | None:
    """A regular file's device, inode, size, modification and status-change times; None for
    anything else (a dangling link, a loop, a FIFO: the decoder skips it, saying why)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _key(root, samples, positive: str, size: int) -> str:
    root = Path(root).expanduser()
    listing = [[os.fsencode(path.relative_to(root)).hex(), label, _status(path)]
               for path, label in samples]
    real = os.fsencode(os.path.realpath(root)).hex()
    text = json.dumps([CACHE_VERSION, positive, size, real, listing])
    return hashlib.sha256(text.encode()).hexdigest()


def load_cached(root: str | os.PathLike[str], positive: str = "cat", size: int = 64, *,
                show=None, on_skip: Callable[[Path, str], object] | None = None
                ) -> FolderImages:
    """``root``'s images decoded at ``size`` x ``size``: read from the cache when its file
    passes every check, else decoded now (and cached). Only when it decodes, ``show(root, n)``
    may give a progress bar (a context manager with ``update(k)``) over the n image files, and
    ``on_skip(path, reason)`` hears of each file that could not be read. Raises
    ``DataFileError`` as ``list_image_folder`` does, or when no image could be read."""
    samples, classes = list_image_folder(root, positive)
    key = _key(root, samples, positive, size)
    folder = folders_cache()
    path = folder / f"{key[:32]}.h5"
    cached = _read(path, key, samples, classes, size)
    if cached is not None:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    with _lock(folder / f"{key[:32]}.lock") as held:
        assert held
        _remove_stale(folder, key[:32])
        cached = _read(path, key, samples, classes, size)  # made while this one waited?
        if cached is None:
            _pack(root, path, key, (samples, classes), size, show, on_skip)
            cached = _read(path, key, samples, classes, size)
    assert cached is not None, f"{path} does not read back as it was written"
    return cached


def _pack(root, path: Path, key: str, listing, size: int, show, on_skip) -> None:
    """Decode ``root`` into the cache file ``path``, with its rows, key and digest."""
    from logicat.data.pack import pack_image_folder

    samples, classes = listing
    with atomic_output(path, "folder cache") as tmp:
        with show(root, len(samples)) if show else contextlib.nullcontext() as bar:
            result = pack_image_folder(root, tmp, size=size, positive=classes[1],
                                       listing=listing,
                                       progress=None if bar is None else bar.update)
        rows = np.asarray(result.rows, dtype=np.int64)
        with h5py.File(tmp, "r+") as f:
            x, y = f["train_set_x"], f["train_set_y"]
            chunks = (x[i:i + _DIGEST_ROWS] for i in range(0, len(x), _DIGEST_ROWS))
            f.attrs["digest"] = np.bytes_(_digest(key, classes, rows, y[()], chunks))
            f.create_dataset("source_rows", data=rows)
            f.attrs["key"] = np.bytes_(key)
            f.attrs["version"] = np.int64(CACHE_VERSION)
    for failure in result.skipped:
        if on_skip is not None:
            on_skip(*failure)


def _digest(key: str, classes, rows: np.ndarray, y: np.ndarray, x_chunks) -> str:
    """SHA-256 of everything a cache file answers with."""
    h = hashlib.sha256(json.dumps([key, list(classes), len(rows)]).encode())
    h.update(rows.astype("<i8").tobytes())
    h.update(y.astype("<i8").tobytes())
    for chunk in x_chunks:
        h.update(np.ascontiguousarray(chunk).tobytes())
    return h.hexdigest()


def _read(path: Path, key: str, samples, classes, size: int) -> FolderImages | None:
    """The cache file's images when it passes every check of the module docstring, else
    None (it is then decoded again)."""
    if not path.is_file():
        return None
    try:
        with open_h5(path) as f:
            if _attribute(f, "key") != key or _attribute(f, "version") != str(CACHE_VERSION):
                return None
            # every size is checked before anything is read: a damaged file can declare any
            x_name, y_name, shape = h5_layout(path, f)
            rows_set = stored_dataset(path, f, "source_rows")
            if (x_name != "train_set_x" or shape[1:] != (size, size, 3)
                    or shape[0] > len(samples) or rows_set.shape != (shape[0],)
                    or rows_set.dtype != np.int64 or f["list_classes"].shape != (2,)):
                return None
            rows = rows_set[()]
            y = check_labels(path, y_name, f[y_name][()])
            names = class_names(path, f["list_classes"][()])
            x = f[x_name][()]
            digest = _attribute(f, "digest")
    except DataFileError:  # not a readable cache file: decode again
        return None
    labels = np.array([label for _, label in samples], dtype=np.int64)
    if (names != tuple(classes) or rows[0] < 0 or rows[-1] >= len(samples)
            or not (np.diff(rows) > 0).all() or not np.array_equal(labels[rows], y)
            or digest != _digest(key, classes, rows, y, [x])):
        return None
    return FolderImages(x, y, names, key, path, len(samples) - len(rows))


def _attribute(f: h5py.File, name: str) -> str:
    """A short scalar attribute as text; '' when it is missing or anything else."""
    if name not in f.attrs:
        return ""
    attribute = f.attrs.get_id(name)
    if attribute.shape != () or attribute.get_storage_size() > 256:
        return ""
    value = f.attrs[name]
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


@contextlib.contextmanager
def _lock(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold ``path``'s lock (``flock``, released when the process ends, however it ends) for
    the block; yields whether it is held (``wait=False``: False when another process holds
    it)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _remove_stale(folder: Path, held: str) -> None:
    """Remove the temporary files that no process is writing: this key's (its lock is held
    here) and those of any other key whose lock is free (a process killed while packing)."""
    for tmp in folder.iterdir():
        match = _TEMPORARY.match(tmp.name)
        if match is None:
            continue
        name = match.group(1)
        if name == held:
            tmp.unlink(missing_ok=True)
            continue
        with _lock(folder / f"{name}.lock", wait=False) as free:
            if free:
                tmp.unlink(missing_ok=True)
