"""The torch engine on a CUDA GPU: checked against NumPy, then timed side by side.

    PYTHONPATH=src python3 benchmarks/gpu.py [DATA_DIR] [--iterations 2000] [--repeat 5]

DATA_DIR holds train_catvnoncat.h5 and test_catvnoncat.h5 (default: .device-data/, else
$LOGICAT_DATA). Needs only torch, numpy and h5py: the script loads the HDF5 files with h5py,
computes its NumPy reference with plain NumPy (the lesson's gradient descent, written out
below), and imports logicat's torch engine without the rest of logicat (no scikit-learn, scipy,
click or Pillow needed on the GPU machine).

1. Checks (float64): the cost history of the torch engine - autograd + SGD, and the CUDA-graph
   replay - agrees with NumPy's to 1e-10, and the train/test accuracies are identical; float32
   agrees to 1e-5. The cost table (every 100 iterations) is printed side by side.
2. Timings of the reference run (2000 full-batch iterations, lr 0.005, cross-entropy), each the
   median of --repeat runs after a warm-up, data already on the GPU, in float32 and float64:
   - idiomatic PyTorch: nn.Linear + BCEWithLogitsLoss + torch.optim.SGD, the cost read every
     100 iterations (the baseline);
   - logicat torch engine, mode="autograd" (the same module/loss/SGD, costs kept on the GPU);
   - logicat torch engine, mode="cuda_graph": the fused loop captured once and replayed, end to
     end (capture included), with the cost table printed through a cost-only callback (as
     ``logicat train`` prints it), and the replay loop alone.
   Ratios are printed against the baseline. The target for the CUDA-graph path: <= 0.03 s.

Without CUDA it prints a message and exits 0; ``--device cpu`` runs the same checks and timings
on the CPU (the "fused" loop stands in for the CUDA graph), which is how the tests exercise it.
Exit status 1 if a check fails.
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


def import_engine():
    """``logicat.training.torch_solver`` (with ``train_torch``): it needs only torch and NumPy;
    ``import logicat`` imports nothing else until a name is used."""
    sys.path.insert(0, str(ROOT / "src"))
    from logicat.training import torch_solver as solver

    return solver


def load_h5(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Features (m, n) = pixels / 255 and labels (m,) of one cat-data HDF5 file."""
    import h5py

    with h5py.File(path, "r") as f:
        x_name = next(name for name in f if name.endswith("_set_x"))
        images = f[x_name][()]
        labels = f[x_name[:-1] + "y"][()].astype(np.int64)
    return images.reshape(len(images), -1).astype(np.float64) / 255.0, labels


def numpy_reference(X, y, lr, iterations):
    """The lesson's full-batch gradient descent with cross-entropy, in X's dtype."""
    m, n = X.shape
    w, b = np.zeros(n, X.dtype), X.dtype.type(0)
    costs = np.empty(iterations)
    for i in range(iterations):
        z = X @ w + b  # (m,) logits
        a = 1.0 / (1.0 + np.exp(-z))
        costs[i] = np.mean(np.logaddexp(0, z) - y * z)  # cross-entropy from the logits
        dz = a - y
        w = w - lr * (X.T @ dz / m)
        b = b - lr * np.mean(dz)
    return w, float(b), costs


def accuracy(X, y, w, b) -> float:
    predicted = (1.0 / (1.0 + np.exp(-(X @ w + b))) > 0.5).astype(np.int64)
    return float(100 - np.mean(np.abs(predicted - y)) * 100)


def idiomatic(torch, X, y, lr, iterations):
    """The textbook PyTorch loop: nn.Linear, BCEWithLogitsLoss, SGD; cost read every 100."""
    model = torch.nn.Linear(X.shape[1], 1, dtype=X.dtype, device=X.device)
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    criterion = torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    table = []
    for i in range(iterations):
        optimizer.zero_grad()
        loss = criterion(model(X).squeeze(1), y)
        loss.backward()
        optimizer.step()
        if i % 100 == 0:
            table.append(loss.item())
    return table


class CostTable:
    """A callback like logicat's PrintCost (every 100 iterations), collecting the lines; it is
    ``cost_only``, so the CUDA-graph loop calls it a chunk at a time."""

    cost_only = True

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def __call__(self, state) -> None:
        if state.iteration % 100 == 0:
            self.lines.append(f"Cost after iteration {state.iteration}: {state.cost:f}")


