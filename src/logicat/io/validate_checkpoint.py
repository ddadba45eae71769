"""The checkpoint half of the one validator (``validate`` has the header and model files).

A checkpoint (``training.loop.Snapshot`` on disk) claims the run it belongs to, where it
stopped, the state of its random generator, optimizer and rules, and its tensors; each claim
is checked here before ``--resume`` uses it, with the one-line ``<file>: ...`` refusal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from logicat.core.errors import ParameterError, ShapeError
from logicat.io.validate import (
    MAX_VALUES,
    check_hyperparameters,
    check_tensors,
    fail,
    is_int,
    model_architecture,
    short,
)
from logicat.nn.architectures import checkpoint_architecture
from logicat.nn.hyperparameters import CONSTRAINTS, CONVNET_CONSTRAINTS
from logicat.nn.layer import TRAINED_ROLES
from logicat.nn.layers import shapes as layer_shapes
from logicat.nn.layers import walk
from logicat.nn.optimizer_state import OPTIMIZERS, optimizer_state_shapes

CHECKPOINT_FORMAT = "logicat-checkpoint"
CHECKPOINT_VERSION = 4
#: 2: a dense solver's optimizer state by index (``optimizer.velocity.<i>``, ``optimizer.m.<i>``,
#: ``.v.<i>``, ``.t``), read by renaming (``renamed_state``); 3: every solver's by tensor name;
#: 4: the checkpoint names its layers (``architecture``, as a model file does)
CHECKPOINT_READS = (2, 3, 4)
KINDS = ("LogisticRegression", "MLPClassifier", "ConvNetClassifier", "NetworkClassifier")
#: each estimator's table of hyperparameters (the checkpoint's ``kind`` is who wrote it)
HYPERPARAMETERS = {"LogisticRegression": CONSTRAINTS, "MLPClassifier": CONSTRAINTS,
                   "ConvNetClassifier": CONVNET_CONSTRAINTS,
                   "NetworkClassifier": CONVNET_CONSTRAINTS}
#: the most words, and characters a word, a checkpoint's recorded command may have
_MAX_RUN_WORDS, _MAX_RUN_WORD = 512, 4096
#: the most bytes a torch generator's state may have (the CPU Mersenne Twister's is 5056)
_MAX_RNG_BYTES = 1 << 16
_BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM,
                   "MT19937": np.random.MT19937, "Philox": np.random.Philox,
                   "SFC64": np.random.SFC64}


def check_checkpoint(path: Path, meta: Mapping[str, Any], entries: Mapping[str, Any]) -> None:
    """Everything a checkpoint claims (``training.loop.Snapshot``): the run it belongs to,
    where it stopped, the state of the random generator, optimizer and rules, its tensors."""
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise fail(path, f"not a logicat checkpoint (format is not {CHECKPOINT_FORMAT!r}).")
    if not is_int(meta.get("format_version"), 0, 99) or (
            meta["format_version"] not in CHECKPOINT_READS):
        raise fail(path, f"checkpoint format version {short(meta.get('format_version'))} is "
                    f"not supported (this logicat reads versions "
                    f"{', '.join(map(str, CHECKPOINT_READS))}).")
    if meta.get("kind") not in KINDS:
        raise fail(path, f"the checkpoint's kind must be one of {', '.join(KINDS)}. "
                    f"Got {short(meta.get('kind'))}.")
    hyper = meta.get("hyperparameters")
    if not isinstance(hyper, dict):
        raise fail(path, f"the checkpoint's hyperparameters must be an object. "
                    f"Got {short(hyper)}.")
    check_hyperparameters(path, hyper, HYPERPARAMETERS[meta["kind"]])
    n, epoch = meta.get("n_features"), meta.get("epoch")
    for name, value in (("n_features", n), ("epoch", epoch)):
        if not is_int(value, 1, MAX_VALUES):
            raise fail(path, f"the checkpoint's {name} must be an int in [1, {MAX_VALUES}]. "
                        f"Got {short(value)}.")
    sha = meta.get("data_sha256")
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef"
                                                            for c in sha)):
        raise fail(path, f"the checkpoint's data_sha256 must be 64 hex digits. "
                    f"Got {short(sha)}.")
    # the update rule: the dense solvers' own word, else (an image network's) the
    # hyperparameter, checked by its table, whose default is AdamW
    optimizer = meta.get("optimizer")
    if optimizer is not None and optimizer not in OPTIMIZERS:
        raise fail(path, f"the checkpoint's optimizer must be one of "
                    f"{', '.join(OPTIMIZERS)}. Got {short(optimizer)}.")
    optimizer = optimizer or hyper.get("optimizer", "adamw")
    _check_rng_state(path, meta.get("rng_state"))
    _check_plateau(path, meta.get("plateau"))
    _check_run(path, meta.get("run"))
    start = meta.get("divergence_start")
    if start is not None and not (isinstance(start, int | float) and not isinstance(start, bool)
                                  and math.isfinite(start)):
        raise fail(path, f"the checkpoint's divergence_start must be a finite number or null. "
                    f"Got {short(start)}.")
    layers, shape = _layers(path, meta, hyper, n)
    floats = ("F64", "F32")
    shapes = layer_shapes(layers, shape)[0]
    params = {name: (shape, floats) for name, shape in shapes.items()}
    expected = {**params, "cost_history": ((epoch,), floats)}
    optional: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
        "val_cost_history": ((epoch,), floats)}
    held_out = entries.get("validation_indices")
    if held_out is not None:  # early stopping: the rows held out, and the best parameters
        shape_of = held_out.get("shape") if isinstance(held_out, dict) else None
        if not (isinstance(shape_of, list) and len(shape_of) == 1
                and is_int(shape_of[0], 1, MAX_VALUES)):
            raise fail(path, f"tensor 'validation_indices' must be 1-D. Got shape "
                        f"{short(shape_of)}.")
        optional["validation_indices"] = ((shape_of[0],), ("I64",))
        optional.update({f"best.{k}": v for k, v in params.items()})
    if len(shape) == 3:  # images, trained by torch: the run's generator and dropout's
        for name in ("rng.generator", "rng.dropout"):
            expected[name] = ((_rng_length(path, entries, name),), ("U8",))
        if hyper.get("average"):  # weight averaging: the average so far
            optional.update({f"average.{name}": v for name, v in params.items()})
            optional["average.n_averaged"] = ((1,), ("I64",))
    elif "rng.generator" in entries:  # the torch engine's shuffling generator (mini-batches)
        optional["rng.generator"] = ((_rng_length(path, entries, "rng.generator"),), ("U8",))
    trained = {name: shapes[name] for lay in walk(layers)  # not the statistics
               for role, name in lay.tensor_names().items() if role in TRAINED_ROLES}
    state = optimizer_state_shapes(trained, str(optimizer), float(hyper.get("momentum", 0.9)))
    optional.update({name: (shape, ("I64",) if name == "optimizer.step" else floats)
                     for name, shape in state.items()})
    check_tensors(path, entries, expected, optional)
    state = [name for name in optional if name.startswith("optimizer.")]
    present = [name for name in state if name in entries]
    if present and len(present) != len(state):  # all of the optimizer's state, or none yet
        missing = sorted(set(state) - set(present))
        raise fail(path, f"the optimizer state is incomplete: {', '.join(missing)} missing.")


def renamed_state(meta: Mapping[str, Any], names: list[str]) -> dict[str, str]:
    """{old name: new name} of a version-2 checkpoint's optimizer state, whose dense solvers
    named it by the index of the parameter in [W_1, b_1, ..., w, b] (``names``): to the one
    layout (``optimizer.<name>.<key>``, ``optimizer.step``). Nothing for another file: the
    checks that follow judge it as it is."""
    if meta.get("format_version") != 2 or meta.get("kind") not in KINDS[:2]:
        return {}
    hyper = meta.get("hyperparameters") if isinstance(meta.get("hyperparameters"), dict) else {}
    try:
        order = list(layer_shapes(*checkpoint_architecture(
            meta["kind"], hyper, int(meta["n_features"])))[0])
    except (ParameterError, TypeError, ValueError, KeyError, ShapeError):
        return {}
    out = {"optimizer.t": "optimizer.step"}
    for old, key in (("velocity", "momentum_buffer"), ("m", "exp_avg"), ("v", "exp_avg_sq")):
        out.update({f"optimizer.{old}.{i}": f"optimizer.{name}.{key}"
                    for i, name in enumerate(order)})
    return {old: new for old, new in out.items() if old in names}


def _layers(path: Path, meta: Mapping[str, Any], hyper: Mapping[str, Any], n: int
            ) -> tuple[list, tuple[int, ...]]:
    """The layers whose tensors the checkpoint holds, and one example's shape: the list it
    names (version 4: ``architecture``, checked as a model file's), or its estimator's preset
    (versions 2 and 3, ``nn.architectures.checkpoint_architecture``)."""
    if meta["format_version"] >= 4:
        layers, shape, _ = model_architecture(path, {"architecture": meta.get("architecture"),
                                                     "n_features": n, "format_version": 6})
        return layers, shape
    try:
        return checkpoint_architecture(meta["kind"], hyper, n)
    except ValueError as e:
        raise fail(path, str(e)) from None


def _rng_length(path: Path, entries: Mapping[str, Any], name: str) -> int:
    """The length of a saved torch generator state (uint8, 1-D, at most _MAX_RNG_BYTES)."""
    shape = entries.get(name, {}).get("shape") if isinstance(entries.get(name), dict) else None
    if not (isinstance(shape, list) and len(shape) == 1 and is_int(shape[0], 1, _MAX_RNG_BYTES)):
        raise fail(path, f"tensor {name!r} must be a torch generator's state, 1-D uint8 of at "
                    f"most {_MAX_RNG_BYTES} bytes. Got shape {short(shape)}.")
    return shape[0]


def _check_rng_state(path: Path, state: Any) -> None:
    """The shuffling generator's state, as numpy's PCG64 would accept it."""
    if state is None:
        return
    try:
        bit_generator = _BIT_GENERATORS[state["bit_generator"]]
        bit_generator().state = state
    except (TypeError, KeyError, ValueError, OverflowError):
        raise fail(path, f"the checkpoint's rng_state is not the state of a numpy random "
                    f"generator. Got {short(state)}.") from None


def _check_run(path: Path, run: Any) -> None:
    """What ``logicat train`` recorded of its run (``training.resume.Run``): its options as
    words of a command line, and the record of its data (a name and a SHA-256), or nothing."""
    if run is None:
        return
    command = run.get("command") if isinstance(run, dict) else None
    if not (isinstance(command, list) and len(command) <= _MAX_RUN_WORDS and all(
            isinstance(word, str) and len(word) <= _MAX_RUN_WORD and "\0" not in word
            for word in command)):
        raise fail(path, f"the checkpoint's run must record its command as at most "
                    f"{_MAX_RUN_WORDS} words of a command line. Got {short(run)}.")
    data = run.get("data")
    if data is None:
        return
    sha = data.get("sha256") if isinstance(data, dict) else None
    if not (isinstance(data.get("file") if isinstance(data, dict) else None, str)
            and isinstance(sha, str) and len(sha) == 64
            and all(c in "0123456789abcdef" for c in sha)):
        raise fail(path, f"the checkpoint's run must record its data as a name and a SHA-256 "
                    f"of 64 hex digits. Got {short(data)}.")


def _check_plateau(path: Path, state: Any) -> None:
    """The tol / early-stopping rule's state (``training.rules.Plateau.state``)."""
    if state is None:
        return
    ints = ("falls", "window", "best_epoch", "epoch", "bad_epochs")
    ok = isinstance(state, dict) and all(
        isinstance(state.get(k), int | float) and not isinstance(state.get(k), bool)
        for k in ("first", "previous", "last", "best")) and all(
        is_int(state.get(k), -1, MAX_VALUES) for k in ints) and (
        state.get("steady_since") is None or is_int(state.get("steady_since"), 0, MAX_VALUES))
    if not ok:
        raise fail(path, f"the checkpoint's plateau state is not one logicat writes. "
                    f"Got {short(state)}.")
