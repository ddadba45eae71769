"""How far the float32 ConvNet is from itself: the floor its agreements are judged against.

    LOGICAT_DATA=../shared/data/catvnoncat python benchmarks/float_floor.py [--epochs 3]

Trains the default ConvNet (16-32-64-128 channels, AdamW, the default augmentation) for
``--epochs`` epochs with one seed, each run a fresh ``logicat train`` process, in the ways that
must give "the same" model:

- T1: one process, 1 thread (``OMP_NUM_THREADS=1``): the reference;
- T2: one process, 2 threads: the same sums split another way;
- again: T1 once more (a process is deterministic: 0, or the machine is not);
- D2: ``--nproc 2``, two processes of 1 thread (torchrun, gloo): each half-batch's gradient
  summed by an all-reduce;
- AVX2, DEFAULT: T1 with ``ATEN_CPU_CAPABILITY=avx2`` / ``=default``: PyTorch's kernels as a
  processor without AVX-512 (or without any vector unit) would run them.

For each: the largest relative difference of a tensor against T1, ||a - b|| / ||b||, over the
model file's tensors, and the test accuracy. The T2 row is the floor the suite judges two
processes against (``tests/training/test_image_solver.py``); the CPU line names the machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parents[1]
RUNS = [  # (row, environment, extra arguments)
    ("T1", {"OMP_NUM_THREADS": "1"}, []),
    ("T2", {"OMP_NUM_THREADS": "2"}, []),
    ("again", {"OMP_NUM_THREADS": "1"}, []),
    ("D2", {"OMP_NUM_THREADS": "1"}, ["--nproc", "2"]),
    ("AVX2", {"OMP_NUM_THREADS": "1", "ATEN_CPU_CAPABILITY": "avx2"}, []),
    ("DEFAULT", {"OMP_NUM_THREADS": "1", "ATEN_CPU_CAPABILITY": "default"}, []),
]


def difference(a: dict, b: dict) -> tuple[float, str]:
    """(the largest ||a - b|| / ||b|| over b's float tensors, that tensor's name)."""
    return max((float(np.linalg.norm(a[k].astype(np.float64) - b[k]) / np.linalg.norm(b[k])), k)
               for k in b if b[k].dtype.kind == "f" and np.linalg.norm(b[k]) > 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from logicat.core.machine import describe

    print(f"CPU: {describe()}; load average {os.getloadavg()[0]:.2f}")
    print(f"the default ConvNet, {args.epochs} epochs, seed {args.seed}; "
          "difference: the largest ||a - b|| / ||b|| of a tensor against T1")
    models = {}
    with tempfile.TemporaryDirectory() as tmp:
        for row, env, extra in RUNS:
            out = Path(tmp) / f"{row}.safetensors"
            done = subprocess.run(
                [sys.executable, "-m", "logicat", "train", "--model", "convnet", "-n",
                 str(args.epochs), "--seed", str(args.seed), "--device", "cpu",
                 "--print-every", "0", "-o", str(out), *extra],
                capture_output=True, text=True, env={**os.environ, **env,
                                                     "PYTHONPATH": str(ROOT / "src")})
            if done.returncode != 0:
                sys.exit(f"{row} failed: {done.stdout}{done.stderr}")
            models[row] = load_file(out)
            test = [line for line in done.stdout.splitlines() if line.startswith("test")]
            gap, name = difference(models[row], models["T1"])
            print(f"{row:8s} {gap:10.3g}  ({name}){'':4s}{test[0] if test else ''}")


if __name__ == "__main__":
    main()