def timed(torch, device, fn, repeat):
    """Median wall-clock seconds of fn() over ``repeat`` runs, after one warm-up run; NaN (and
    the error printed) if it fails."""
    try:
        fn()
    except Exception as err:
        print(f"    FAILED: {type(err).__name__}: {err}")
        return float("nan")
    times = []
    for _ in range(repeat):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def time_all(torch, trainer, device, Xd, yd, lr, T, graph_mode, repeat) -> dict[str, float]:
    """Seconds per run of each contender, the baseline first."""

    def engine(mode, **options):
        return trainer.train_torch(
            Xd, yd, learning_rate=lr, max_iter=T, device=device, mode=mode, **options
        )

    times = {
        "idiomatic PyTorch (nn.Linear + BCEWithLogitsLoss + SGD)": timed(
            torch, device, lambda: idiomatic(torch, Xd, yd, lr, T), repeat
        ),
        "logicat torch engine, autograd + SGD": timed(
            torch, device, lambda: engine("autograd"), repeat
        ),
    }
    table: list[str] = []
    times[f"logicat torch engine, {graph_mode}, cost table through a callback"] = timed(
        torch, device, lambda: engine(graph_mode, callbacks=[CostTable(table)]), repeat
    )
    for steps in sorted({min(200, T), T}):
        label = f"logicat torch engine, {graph_mode} ({steps} steps per graph)"
        times[f"{label}, end to end"] = timed(
            torch, device, lambda steps=steps: engine(graph_mode, graph_steps=steps), repeat
        )
        laps: list[dict] = [{} for _ in range(repeat)]
        try:
            for lap in laps:  # the loop alone, from the engine's own clock
                engine(graph_mode, graph_steps=steps, timings=lap)
        except Exception as err:
            print(f"    FAILED: {type(err).__name__}: {err}")
            continue
        capture = statistics.median(lap.get("capture_s", 0.0) for lap in laps)
        times[f"{label}, loop only (capture: {capture:.4f} s)"] = statistics.median(
            lap["loop_s"] for lap in laps
        )
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=None)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    args = parser.parse_args(argv)

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            f"No CUDA device (torch {torch.__version__}): nothing to measure. Run this on a CUDA "
            "machine, or with --device cpu for a dry run."
        )
        return 0
    data_dir = Path(
        args.data_dir
        or (".device-data" if Path(".device-data").is_dir() else os.environ.get("LOGICAT_DATA", ""))
    )
    if not (data_dir / "train_catvnoncat.h5").is_file():
        print(f"Error: {data_dir}/train_catvnoncat.h5 not found; pass the data folder.")
        return 1
    trainer = import_engine()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device: {name}; torch {torch.__version__}; {args.iterations} iterations")
    X64, y_train = load_h5(data_dir / "train_catvnoncat.h5")
    Xt64, y_test = load_h5(data_dir / "test_catvnoncat.h5")
    lr, T = 0.005, args.iterations
    graph_mode = "cuda_graph" if device.type == "cuda" else "fused"
    ok = True

    # 1. checks against NumPy ---------------------------------------------------------------
    for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-5)):
        X, Xt = X64.astype(dtype), Xt64.astype(dtype)
        y = y_train.astype(dtype)
        w_ref, b_ref, ref = numpy_reference(X, y, dtype(lr), T)
        acc_ref = (accuracy(X, y_train, w_ref, b_ref), accuracy(Xt, y_test, w_ref, b_ref))
        Xd, yd = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
        results = {}
        for mode in ("autograd", graph_mode):
            try:
                r = trainer.train_torch(
                    Xd, yd, learning_rate=lr, max_iter=T, device=device, mode=mode
                )
            except Exception as err:  # report it and go on: the other numbers still count
                print(
                    f"check {np.dtype(dtype).name} {mode:>10}: FAILED: {type(err).__name__}: {err}"
                )
                ok, results[mode] = False, None
                continue
            err = float(np.max(np.abs(r.cost_history - ref)))
            acc = (
                accuracy(X, y_train, r.coef, r.intercept),
                accuracy(Xt, y_test, r.coef, r.intercept),
            )
            good = err <= tol and acc == acc_ref
            ok &= good
            results[mode] = r
            print(
                f"check {np.dtype(dtype).name} {mode:>10}: max |cost - numpy| = {err:.2e} "
                f"(<= {tol:g}: {'ok' if err <= tol else 'FAIL'}); accuracy train/test "
                f"{acc[0]:.4f}/{acc[1]:.4f} % vs numpy {acc_ref[0]:.4f}/{acc_ref[1]:.4f} "
                f"({'same' if acc == acc_ref else 'DIFFERENT'})"
            )
        if dtype is np.float64:
            print(f"{'iteration':>9}  {'numpy':>10}  {'autograd':>10}  {graph_mode:>10}")
            for i in range(0, T, 100):
                row = [ref[i]] + [
                    np.nan if r is None else r.cost_history[i] for r in results.values()
                ]
                print(f"{i:>9}  " + "  ".join(f"{c:10.6f}" for c in row))

    # 2. timings ----------------------------------------------------------------------------
    print(f"\ntimes for {T} iterations (median of {args.repeat}; data on the device):")
    for dtype in (torch.float32, torch.float64):
        Xd = torch.from_numpy(X64).to(device=device, dtype=dtype)
        yd = torch.from_numpy(y_train).to(device=device, dtype=dtype)
        times = time_all(torch, trainer, device, Xd, yd, lr, T, graph_mode, args.repeat)
        base = next(iter(times.values()))
        print(f"  {str(dtype).replace('torch.', '')}:")
        for label, seconds in times.items():
            print(f"    {seconds:9.4f} s  {base / seconds:7.1f}x  {label}")
    print("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
