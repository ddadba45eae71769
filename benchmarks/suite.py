r"""The speed suite: the reference training run, timed against named baselines in one run.

    python benchmarks/suite.py [--iterations 2000] [--repeat 3] [--skip P ...]

Baselines (all measured here, side by side, on the same data in the same process):

- **L**, the lesson's own NumPy code (``lesson_optimize``): examples as columns (n_x, m), float64,
  ``np.dot(w.T, X)``, ``np.exp``, new arrays every iteration.
- **P**, idiomatic PyTorch on the CPU: ``nn.Linear`` + ``BCEWithLogitsLoss`` + ``optim.SGD``,
  the same 2000 full-batch iterations, float32.
- **S**, scikit-learn ``LogisticRegression(penalty=None)`` (lbfgs): the time to reach the
  reference run's final training cost (its answer differs: see the notes it prints).
- **G**, the memory floor: one float32 matrix-vector product ``X @ w`` (one read of X).

Candidates: ``LogisticRegression(dtype=...).fit(X, y)`` (the default: the span solver), the
primal solver with the fused kernel (1 and all threads, float X and X as bytes) and with the
pure reference objective ``cost_and_gradients`` (which idea gives what), and ``logicat train``
end to end against the lesson's script end to end (both as fresh processes; for the start-up
ratios, see ``benchmarks/startup.py``).

Each timing is the min (and median) of ``repeat`` runs, taken round-robin (every candidate's
first run, then every candidate's second, ...) so that a busy spell on a shared machine hits all
alike; the min is the number to read.
"""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the lesson's own code lives with the tests that check against it

from tests.lesson import lesson_optimize  # noqa: E402

LEARNING_RATE = 0.005
PARTS = ("L", "P", "S", "G", "ideas", "cli")


