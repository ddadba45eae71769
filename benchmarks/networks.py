"""The course's deep network (12288 -> 20 -> 7 -> 5 -> 1, relu, lecun_normal, seed 1, learning
rate 0.0075, 2500 full-batch iterations) on the cat data: logicat against the baselines.

    python benchmarks/networks.py [--repeats 3] [--threads N] [--skip-autograd]

The baselines (issue "Hidden layers"), measured side by side in this run:

- L: the course's own NumPy code (``tests/networks/course.py``: examples as columns, its
  forward and backward passes), float64 - the reference every cost is compared with;
- P: idiomatic PyTorch on the CPU: ``nn.Sequential`` of ``nn.Linear`` + ``nn.ReLU``,
  ``BCEWithLogitsLoss``, ``optim.SGD``, full batch, float32, from the same initial weights.

logicat's rows say which idea gave what: the row layout with the hand-derived backward pass
(``solver="primal"``), then keeping the first layer in the span of the examples
(``solver="gram"``, W1 = W1_0 + X^T C: n_1 m^2 work per step for the first layer instead of
n_1 n_x m; the default ``auto`` picks it here), and the other engines on the same network.

Each row: the median wall time of ``--repeats`` runs (rows round-robin, so a busy spell on a
shared machine hits them alike), its speed-up over L and over P, and the largest difference of
its 2500 costs from L's (float64 rows must be <= 1e-10). Targets: the default fit >= 20x L and
>= 10x P. Every row uses the same BLAS/torch thread count (``--threads``, default all cores).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the course's code lives with the tests that check against it

from tests.networks import course  # noqa: E402

HIDDEN, LEARNING_RATE, ITERATIONS, SEED = (20, 7, 5), 0.0075, 2500, 1


def course_run(X, y):
    """L: the course's L_layer_model; returns its costs."""
    _, costs = course.L_layer_model(np.ascontiguousarray(X.T), y.reshape(1, -1),
                                    [X.shape[1], *HIDDEN, 1], LEARNING_RATE, ITERATIONS,
                                    seed=SEED, scheme="deep")
    return costs


def pytorch_run(X, y):
    """P: nn.Sequential + BCEWithLogitsLoss + optim.SGD, float32, full batch; its costs."""
    import torch
    from torch import nn

    from logicat.nn.init import initial_params

    params = initial_params("lecun_normal", X.shape[1], HIDDEN, random_state=SEED)
    sizes = [X.shape[1], *HIDDEN, 1]
    layers = []
    for k in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[k], sizes[k + 1]), nn.ReLU()]
    net = nn.Sequential(*layers[:-1])
    with torch.no_grad():  # the course's initial weights, so the costs are comparable
        for k, linear in enumerate(net[::2]):
            linear.weight.copy_(torch.from_numpy(np.atleast_2d(params[2 * k].T).copy()))
            linear.bias.copy_(torch.from_numpy(np.atleast_1d(params[2 * k + 1]).copy()))
    inputs = torch.from_numpy(X.astype(np.float32))
    targets = torch.from_numpy(y.astype(np.float32)).reshape(-1, 1)
    loss_fn, optimizer = nn.BCEWithLogitsLoss(), torch.optim.SGD(net.parameters(), LEARNING_RATE)
    costs = np.empty(ITERATIONS)
    for i in range(ITERATIONS):
        optimizer.zero_grad()
        loss = loss_fn(net(inputs), targets)
        loss.backward()
        optimizer.step()
        costs[i] = loss.item()
    return costs


def logicat_run(X, y, **params):
    from logicat import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=HIDDEN, init="lecun_normal", random_state=SEED,
                        learning_rate=LEARNING_RATE, max_iter=ITERATIONS, **params)
    return clf.fit(X, y).cost_history_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--skip-autograd", action="store_true",
                        help="Leave out logicat's own graph engine (the slowest row).")
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    from logicat import images_to_features, load_catvnoncat

    torch.set_num_threads(args.threads)
    data = load_catvnoncat()
    X, y = images_to_features(data.train_x), data.train_y
    rows = {
        "L  the course's NumPy code (float64)": lambda: course_run(X, y),
        "P  PyTorch nn.Sequential + SGD (float32)": lambda: pytorch_run(X, y),
        "logicat primal: rows layout, hand backward": lambda: logicat_run(X, y, solver="primal"),
        "logicat gram: first layer in the span (default)": lambda: logicat_run(X, y),
        "logicat gram, float32": lambda: logicat_run(X, y, dtype="float32"),
        "logicat torch engine (float64, CPU)":
            lambda: logicat_run(X, y, engine="torch", device="cpu"),
    }
    if not args.skip_autograd:
        rows["logicat autograd engine (own graph)"] = lambda: logicat_run(X, y,
                                                                          engine="autograd")
    times: dict[str, list[float]] = {name: [] for name in rows}
    costs: dict[str, np.ndarray] = {}
    with threadpool_limits(args.threads):
        for _ in range(args.repeats):
            for name, run in rows.items():
                start = time.perf_counter()
                costs[name] = run()
                times[name].append(time.perf_counter() - start)

    medians = {name: statistics.median(t) for name, t in times.items()}
    names = list(rows)
    course_costs, L, P = costs[names[0]], medians[names[0]], medians[names[1]]
    print(f"deep network {' -> '.join(map(str, (X.shape[1], *HIDDEN, 1)))}, {ITERATIONS} "
          f"iterations, m = {len(y)}; median of {args.repeats}, {args.threads} thread(s)")
    print(f"{'':<50} {'seconds':>8} {'vs L':>8} {'vs P':>8} {'max |J - J_L|':>14}")
    for name in names:
        diff = float(np.max(np.abs(costs[name] - course_costs)))
        print(f"{name:<50} {medians[name]:>8.3f} {L / medians[name]:>7.1f}x "
              f"{P / medians[name]:>7.1f}x {diff:>14.2e}")
    default = medians[names[3]]
    agree = max(float(np.max(np.abs(costs[n] - course_costs))) for n in names
                if "float32" not in n and n != names[0])
    for name in names:  # where a float32 run leaves the course's path, and how far it goes
        gap = np.abs(costs[name] - course_costs)
        if gap.max() > 1e-4:
            first = int(np.argmax(gap > 1e-4))
            print(f"  {name.strip()}: within 1e-4 of L for {first} iterations, then up to "
                  f"{gap.max():.2e} (at iteration {int(np.argmax(gap))}); "
                  f"final cost {costs[name][-1]:.6f} against L's {course_costs[-1]:.6f}")
    print(f"targets: default >= 20x L ({L / default:.1f}x), >= 10x P ({P / default:.1f}x); "
          f"float64 rows agree with L to {agree:.1e} (<= 1e-10)")


if __name__ == "__main__":
    main()
