"""Start-up: how long the command line takes, end to end, against Python's own floor.

    python benchmarks/startup.py [--repeat 9] [--data-dir DIR]

Every row is a fresh process, timed from start to exit; the rows run round-robin (every row's
run r before any row's run r + 1, so a busy spell on a shared machine hits all of them alike)
and the table shows the median and the best of ``--repeat`` runs. The baselines:

- N: ``python -c "import numpy"`` - what any NumPy program pays before it does anything;
- L: the lesson's script end to end, written out below: h5py loads the two files, 2000
  iterations of its column-layout gradient descent, the test accuracy printed.

The targets (issue "One training core", medians): ``logicat --help`` <= 2 N;
``logicat predict -m M one.jpg`` <= 3 N; ``logicat train`` (the reference run: start, imports,
data, training, accuracies, model file) at least 3x faster than L.
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

ROOT = Path(__file__).resolve().parents[1]

LESSON_SCRIPT = """
import sys, h5py, numpy as np
folder = sys.argv[1]
with h5py.File(folder + '/train_catvnoncat.h5', 'r') as f:
    train_x, train_y = np.array(f['train_set_x'][:]), np.array(f['train_set_y'][:])
with h5py.File(folder + '/test_catvnoncat.h5', 'r') as f:
    test_x, test_y = np.array(f['test_set_x'][:]), np.array(f['test_set_y'][:])
X = train_x.reshape(train_x.shape[0], -1).T / 255.
Y = train_y.reshape(1, -1)
Xt = test_x.reshape(test_x.shape[0], -1).T / 255.
w, b, m = np.zeros((X.shape[0], 1)), 0.0, X.shape[1]
for i in range(2000):
    A = 1 / (1 + np.exp(-(np.dot(w.T, X) + b)))
    cost = -1 / m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dw = 1 / m * np.dot(X, (A - Y).T)
    db = 1 / m * np.sum(A - Y)
    w = w - 0.005 * dw
    b = b - 0.005 * db
    if i % 100 == 0:
        print("Cost after iteration %i: %f" % (i, cost))
p = 1 / (1 + np.exp(-(np.dot(w.T, Xt) + b))) > 0.5
print("test accuracy: {} %".format(100 - np.mean(np.abs(p - test_y.reshape(1, -1))) * 100))
"""


def _logicat() -> list[str]:
    script = Path(sys.executable).with_name("logicat")
    return [str(script)] if script.exists() else [sys.executable, "-m", "logicat"]


def time_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from logicat.data import find_catvnoncat

    folder = str(find_catvnoncat(args.data_dir))
    photo = ROOT.parent / "shared" / "data" / "photos" / "tabby_cat.jpg"
    env = dict(os.environ, LOGICAT_DATA=folder)
    logicat = _logicat()
    with tempfile.TemporaryDirectory(prefix="logicat-startup-") as tmp:
        model = Path(tmp) / "model.safetensors"
        subprocess.run([*logicat, "train", "--print-every", "0", "-o", str(model)], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        if not photo.exists():
            from PIL import Image

            photo = Path(tmp) / "one.jpg"
            Image.new("RGB", (300, 200), (120, 90, 60)).save(photo)
        rows = {
            "N  python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
            "logicat --help": [*logicat, "--help"],
            "logicat predict -m M one.jpg": [*logicat, "predict", "-m", str(model), str(photo)],
            "L  the lesson's script end to end": [sys.executable, "-c", LESSON_SCRIPT, folder],
            "logicat train (the reference run)": [*logicat, "train", "-o",
                                                  str(Path(tmp) / "m2.safetensors")],
        }
        for cmd in rows.values():  # warm the page cache and numba's disk cache first
            time_once(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.repeat):
            for name, cmd in rows.items():
                times[name].append(time_once(cmd, env))

    med = {name: statistics.median(t) for name, t in times.items()}
    N, L = med["N  python -c 'import numpy'"], med["L  the lesson's script end to end"]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"{os.cpu_count()} CPUs; load average {load}; medians (best) of {args.repeat} runs, "
          "round-robin, each a fresh process")
    print(f"{'command':<36} {'median s':>9} {'best s':>8}  ratio")
    print("-" * 72)
    ratios = {
        "logicat --help": (med["logicat --help"] / N, "x N", 2.0, "<="),
        "logicat predict -m M one.jpg": (med["logicat predict -m M one.jpg"] / N, "x N", 3.0, "<="),
        "logicat train (the reference run)": (L / med["logicat train (the reference run)"],
                                              "x faster than L", 3.0, ">="),
    }
    ok = True
    for name, t in times.items():
        line = f"{name:<36} {med[name]:>9.3f} {min(t):>8.3f}"
        if name in ratios:
            value, unit, target, how = ratios[name]
            met = value <= target if how == "<=" else value >= target
            ok &= met
            line += f"  {value:.2f}{unit} (target {how} {target:g}: {'met' if met else 'NOT met'})"
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
