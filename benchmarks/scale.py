"""Scale benchmark: out-of-core training on a synthetic set far larger than the cat data.

    python benchmarks/scale.py [--images 400000] [--work-dir /tmp/logicat-scale] [--epochs 2]

1. Generates ``--images`` 64x64x3 images (400,000 = 4.9 GB of uint8) from the 259 cat/non-cat
   images by random flips, crops (rescaled back to 64x64) and Gaussian noise, written straight to
   an HDF5 file in the cat-data layout (``train_set_x`` chunked by 256 images). Checks free disk
   first. Reuses the file if it is already there with the right size (``--keep`` keeps it).
2. Times a plain sequential read of the file (h5py ``read_direct``, chunk by chunk) in a fresh
   process: the baseline.
3. Runs ``logicat train --train-file`` for ``--epochs`` exact full-batch iterations and
   ``--sgd-epochs`` mini-batch SGD epochs in each of ``--dtypes``, each in a fresh process, and
   reports seconds per epoch, GB/s and the peak RSS of the process (``ru_maxrss``).

The page cache is not dropped (the machine is shared): if the file fits in RAM, both the read and
the training read it from memory; the table says how much RAM there is.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np

SIZE = 64
CHUNK = 256


def generate(path: Path, n_images: int, seed: int = 0, block: int = 4096) -> None:
    from logicat.data import load_catvnoncat

    data = load_catvnoncat()
    src_x = np.concatenate([data.train_x, data.test_x])  # (259, 64, 64, 3)
    src_y = np.concatenate([data.train_y, data.test_y])
    rng = np.random.default_rng(seed)
    # a bank of 256 Gaussian noise images (sigma 8), one picked at random for each image
    noise_bank = np.rint(rng.normal(0, 8, (256, SIZE, SIZE, 3))).astype(np.int16)
    tmp = path.with_suffix(".tmp")
    start = time.perf_counter()
    with h5py.File(tmp, "w") as f:
        x = f.create_dataset("train_set_x", (n_images, SIZE, SIZE, 3), np.uint8,
                             chunks=(CHUNK, SIZE, SIZE, 3))
        y = f.create_dataset("train_set_y", (n_images,), np.int64)
        f.create_dataset("list_classes", data=np.array([b"non-cat", b"cat"]))
        for lo in range(0, n_images, block):
            k = min(block, n_images - lo)
            idx = rng.integers(0, len(src_x), k)
            imgs = src_x[idx]
            flip = rng.random(k) < 0.5
            imgs[flip] = imgs[flip, :, ::-1]  # horizontal flips
            # a random crop of 48..64 pixels, rescaled to 64x64 (nearest neighbour)
            crop = rng.integers(48, SIZE + 1, k)
            top = (rng.random(k) * (SIZE - crop + 1)).astype(int)
            left = (rng.random(k) * (SIZE - crop + 1)).astype(int)
            grid = np.arange(SIZE) / SIZE
            rows = (top[:, None] + (grid[None] * crop[:, None]).astype(int))  # (k, 64)
            cols = (left[:, None] + (grid[None] * crop[:, None]).astype(int))
            imgs = imgs[np.arange(k)[:, None, None], rows[:, :, None], cols[:, None, :]]
            noise = noise_bank[rng.integers(0, len(noise_bank), k)]
            x[lo:lo + k] = np.clip(imgs + noise, 0, 255).astype(np.uint8)
            y[lo:lo + k] = src_y[idx]
            if (lo // block) % 20 == 0:
                print(f"  generated {lo + k:,}/{n_images:,} images "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)
    os.replace(tmp, path)


def run_child(cmd: list[str]) -> tuple[float, float, str]:
    """Run a command; return (seconds, peak RSS of the child in GB, output)."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "dt = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(p.stdout + p.stderr)\n"
        "print(f'@@ {dt} {rss}')\n"
        "sys.exit(p.returncode)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stdout}{out.stderr}")
    seconds, rss_kb = out.stdout.strip().splitlines()[-1].split()[1:]
    return float(seconds), int(rss_kb) / 1e6, out.stdout


