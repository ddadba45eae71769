"""Per-step overhead of the two graph modes on the cat data: dynamic (define-by-run) vs static.

One "step" is one evaluation of the objective: cost, dJ/dw and dJ/db at new parameters.

- numpy:    the hand-derived gradients (``logicat.nn.loss.cost_and_gradients``), no graph at all;
- dynamic:  the engine records a new graph every step (new Tensor objects, closures,
            a topological sort), then backpropagates: PyTorch's way;
- static:   the graph was defined once with placeholders; each step feeds data, replays the
            recorded forward rules and the same backward rules in the stored order:
            TensorFlow 1.x's way.

The overhead of a mode is its time per step minus numpy's. On the full cat data (209 x 12288)
the two matrix-vector products dominate; a tiny problem (8 x 4) shows the bookkeeping alone.

    python benchmarks/graph_modes.py [--steps 50] [--repeat 30] [--blas-threads 1]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from logicat import cost_and_gradients, images_to_features, load_catvnoncat
from logicat.training.objectives import make_objective, static_objective


def as_wb(objective, dtype):
    """An objective of [w, b] as the lesson's (w, b) -> (cost, dw, db)."""

    def wb(w, b):
        cost, (dw, db) = objective([w, np.array([b], dtype)])
        return cost, dw, float(db[0])

    return wb


def per_step(objective, w, b, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        objective(w, b)
    return (time.perf_counter() - start) / steps


def measure(X: np.ndarray, y: np.ndarray, steps: int, repeat: int) -> dict[str, float]:
    modes = {
        "numpy": lambda w, b: cost_and_gradients(w, b, X, y),
        "dynamic": as_wb(make_objective("autograd", X, y), X.dtype),
        "static": as_wb(static_objective(X, y, [(X.shape[1],), (1,)]), X.dtype),
    }
    w, b = np.random.default_rng(0).normal(0, 0.01, X.shape[1]), 0.0
    best = dict.fromkeys(modes, np.inf)
    for _ in range(repeat):  # interleaved, best of `repeat`: load on the machine hits all modes
        for name, objective in modes.items():
            best[name] = min(best[name], per_step(objective, w, b, steps))
    return best


def report(title: str, times: dict[str, float]) -> None:
    base = times["numpy"]
    print(f"\n{title}")
    print(f"{'mode':<9} {'per step':>10} {'overhead vs numpy':>18}")
    for name, t in times.items():
        overhead = "" if name == "numpy" else f"{(t - base) * 1e6:+.1f} us"
        print(f"{name:<9} {t * 1e6:>7.1f} us {overhead:>18}".rstrip())
    dyn, st = times["dynamic"] - base, times["static"] - base
    if st > 0:
        print(f"dynamic / static overhead: {dyn / st:.1f}x")
    print(f"dynamic / static time per step: {times['dynamic'] / times['static']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="steps per timing round")
    parser.add_argument("--repeat", type=int, default=30, help="best of this many rounds")
    parser.add_argument("--blas-threads", type=int, default=1, help="0: the library's default")
    args = parser.parse_args()
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.blas_threads, user_api="blas")

    data = load_catvnoncat()
    X = images_to_features(data.train_x)
    y = data.train_y.astype(X.dtype)
    print(
        f"Static vs dynamic graphs (float64; {os.cpu_count()} CPUs; "
        f"BLAS threads: {args.blas_threads or 'default'}; "
        f"best of {args.repeat} x {args.steps} steps)"
    )
    report(f"cat data, m = {X.shape[0]}, n = {X.shape[1]}", measure(X, y, args.steps, args.repeat))
    rng = np.random.default_rng(0)
    X_tiny, y_tiny = rng.normal(size=(8, 4)), (rng.random(8) > 0.5).astype(float)
    report("tiny problem, m = 8, n = 4 (bookkeeping only)",
           measure(X_tiny, y_tiny, args.steps * 20, args.repeat))


if __name__ == "__main__":
    main()
