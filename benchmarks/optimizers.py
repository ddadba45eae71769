"""Iterations to the lesson's reference cost, per optimizer; and the cost of the general loop.

    python benchmarks/optimizers.py [--repeats 3]

1. The reference cost is J after the lesson's run (plain full-batch GD, learning rate 0.005,
   2000 iterations, zero init, cross-entropy, float64, pixels / 255). For each optimizer at the
   same learning rate, the first iteration whose cost is <= the reference cost is counted
   (iterations, not seconds: the counts are deterministic). Standardised features are shown too.
2. The cost of the general machinery: ``gradient_descent`` (the lesson's loop) against the
   estimator's primal solver (``LogisticRegression(solver="primal")``: the same one loop with
   the bookkeeping of mini-batches, optimizers and snapshots), both on the fused kernel, the
   same 2000 iterations side by side, alternating; the ratio of their median times.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from logicat import LogisticRegression, gradient_descent, images_to_features, load_catvnoncat
from logicat.engines.numba.fused import FusedObjective


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data = load_catvnoncat()
    X, y = images_to_features(data.train_x), data.train_y
    reference = LogisticRegression().fit(X, y)
    target = reference.cost_history_[-1]
    print(f"reference cost (plain GD, lr 0.005, 2000 iterations): {target:.6f}")
    print(f"{'optimizer':<28} {'iterations':>10} {'vs plain GD':>12}")
    print(f"{'gd':<28} {2000:>10} {1.0:>11.2f}x")
    for label, params in [
        ("momentum (mu 0.9)", dict(optimizer="momentum")),
        ("nesterov (mu 0.9)", dict(optimizer="nesterov")),
        ("adam (0.9, 0.999)", dict(optimizer="adam")),
        ("gd, standardize=True", dict(standardize=True)),
        ("adam, standardize=True", dict(optimizer="adam", standardize=True)),
    ]:
        clf = LogisticRegression(**params, callbacks=[lambda s: s.cost <= target]).fit(X, y)
        n = clf.n_iter_ - 1 if clf.cost_history_[-1] <= target else None
        shown = f"{n:>10} {2000 / n:>11.2f}x" if n else f"{'> 2000':>10} {'-':>12}"
        print(f"{label:<28} {shown}")

    objective = FusedObjective(X, y.astype(np.float64), "cross_entropy")
    times: dict[str, list[float]] = {"gradient_descent (lesson loop)": [],
                                     "fit, solver='primal'": []}
    for _ in range(args.repeats):
        t = time.perf_counter()
        gradient_descent(objective, np.zeros(X.shape[1]), 0.0, learning_rate=0.005, max_iter=2000)
        times["gradient_descent (lesson loop)"].append(time.perf_counter() - t)
        t = time.perf_counter()
        LogisticRegression(solver="primal").fit(X, y)
        times["fit, solver='primal'"].append(time.perf_counter() - t)
    base = statistics.median(times["gradient_descent (lesson loop)"])
    print(f"\n2000 full-batch iterations, median of {args.repeats} alternating runs:")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<32} {med:8.3f} s  {med / base:6.3f}x")


if __name__ == "__main__":
    main()