READ_SCRIPT = """
import sys, time
import numpy as np
from logicat.data.chunks import H5Images
with H5Images(sys.argv[1]) as s:  # a plain sequential read of every image, chunk by chunk
    rows = int(sys.argv[2])
    buf = np.empty((rows, s.n), np.uint8)
    start = time.perf_counter()
    for lo in range(0, s.m, rows):
        s.read(lo, min(lo + rows, s.m), buf)
    seconds, gigabytes = time.perf_counter() - start, s.m * s.n / 1e9
print(f"read {gigabytes:.3f} GB in {seconds:.3f} s: {gigabytes / seconds:.3f} GB/s")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=400_000)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/logicat-scale"))
    parser.add_argument("--epochs", type=int, default=2, help="exact full-batch iterations")
    parser.add_argument("--sgd-epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--chunk-rows", type=int, default=512)
    parser.add_argument("--dtypes", default="float32,float64",
                        help="comma-separated: train in each of these dtypes")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()

    args.work_dir.mkdir(parents=True, exist_ok=True)
    path = args.work_dir / f"synthetic-{args.images}.h5"
    need = args.images * SIZE * SIZE * 3
    free = shutil.disk_usage(args.work_dir).free
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(f"{args.images:,} images = {need / 1e9:.2f} GB of uint8; free disk in "
          f"{args.work_dir}: {free / 1e9:.1f} GB; RAM {ram / 1e9:.1f} GB; "
          f"{os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
    if not (path.exists() and h5py.File(path, "r")["train_set_x"].shape[0] == args.images):
        if free < need * 1.2:
            raise SystemExit(f"not enough free disk for {need / 1e9:.1f} GB")
        t = time.perf_counter()
        generate(path, args.images)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s "
              f"({path.stat().st_size / 1e9:.2f} GB on disk)")
    gb = need / 1e9

    rows = []
    seconds, rss, out = run_child([sys.executable, "-c", READ_SCRIPT, str(path),
                                   str(args.chunk_rows)])
    read_gbs = float(re.search(r"([\d.]+) GB/s", out).group(1))
    rows.append(("sequential read (h5py, baseline)", gb / read_gbs, read_gbs, rss))

    model = args.work_dir / "scale-model.safetensors"
    base = [sys.executable, "-m", "logicat", "train", "--train-file", str(path),
            "--chunk-rows", str(args.chunk_rows), "--print-every", "1", "-o", str(model)]
    runs = []
    for dtype in args.dtypes.split(","):
        runs += [
            (f"exact full-batch GD, {args.epochs} iterations, {dtype}",
             ["-n", str(args.epochs), "--dtype", dtype], args.epochs),
            (f"mini-batch SGD (batch {args.batch_size}), {args.sgd_epochs} epoch(s), {dtype}",
             ["-n", str(args.sgd_epochs), "--batch-size", str(args.batch_size), "--dtype", dtype],
             args.sgd_epochs),
        ]
    for label, extra, epochs in runs:
        if epochs == 0:
            continue
        seconds, rss, out = run_child(base + extra)
        m = re.search(r"(\d+) passes over the data in ([\d.]+) s: ([\d.]+) GB/s", out)
        passes, train_s = int(m.group(1)), float(m.group(2))
        rows.append((label, train_s / passes, gb * passes / train_s, rss))
        print(out.strip().splitlines()[-4:-1] and "\n".join(
            line for line in out.splitlines() if line.startswith(("Cost", "train acc", "test acc"))
        ))

    print()
    print(f"{'measurement':<56} {'s/epoch':>9} {'GB/s':>7} {'vs read':>8} {'peak RSS':>9}")
    for label, per_epoch, gbs, rss in rows:
        print(f"{label:<56} {per_epoch:>9.2f} {gbs:>7.3f} {gbs / read_gbs:>7.2f}x "
              f"{rss:>7.2f} GB")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if not args.keep:
        path.unlink()


if __name__ == "__main__":
    main()
