"""The reference runs, end to end, by this checkout and by an earlier revision, side by side.

    LOGICAT_DATA=../shared/data/catvnoncat python benchmarks/against_rev.py --rev 1ef849f \
        [--repeats 3] [--runs lesson,deep,primal,torch,convnet]

Each run is ``logicat train ...`` in a fresh process (start-up, the data, the fit, the
accuracies, the model file), once from the revision's ``src/`` (``git archive``, on
PYTHONPATH) and once from this checkout's, alternating ``--repeats`` times so that a busy
spell hits both alike. It prints each side's median wall time, their ratio, and whether the two
model files hold the same tensors bit for bit (a change that moves no number must say
"equal"):

- lesson: the lesson's reference run (``make demo``'s first), the Gram fast path;
- deep: the course's deep network (``make demo``'s second);
- primal: the deep network through the list of layers, step by step (``--solver primal``);
- torch: the same with the torch engine;
- convnet: the ConvNet's default recipe for 30 epochs (``--model convnet -n 30``);
- batches: a network on shuffled mini-batches with Adam, early stopping and standardised
  features (the run's generator draws each epoch's order and the held-out rows);
- torch-batches: mini-batches with the torch engine (its ``DataLoader`` shuffles).

A run whose files differ names the tensors that do and their largest difference.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEEP = ["--hidden", "20,7,5", "--init", "lecun_normal", "--seed", "1", "--learning-rate",
        "0.0075", "--iterations", "2500"]
RUNS = {
    "lesson": ["--learning-rate", "0.005", "--iterations", "2000"],
    "deep": DEEP,
    "primal": [*DEEP, "--solver", "primal"],
    "torch": [*DEEP, "--engine", "torch"],
    "convnet": ["--model", "convnet", "-n", "30", "--device", "cpu"],
    "batches": ["--hidden", "5", "--batch-size", "32", "--optimizer", "adam", "-a", "0.001",
                "-n", "20", "--seed", "3", "--early-stopping", "--scaling", "standardize"],
    "torch-batches": ["--engine", "torch", "--device", "cpu", "--hidden", "5", "--batch-size",
                      "32", "--optimizer", "adam", "-a", "0.001", "-n", "20", "--seed", "3"],
}


def train(src: Path, args: list[str], out: Path, cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "logicat", "train", *args, "--print-every", "0",
                    "-o", str(out)], check=True, capture_output=True, env=env, cwd=cwd)
    return time.perf_counter() - start


def compare_tensors(a: Path, b: Path) -> str:
    """"equal", or which tensors differ and by how much at most."""
    from safetensors.numpy import load_file

    ta, tb = load_file(a), load_file(b)
    if ta.keys() != tb.keys():
        return f"differ: names {sorted(ta.keys() ^ tb.keys())}"
    differ = {k: float(np.max(np.abs(ta[k] - tb[k]))) for k in ta
              if not np.array_equal(ta[k], tb[k])}
    return "equal" if not differ else "differ: " + ", ".join(
        f"{k} (max |diff| {v:.1e})" for k, v in differ.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--runs", default=",".join(RUNS))
    args = parser.parse_args()
    runs = args.runs.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.rev, "src"],
                                 check=True, capture_output=True).stdout
        (tmp / "rev").mkdir()
        subprocess.run(["tar", "-x", "-C", str(tmp / "rev")], input=archive, check=True)
        sides = {"rev": tmp / "rev" / "src", "now": ROOT / "src"}
        times = {(run, side): [] for run in runs for side in sides}
        for _ in range(args.repeats):
            for run in runs:
                for side, src in sides.items():
                    times[run, side].append(train(src, RUNS[run], tmp / f"{run}-{side}.st",
                                                  tmp))
        print(f"logicat train end to end: {args.rev} (rev) against this checkout (now); "
              f"median of {args.repeats}, alternating; {os.cpu_count()} CPUs")
        print(f"{'run':13s} {'rev s':>8s} {'now s':>8s} {'now/rev':>8s}  tensors")
        for run in runs:
            rev, now = (statistics.median(times[run, side]) for side in sides)
            said = compare_tensors(tmp / f"{run}-rev.st", tmp / f"{run}-now.st")
            print(f"{run:13s} {rev:8.2f} {now:8.2f} {now / rev:7.2f}x  {said}")


if __name__ == "__main__":
    main()
