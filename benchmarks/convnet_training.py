"""The ConvNet's training on the one path: in memory, from a packed file, and the solver it
replaced, side by side in one run.

    LOGICAT_DATA=../shared/data/catvnoncat python benchmarks/convnet_training.py \
        [--epochs 30] [--repeats 3] [--threads N] [--baseline-rev 66544d2] [--profile]

Rows (the default recipe on the 209 training images, ``--epochs`` epochs each; the per-epoch
cost does not depend on the run's length, so the ratios hold for the default 120):

- B: the ConvNet's solver at git revision ``--baseline-rev`` (before it joined the one
  training path: its own schedule, the images held as one float tensor), run from that
  revision's ``src/`` in a subprocess (``git archive``);
- M: ``training.fit.fit`` on the images in memory (uint8, converted a batch at a time);
- F: ``training.fit.fit`` on the same images in a file of the layout ``logicat pack`` writes
  (``--train-file``; chunks of 256 images, the cat file's order): each mini-batch's rows read
  from the HDF5 file when they are trained on.

- R: a residual network of about the same FLOPs (``residual_network``: strided 1x1 shortcuts,
  so channels-first), trained by ``NetworkClassifier``'s path: its rate per FLOP against M's;
  R8: the "resnet8" preset (average-pool shortcuts, channels-last).
- P1, P2: ``logicat train --model convnet -n EPOCHS`` end to end (a fresh process: start-up,
  the data, the fit, the accuracies, the model file) in one process with ``--threads`` torch
  threads, and with ``--nproc 2`` (torchrun, gloo, one thread each: each process augments the
  whole batch and trains on half of it, the gradients and batch-norm statistics summed).

Each row: the median wall time of ``--repeats`` fits (rows round-robin, so a busy spell on a
shared machine hits them alike) and its speed against B and M; and whether its costs equal B's
(M must, bit for bit: the same batches, the same schedule; F's channel statistics are summed in
float64 from the file, B's and M's in float32 by torch, so F agrees to ~1e-6). Targets (the
model-vocabulary issue): M no slower than B; F >= 0.8x M. GFLOP/s: the convolutions' and dense
layers' floating-point operations of the fit (``step_flops``) per second of the row's time, and
its share of the cores' fp32 peak (``fp32_peak``; P1 and P2 include start-up).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

_BASELINE = """
import json, sys, time
import numpy as np, torch
torch.set_num_threads({threads})
from logicat import load_catvnoncat
try:
    from logicat.training.fit import fit as fit_convnet
    from logicat.training.dense_fit import prepare  # noqa: F401  (one fit for every model)
except ImportError:  # a revision before the one fit
    try:
        from logicat.training.image_fit import fit_convnet
    except ImportError:  # a revision before its rename
        from logicat.training.minibatch import fit_convnet
from logicat.training.hyperparameters import CONVNET_DEFAULTS
d = load_catvnoncat()
params = {{**CONVNET_DEFAULTS, "max_iter": {epochs}, "device": "cpu"}}
start = time.perf_counter()
done = fit_convnet(params, d.train_x, d.train_y)
print(json.dumps({{"seconds": time.perf_counter() - start,
                  "costs": done.result.cost_history.tolist()}}))
"""


def baseline(src: Path, epochs: int, threads: int) -> tuple[float, np.ndarray]:
    """B: one fit by the old revision's code, in its own process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", _BASELINE.format(epochs=epochs,
                                                                  threads=threads)],
                         env=env, check=True, capture_output=True, text=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    return got["seconds"], np.array(got["costs"])


def current(images, y, epochs: int) -> tuple[float, np.ndarray]:
    """M or F: one fit on this checkout's one path."""
    from logicat.training.fit import fit as fit_convnet
    from logicat.training.hyperparameters import CONVNET_DEFAULTS

    params = {**CONVNET_DEFAULTS, "max_iter": epochs, "device": "cpu"}
    start = time.perf_counter()
    done = fit_convnet(params, images, y)
    return time.perf_counter() - start, done.result.cost_history


