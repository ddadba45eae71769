"""Prediction throughput: `logicat predict` on a folder of camera-sized JPEGs vs a naive loop.

    python benchmarks/predict_throughput.py [--images 10000] [--naive-images 2000]
                                            [--work-dir /tmp/logicat-predict]

Generates ``--images`` JPEGs of 1024x768 (quality 90) from the cat/non-cat images (upscaled,
flipped, with noise), trains a quick model, then measures images per second for:

- naive: Pillow open -> convert RGB -> resize to 64x64 (LANCZOS) -> predict_proba, one image at
  a time (on the first ``--naive-images`` files; the rate does not depend on how many);
- draft, 1 process: ``logicat.data.load_images`` (JPEG draft mode) then one batched predict;
- ``logicat predict -j 1`` and ``logicat predict`` (all CPUs), as fresh processes, end to end
  (start-up, model load, decoding, printing every line).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 1024, 768


def _make(args):
    i, src, out = args
    rng = np.random.default_rng(i)
    img = Image.fromarray(src).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
    if i % 2:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    pixels = np.asarray(img, dtype=np.int16)
    pixels = pixels + rng.integers(-12, 13, size=(1, WIDTH, 3), dtype=np.int16)  # row noise
    pixels = pixels + rng.integers(-12, 13, size=(HEIGHT, 1, 3), dtype=np.int16)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, quality=90)


def generate(folder: Path, n: int) -> list[Path]:
    from logicat.data import load_catvnoncat

    data = load_catvnoncat()
    src = np.concatenate([data.train_x, data.test_x])
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"img{i:05d}.jpg" for i in range(n)]
    todo = [(i, src[i % len(src)], p) for i, p in enumerate(paths) if not p.exists()]
    if todo:
        with multiprocessing.get_context("forkserver").Pool() as pool:
            pool.map(_make, todo, chunksize=32)
    return paths


def naive(paths, clf) -> float:
    start = time.perf_counter()
    for path in paths:
        img = Image.open(path).convert("RGB").resize((64, 64), Image.Resampling.LANCZOS)
        x = np.asarray(img, dtype=np.float64).reshape(1, -1) / 255.0
        clf.predict_proba(x)[0, 1]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--naive-images", type=int, default=2_000)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/logicat-predict"))
    args = parser.parse_args()

    from logicat.data import load_catvnoncat, load_images
    from logicat.data.features import images_to_features, preprocessing_spec
    from logicat.estimators import LogisticRegression

    folder = args.work_dir / "jpegs"
    t = time.perf_counter()
    paths = generate(folder, args.images)
    mb = sum(p.stat().st_size for p in paths) / 1e6
    print(f"{len(paths):,} JPEGs of {WIDTH}x{HEIGHT} ({mb:,.0f} MB) ready in "
          f"{time.perf_counter() - t:.0f} s; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
    data = load_catvnoncat()
    clf = LogisticRegression(max_iter=200).fit(images_to_features(data.train_x), data.train_y)
    model = args.work_dir / "model.safetensors"
    clf.save(model, preprocessing=preprocessing_spec(64), class_names=list(data.classes),
             positive_class=data.classes[1])

    rows = []
    k = min(args.naive_images, len(paths))
    rows.append((f"naive Pillow loop, one image at a time ({k:,} images)", k / naive(paths[:k],
                                                                                     clf)))
    start = time.perf_counter()
    images, ok, _ = load_images(paths[:k])
    clf.predict_proba(images_to_features(images))
    rows.append((f"draft-mode decode, 1 process, batched predict ({k:,})",
                 k / (time.perf_counter() - start)))
    for label, extra in (("logicat predict -j 1 (process, end to end)", ["-j", "1"]),
                         ("logicat predict (all CPUs, process, end to end)", [])):
        cmd = [sys.executable, "-m", "logicat", "predict", "-m", str(model), str(folder), *extra]
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        n_lines = len(out.stdout.splitlines())
        if out.returncode or n_lines != len(paths):
            raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr[-500:]}")
        rows.append((f"{label} ({len(paths):,})", len(paths) / seconds))

    base = rows[0][1]
    print(f"\n{'measurement':<66} {'images/s':>9} {'vs naive':>9}")
    for label, rate in rows:
        print(f"{label:<66} {rate:>9.1f} {rate / base:>8.2f}x")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