# ----------------------------------------------------------------------------- the suite
@dataclass
class Row:
    name: str
    times: list[float]
    iterations: int | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def machine_description() -> list[str]:
    """CPU, cores, load, BLAS kernel (threadpoolctl) and library versions, one fact per line."""
    import threadpoolctl

    from logicat.core.machine import cpu_model, numpy_simd, usable_cpus

    lines = [f"CPU: {cpu_model()}, {usable_cpus()} usable CPUs, NumPy dispatching to "
             f"{numpy_simd()}; Python {platform.python_version()}"]
    if hasattr(os, "getloadavg"):
        lines.append("load average at start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    for info in threadpoolctl.threadpool_info():
        lines.append(
            f"{info['user_api']}: {info['internal_api']} {info.get('version')} "
            f"kernel {info.get('architecture')} threads {info['num_threads']} "
            f"({Path(info['filepath']).name})"
        )
    env = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP", "MKL"))}
    lines.append(f"BLAS environment: {env or 'none set'}")
    versions = [f"numpy {np.__version__}"]
    for mod in ("numba", "torch", "sklearn"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            versions.append(f"{mod} not installed")
    lines.append(", ".join(versions))
    from logicat.engines.numba import HAVE_NUMBA

    if HAVE_NUMBA:
        from logicat.engines.numba.fused import default_threads

        lines.append(f"logicat kernel: numba, {default_threads()} thread(s)")
    else:
        lines.append("logicat kernel: none (numba is not installed)")
    return lines


def run_suite(
    data_dir=None,
    *,
    iterations: int = 2000,
    repeat: int = 3,
    include: tuple[str, ...] = ("L", "P", "S", "G", "ideas", "cli"),
    echo: Callable[[str], object] = print,
) -> list[Row]:
    """Run every measurement, print the table, return the rows."""
    from logicat.data import find_catvnoncat, load_catvnoncat
    from logicat.data.features import images_to_features
    from logicat.engines.numba.fused import FusedObjective
    from logicat.estimators import LogisticRegression
    from logicat.nn.loss import cost_and_gradients
    from logicat.training.descent import gradient_descent

    folder = find_catvnoncat(data_dir)
    data = load_catvnoncat(folder)
    X64 = images_to_features(data.train_x, np.float64)
    X32 = images_to_features(data.train_x, np.float32)
    y = data.train_y
    m, n = X64.shape
    for line in machine_description():
        echo(line)
    echo(f"data: {m} x {n} training matrix, {iterations} iterations, learning rate "
         f"{LEARNING_RATE}, best of {repeat} (median in brackets)")
    histories: dict[str, np.ndarray] = {}
    # (row name, callable, iterations or None, what to do with its result)
    jobs: list[tuple[str, Callable[[], object], int | None, Callable[[object], object]]] = []

    def keep(key, get):
        return lambda result: histories.__setitem__(key, np.asarray(get(result), dtype=float))

    def reference_run(X):
        """The loop with the pure objective ``cost_and_gradients``: the reference history."""
        def objective(w, b):
            return cost_and_gradients(w, b, X, y.astype(X.dtype))

        return gradient_descent(objective, np.zeros(n, X.dtype), 0.0,
                                learning_rate=LEARNING_RATE, max_iter=iterations)

    if "L" in include:
        X_cols = data.train_x.reshape(m, -1).T / 255.0  # (n_x, m), as the lesson builds it
        Y = y.reshape(1, -1)
        jobs.append((
            "L  lesson NumPy code (float64, columns)",
            lambda: lesson_optimize(np.zeros((n, 1)), 0.0, X_cols, Y, iterations, LEARNING_RATE),
            iterations, keep("L", lambda r: r[2]),
        ))
    for dtype, X in (("float64", X64), ("float32", X32)):
        if "ideas" in include:
            jobs.append((f"   reference cost_and_gradients loop ({dtype})",
                         lambda X=X: reference_run(X), iterations,
                         keep(f"ref {dtype}", lambda r: r.cost_history)))
        clf = LogisticRegression(dtype=dtype, max_iter=iterations, learning_rate=LEARNING_RATE)
        # fit() runs the lesson's plain full-batch GD in the span of the examples (the "gram"
        # solver that solver="auto" picks for it).
        jobs.append((f"logicat LogisticRegression.fit ({dtype})",
                     lambda clf=clf, X=X: clf.fit(X, y), iterations,
                     keep(f"fit {dtype}", lambda r: r.cost_history_)))
        if "ideas" in include:
            for label, kw in (
                ("fused kernel, float X, 1 thread", dict(n_threads=1, compress=False)),
                ("fused kernel, float X, all threads", dict(compress=False)),
                ("fused kernel, X as uint8 bytes, 1 thread", dict(n_threads=1)),
                ("fused kernel, X as uint8 bytes, all threads", dict()),
            ):
                def run(X=X, kw=kw):
                    objective = FusedObjective(X, y.astype(X.dtype), **kw)
                    return gradient_descent(objective, np.zeros(n, X.dtype), 0.0,
                                            learning_rate=LEARNING_RATE, max_iter=iterations)

                jobs.append((f"   {label} ({dtype})", run, iterations, lambda r: None))
    if "P" in include:
        jobs.append(_torch_job(X32, y, iterations))
    if "G" in include:
        w_g = np.full(n, 1e-3, np.float32)

        def floor():  # `iterations` reads of X, as one iteration's worth of memory traffic each
            for _ in range(iterations):
                X32 @ w_g

        jobs.append((f"G  one float32 X @ w (memory floor), x{iterations}", floor, iterations,
                     lambda r: None))
    if "S" in include:
        jobs.append(_sklearn_job(X64, y, reference_run(X64)))
    if "cli" in include:
        jobs.extend(_end_to_end_jobs(folder, iterations))

    # Round-robin: repeat r of every job runs before repeat r + 1 of any, so that a busy spell
    # on a shared machine hits all of them alike; each row keeps its best (and median).
    rows = [Row(name, [], its) for name, _, its, _ in jobs]
    for _ in range(repeat):
        for row, (_, fn, _, after) in zip(rows, jobs, strict=True):
            start = time.perf_counter()
            result = fn()
            row.times.append(time.perf_counter() - start)
            note = after(result)
            if isinstance(note, str):
                row.note = note

    _print_table(rows, echo)
    _print_checks(histories, echo)
    if hasattr(os, "getloadavg"):
        echo("load average at end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return rows


def _torch_job(X32, y, iterations):
    import torch
    from torch import nn

    X = torch.from_numpy(X32)
    t = torch.from_numpy(y.astype(np.float32)).reshape(-1, 1)

    def run():
        model = nn.Linear(X.shape[1], 1)
        nn.init.zeros_(model.weight)
        nn.init.zeros_(model.bias)
        criterion = nn.BCEWithLogitsLoss()
        opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
        for _ in range(iterations):
            opt.zero_grad()
            loss = criterion(model(X), t)
            loss.backward()
            opt.step()
        return loss.item()

    return (f"P  PyTorch nn.Linear+BCEWithLogits+SGD (float32, {torch.get_num_threads()} thr)",
            run, iterations, lambda last: f"final cost {last:.6f}")


def _sklearn_job(X64, y, reference):
    """scikit-learn's lbfgs, stopped after the fewest iterations that reach the GD's final cost."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression as SkLR

    from logicat.nn.loss import cross_entropy

    target = float(reference.cost_history[-1])

    def fit(k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # C = inf: no penalty (``penalty=None`` is deprecated from scikit-learn 1.8)
            clf = SkLR(C=np.inf, solver="lbfgs", max_iter=k, tol=0.0).fit(X64, y)
        z = X64 @ clf.coef_[0] + clf.intercept_[0]
        return clf, float(cross_entropy(z, y).mean())

    k = 1
    while fit(k)[1] > target and k < 4096:
        k *= 2
    lo, hi = k // 2, k
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fit(mid)[1] > target else (lo, mid)

    def note(result):
        clf, cost = result
        diff = np.linalg.norm(clf.coef_[0] - reference.coef) / np.linalg.norm(reference.coef)
        return (f"{hi} lbfgs iterations, cost {cost:.6f}; its w differs from GD's by "
                f"{diff:.0%} (relative L2)")

    return (f"S  scikit-learn lbfgs, no penalty, to cost <= {target:.6f}", lambda: fit(hi), None,
            note)


def _end_to_end_jobs(folder, iterations):
    """``logicat train`` and the lesson's script, each as a fresh process, start to finish."""
    tmp = tempfile.mkdtemp(prefix="logicat-bench-")
    atexit.register(shutil.rmtree, tmp, True)
    lesson = [sys.executable, "-c", _LESSON_SCRIPT, str(folder), str(iterations), str(ROOT)]
    jobs = [("L  lesson script end to end (process)",
             lambda: subprocess.run(lesson, check=True, capture_output=True), iterations,
             lambda r: "start, imports, load, train, accuracies")]
    for dtype in ("float64", "float32"):
        cmd = [sys.executable, "-m", "logicat", "train", "--data-dir", str(folder),
               "--iterations", str(iterations), "--dtype", dtype, "--print-every", "0",
               "-o", str(Path(tmp) / "m.safetensors")]
        jobs.append((f"logicat train --dtype {dtype} (process)",
                     lambda cmd=cmd: subprocess.run(cmd, check=True, capture_output=True),
                     iterations, lambda r: "start, imports, load, train, accuracies, save"))
    return jobs


_LESSON_SCRIPT = """
import sys, h5py, numpy as np
folder, iterations = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from tests.lesson import lesson_optimize, lesson_sigmoid
with h5py.File(folder + '/train_catvnoncat.h5') as f:
    x, y = np.array(f['train_set_x'][:]), np.array(f['train_set_y'][:]).reshape(1, -1)
X = x.reshape(x.shape[0], -1).T / 255.
w, b, costs = lesson_optimize(np.zeros((X.shape[0], 1)), 0., X, y, iterations, 0.005)
print(100 - np.mean(np.abs((lesson_sigmoid(np.dot(w.T, X) + b) > 0.5) - y)) * 100)
"""


def _find(rows, prefix):
    return next((r for r in rows if r.name.startswith(prefix)), None)


def _print_table(rows: list[Row], echo) -> None:
    L, P, G = _find(rows, "L  lesson NumPy"), _find(rows, "P "), _find(rows, "G ")
    L_proc = _find(rows, "L  lesson script")
    header = ["measurement", "best s", "(median)", "ms/iter", "vs L", "vs P", "/ G"]
    table = [header]
    for r in rows:
        per_iter = r.best / r.iterations * 1e3 if r.iterations else None
        base_L = L_proc if "(process)" in r.name else L
        table.append([
            r.name,
            f"{r.best:.3f}",
            f"({r.median:.3f})",
            f"{per_iter:.3f}" if per_iter is not None else "",
            f"{base_L.best / r.best:.1f}x" if base_L and r is not base_L else "",
            f"{P.best / r.best:.1f}x" if P and r.iterations and "(process)" not in r.name
            and r is not P else "",
            f"{r.best / G.best:.2f}" if G and r.iterations and "(process)" not in r.name
            and r is not G else "",
        ])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    echo("")
    echo("vs L / vs P: how many times faster than the baseline (higher is better); "
         "/ G: time per iteration over one read of X (lower is better, 1 is the floor)")
    for i, row in enumerate(table):
        echo("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in
                                                     zip(row[1:], widths[1:], strict=True)]))
        if i == 0:
            echo("-" * (sum(widths) + 2 * (len(widths) - 1)))
    for r in rows:
        if r.note:
            echo(f"  {r.name.strip()}: {r.note}")


def _print_checks(h: dict[str, np.ndarray], echo) -> None:
    echo("")
    echo("cost-history checks (max |difference| over all iterations):")
    pairs = [("fit float64", "ref float64", 1e-12), ("fit float32", "ref float32", 1e-6),
             ("fit float32", "ref float64", 1e-5)]
    for a, b, tol in pairs:
        if a in h and b in h:
            d = float(np.max(np.abs(h[a] - h[b])))
            echo(f"  {a} vs {b}: {d:.2e} ({'ok' if d <= tol else 'NOT'} <= {tol:g})")
    if "L" in h and "fit float64" in h:
        d = float(np.max(np.abs(h["L"] - h["fit float64"][::100])))
        echo(f"  lesson L (every 100th) vs fit float64: {d:.2e} ({'ok' if d <= 1e-10 else 'NOT'}"
             " <= 1e-10)")
        d = float(np.max(np.abs(h["L"] - h["fit float32"][::100]))) if "fit float32" in h else None
        if d is not None:
            echo(f"  lesson L (every 100th) vs fit float32: {d:.2e} "
                 f"({'ok' if d <= 1e-6 else 'NOT'} <= 1e-6: the cost table unchanged)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--skip", action="append", choices=PARTS, default=[],
                        help="Leave out a baseline (L lesson, P PyTorch, S scikit-learn, G "
                        "memory floor), the per-idea rows (ideas) or the process rows (cli).")
    args = parser.parse_args(argv)
    run_suite(args.data_dir, iterations=args.iterations, repeat=args.repeat,
              include=tuple(p for p in PARTS if p not in args.skip))


if __name__ == "__main__":
    main()