def command(tmp: Path, epochs: int, threads: int, nproc: int) -> tuple[float, np.ndarray]:
    """P1 / P2: ``logicat train --model convnet`` end to end, in 1 or ``nproc`` processes."""
    from safetensors.numpy import load_file

    out = tmp / f"p{nproc}.safetensors"
    args = [sys.executable, "-m", "logicat", "train", "--model", "convnet", "-n", str(epochs),
            "--device", "cpu", "--print-every", "0", "-o", str(out)]
    env = dict(os.environ, OMP_NUM_THREADS=str(max(1, threads // nproc)))
    if nproc > 1:
        args += ["--nproc", str(nproc)]
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=env, cwd=tmp)
    seconds = time.perf_counter() - start
    history = load_file(out)["cost_history"]
    out.unlink()
    return seconds, history


def step_flops(image_size: int = 64, net=None) -> float:
    """Floating-point operations of one training image through ``net`` (a list of layers; the
    default ConvNet's without): a multiply-add is 2; the forward pass of each conv2d and dense
    layer - inside residual blocks too - then its backward pass twice that (the gradient by the
    weights and by the input; the first layer's input needs none). Batch norm, ReLU, pooling,
    the residual sums and the optimizer are left out: a lower bound."""
    from logicat.nn.convnet import ConvNetSpec, layers
    from logicat.training.hyperparameters import CONVNET_DEFAULTS

    if net is None:
        net = layers(ConvNetSpec(widths=CONVNET_DEFAULTS["widths"], image_size=image_size))
    first = [True]

    def count(lays, shape) -> float:
        total = 0.0
        for lay in lays:
            if lay.type == "residual":
                total += count(lay.body, shape) + count(lay.shortcut or [], shape)
            elif lay.type in ("conv2d", "dense"):
                weight = lay.tensor_shapes(shape)[lay.tensor_names()["weight"]]
                out = lay.output_shape(shape, lay.type)
                macs = float(np.prod(weight)) * (float(np.prod(out[1:]))
                                                 if lay.type == "conv2d" else 1)
                total += 2 * macs * (2 if first[0] else 3)
                first[0] = False
            shape = lay.output_shape(shape, lay.type)
        return total

    return count(net, (3, image_size, image_size))


def residual_network():
    """R: a small residual network of about the default ConvNet's FLOPs (a 3x3 stem at 64x64,
    then a residual stage at 32x32 and two that halve the side and double the width, each with
    a 1x1 convolution's shortcut), as ``NetworkClassifier`` trains it."""
    from logicat.layers import (
        BatchNorm,
        Conv2d,
        Dense,
        GlobalAvgPool,
        MaxPool,
        ReLU,
        Residual,
    )

    def block(width, stride=1):
        return [Residual([Conv2d(width, stride=stride), BatchNorm(), ReLU(), Conv2d(width),
                          BatchNorm()]), ReLU()]

    return [Conv2d(16), BatchNorm(), ReLU(), MaxPool(), *block(16), *block(32, 2),
            *block(64, 2), GlobalAvgPool(), Dense(1)]


def network(images, y, epochs: int, layers=None) -> tuple[float, np.ndarray]:
    """R: one fit of ``residual_network`` (or ``layers``: "resnet8", R8) on the one path (the
    default recipe otherwise)."""
    from logicat.training.fit import fit as fit_convnet
    from logicat.training.hyperparameters import NETWORK_DEFAULTS

    params = {**NETWORK_DEFAULTS, "layers": layers or residual_network(), "max_iter": epochs,
              "device": "cpu"}
    start = time.perf_counter()
    done = fit_convnet(params, images, y)
    return time.perf_counter() - start, done.result.cost_history


def fp32_peak() -> tuple[float, str]:
    """(FLOP/s, how): cores x FMA lanes x 2 x 2 FMA units x clock; the lanes are 16 with
    AVX-512, 8 with AVX2 (the clock: /proc/cpuinfo's, without turbo)."""
    from logicat.core.machine import usable_cpus

    text = Path("/proc/cpuinfo").read_text()
    mhz = float(next(line.split(":")[1] for line in text.splitlines()
                     if line.startswith("cpu MHz")))
    lanes = 16 if " avx512f" in text else 8
    cores = usable_cpus()
    return cores * lanes * 2 * 2 * mhz * 1e6, (f"{cores} cores x {lanes} lanes x 2 (FMA) x 2 "
                                               f"units x {mhz / 1000:.2f} GHz")


def pack_like(path: Path, data) -> Path:
    """The training images in the layout ``logicat pack`` writes (chunks of 256 images), in
    the cat file's order, so that F trains on M's batches."""
    import h5py

    from logicat.data.pack import CHUNK_IMAGES

    m = len(data.train_y)
    with h5py.File(path, "w") as f:
        f.create_dataset("train_set_x", data=data.train_x,
                         chunks=(min(CHUNK_IMAGES, m), *data.train_x.shape[1:]))
        f.create_dataset("train_set_y", data=data.train_y.astype(np.int64))
        f.create_dataset("list_classes", data=np.array([c.encode() for c in data.classes]))
    return path


def profile(data, epochs: int, rows: int = 18) -> None:
    """Where an epoch's time goes: ``epochs`` epochs of the default fit under torch.profiler,
    the operators by their own CPU time (the first epoch, which warms up, is not profiled)."""
    import torch
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from logicat.nn.convnet import ConvNetSpec
    from logicat.training.examples import InMemoryImages
    from logicat.training.hyperparameters import CONVNET_DEFAULTS
    from logicat.training.image_solver import ConvNetSolver
    from logicat.training.loop import Trainer

    hyper = {**CONVNET_DEFAULTS, "device": "cpu"}
    spec = ConvNetSpec(widths=hyper["widths"], image_size=data.train_x.shape[1])
    solver = ConvNetSolver(spec, InMemoryImages(data.train_x), data.train_y,
                           np.arange(len(data.train_y)), hyper, torch.device("cpu"))
    def train(n: int) -> None:  # n epochs of the one loop at a constant rate
        Trainer.of({"max_iter": n, "learning_rate": 1e-3}).run(
            solver, data=solver.batches, draws=solver.draws)

    train(1)  # warm-up
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        train(epochs)
        seconds = time.perf_counter() - start
    flops = step_flops() * len(data.train_y) * epochs
    print(f"profile: {epochs} epoch(s), {seconds:.2f} s, {flops / seconds / 1e9:.1f} GFLOP/s "
          f"(conv and dense); {torch.get_num_threads()} threads")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--baseline-rev", default="66544d2")
    parser.add_argument("--rows", default="B,M,F,P1,P2,R,R8",
                        help="the rows to run (B and M are always among them)")
    parser.add_argument("--profile", action="store_true",
                        help="profile --epochs epochs of the default fit instead")
    args = parser.parse_args()

    import torch

    from logicat import load_catvnoncat
    from logicat.data.chunks import H5Images

    torch.set_num_threads(args.threads)
    data = load_catvnoncat()
    if args.profile:
        return profile(data, args.epochs)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline_rev, "src"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        packed = pack_like(tmp / "train.h5", data)
        with H5Images(packed) as source:
            rows = {
                "B": lambda: baseline(tmp / "src", args.epochs, args.threads),
                "M": lambda: current(data.train_x, data.train_y, args.epochs),
                "F": lambda: current(source, source.y, args.epochs),
                "P1": lambda: command(tmp, args.epochs, args.threads, 1),
                "P2": lambda: command(tmp, args.epochs, args.threads, 2),
                "R": lambda: network(data.train_x, data.train_y, args.epochs),
                "R8": lambda: network(data.train_x, data.train_y, args.epochs, "resnet8"),
            }
            asked = {"B", "M", *args.rows.split(",")}
            rows = {key: run for key, run in rows.items() if key in asked}
            times: dict[str, list[float]] = {k: [] for k in rows}
            costs: dict[str, np.ndarray] = {}
            for _ in range(args.repeats):
                for key, run in rows.items():
                    seconds, history = run()
                    times[key].append(seconds)
                    costs[key] = history

    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"ConvNet default recipe, 209 images, {args.epochs} epochs; {args.threads} torch "
          f"thread(s); median of {args.repeats}; baseline B = {args.baseline_rev}")
    labels = {"B": f"B  ConvNetSolver at {args.baseline_rev}",
              "M": "M  one path, images in memory",
              "F": "F  one path, --train-file (HDF5)",
              "P1": "P1 logicat train, 1 process",
              "P2": "P2 logicat train --nproc 2",
              "R": "R  a residual network, in memory",
              "R8": "R8 the resnet8 preset, in memory"}
    labels = {key: label for key, label in labels.items() if key in times}
    flops, (peak, how) = step_flops() * len(data.train_y) * args.epochs, fp32_peak()
    from logicat.nn.convnet import spec_of
    from logicat.training.hyperparameters import NETWORK_DEFAULTS

    residual = spec_of({**NETWORK_DEFAULTS, "layers": residual_network()}, 64).layers()
    rates = {key: flops for key in labels}
    rates["R"] = step_flops(net=residual) * len(data.train_y) * args.epochs
    resnet8 = spec_of({**NETWORK_DEFAULTS, "layers": "resnet8"}, 64).layers()
    rates["R8"] = step_flops(net=resnet8) * len(data.train_y) * args.epochs
    print(f"R: {step_flops(net=residual) / 1e6:.1f}, R8: {step_flops(net=resnet8) / 1e6:.1f} "
          "MFLOP per training image")
    print(f"{step_flops() / 1e6:.1f} MFLOP per training image (conv and dense only, a lower "
          f"bound); fp32 peak {peak / 1e9:.0f} GFLOP/s = {how}")
    print(f"{'row':40s} {'s/fit':>8s} {'s/epoch':>8s} {'vs B':>7s} {'vs M':>7s} {'GFLOP/s':>8s} "
          f"{'peak':>5s}  costs vs B")
    for key, label in labels.items():
        gap = float(np.max(np.abs(costs[key] - costs["B"])))
        same = ("another network" if key in ("R", "R8") else "equal" if gap == 0
                else f"max |diff| {gap:.1e}")
        rate = rates[key] / median[key]
        print(f"{label:40s} {median[key]:8.2f} {median[key] / args.epochs:8.3f} "
              f"{median['B'] / median[key]:6.2f}x {median['M'] / median[key]:6.2f}x "
              f"{rate / 1e9:8.1f} {rate / peak:5.0%}  {same}")


if __name__ == "__main__":
    main()
