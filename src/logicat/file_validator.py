"""The one validator of everything a model file or a checkpoint claims, before anything uses it.

``read_header`` reads a safetensors file's header (bounded in size, parsed without recursion
limits, depth-checked); ``check_model`` and ``check_checkpoint`` check the logicat JSON in it and
every tensor the header lists: names, dtypes and shapes (the values are checked once loaded, by
``check_values``). Every refusal is one line, ``<file>: <what is wrong>. Got <what came in>.``,
as a ``ModelFileError``; ``logicat.files`` reads and writes through these checks.

What is checked, for both kinds of file: the JSON's types, ranges, size (``MAX_HEADER_BYTES``)
and depth (``MAX_DEPTH``); the format and its version; the class names, preprocessing and
architecture; the hyperparameters against ``training.hyperparameters.CONSTRAINTS``; for a
checkpoint, its epoch, random-generator state, optimizer state, rule state and tensors.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from logicat.convnet import ConvNetSpec
from logicat.convnet import param_shapes as convnet_param_shapes
from logicat.errors import ModelFileError, ParameterError
from logicat.features import PIXEL_ORDER, SCALING
from logicat.network import ACTIVATIONS, param_names
from logicat.paths import regular_file
from logicat.training.hyperparameters import CONSTRAINTS
from logicat.training.optimizers import OPTIMIZERS
from logicat.validation import check_param

FORMAT = "logicat-model"
FORMAT_VERSION = 2
READS = (1, 2)  # version 1: logistic regression only, no architecture entry
CHECKPOINT_FORMAT = "logicat-checkpoint"
CHECKPOINT_VERSION = 2
KINDS = ("LogisticRegression", "MLPClassifier")
#: safetensors' own limit on the JSON header; nobody's metadata comes near it
MAX_HEADER_BYTES = 100_000_000
#: deeper JSON than this is refused (logicat writes depth 3)
MAX_DEPTH = 32
#: the largest model logicat reads: 2^31 values per tensor, 4096 x 4096 images, 64 layers
MAX_VALUES = 2**31
MAX_IMAGE_SIZE = 4096
MAX_LAYERS = 64
_FLOATS = {"F64": "float64", "F32": "float32"}
_BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM,
                   "MT19937": np.random.MT19937, "Philox": np.random.Philox,
                   "SFC64": np.random.SFC64}


def _fail(path: Path, what: str) -> ModelFileError:
    return ModelFileError(f"{path}: {what}")


def _short(value: Any) -> str:
    """``repr(value)`` cut to 80 characters: a hostile value must not make a hostile message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# ------------------------------------------------------------------------------ the header
def read_header(path: Path, key: str, what: str, *, allow_nan: bool = False
                ) -> tuple[dict, dict]:
    """(the safetensors header's tensor entries, the logicat JSON object under ``key``).

    Only a regular file is opened; the header's declared length is checked against the file's
    size before it is read. ``allow_nan``: whether NaN and Infinity may appear in the JSON
    (checkpoints record rule states that start at NaN; model files never hold one).
    """
    path = regular_file(path, what, ModelFileError)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise _fail(path, f"not a logicat {what} (the file is {len(head)} bytes).")
        n = int.from_bytes(head, "little")
        if n > MAX_HEADER_BYTES or n > size - 8:
            raise _fail(path, f"not a logicat {what}, or truncated (its header claims {n} bytes, "
                        f"the file has {size}).")
        raw = f.read(n)
    constant = None if allow_nan else _no_constant
    try:
        header = json.loads(raw)
        entries = {k: v for k, v in header.items() if k != "__metadata__"}
        meta = json.loads(header["__metadata__"][key], parse_constant=constant)
    except RecursionError:
        raise _fail(path, f"the {what}'s header is nested too deeply.") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _fail(path, f"not a logicat {what} (a safetensors header with logicat metadata "
                    "was expected).") from None
    if not isinstance(meta, dict):
        raise _fail(path, f"not a logicat {what} (its metadata is not an object).")
    if _depth(meta) > MAX_DEPTH:
        raise _fail(path, f"the {what}'s metadata is nested deeper than {MAX_DEPTH}.")
    return entries, meta


def _depth(value: Any) -> int:
    """How deeply JSON containers nest in ``value`` (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                      else item))
    return deepest


# ------------------------------------------------------------------------------ model files
def check_model(path: Path, meta: Mapping[str, Any], entries: Mapping[str, Any]) -> None:
    """Every entry of a model file's header that logicat uses, and the tensors it lists."""
    if meta.get("format") != FORMAT:
        raise _fail(path, f"not a logicat model (format is not {FORMAT!r}).")
    if not (_int(meta.get("format_version"), 0, 99) and meta["format_version"] in READS):
        raise _fail(path, f"model format version {_short(meta.get('format_version'))} is not "
                    f"supported (this logicat reads versions {', '.join(map(str, READS))}).")
    n = meta.get("n_features")
    if not _int(n, 1, MAX_VALUES):
        raise _fail(path, f"the metadata's n_features must be an int in [1, {MAX_VALUES}]. "
                    f"Got {_short(n)}.")
    if meta.get("dtype") not in ("float64", "float32"):
        raise _fail(path, f"the metadata's dtype must be 'float64' or 'float32'. "
                    f"Got {_short(meta.get('dtype'))}.")
    if not _int(meta.get("n_iter"), 0, MAX_VALUES):
        raise _fail(path, f"the metadata's n_iter must be an int in [0, {MAX_VALUES}]. "
                    f"Got {_short(meta.get('n_iter'))}.")
    _check_classes(path, meta)
    _check_architecture(path, meta.get("architecture"), meta["format_version"], n)
    _check_preprocessing(path, meta.get("preprocessing"), n)
    plain = (str, int, float, bool, type(None))
    for key in ("hyperparameters", "metrics", "training_data", "early_stopping"):
        value = meta.get(key)
        if value is not None and not (isinstance(value, dict) and all(
                isinstance(v, plain) or (isinstance(v, list) and all(
                    isinstance(x, plain) for x in v)) for v in value.values())):
            raise _fail(path, f"the metadata's {key} must be an object of plain values. "
                        f"Got {_short(value)}.")
    check_hyperparameters(path, meta.get("hyperparameters") or {})
    for key, value in (meta.get("metrics") or {}).items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(
                value):
            raise _fail(path, f"the metric {_short(key)} must be a finite number. "
                        f"Got {_short(value)}.")
    for key in ("logicat_version", "solver", "feature_standardization"):
        if not isinstance(meta.get(key), str | type(None)):
            raise _fail(path, f"the metadata's {key} must be a string. Got "
                        f"{_short(meta.get(key))}.")
    if meta.get("solver", "primal") not in ("primal", "gram"):
        raise _fail(path, f"the metadata's solver must be 'primal' or 'gram'. "
                    f"Got {_short(meta.get('solver'))}.")
    training = meta.get("training_data") or {}
    if not isinstance(training.get("sha256", ""), str) or not _int(
            training.get("n_samples", 0), 0, 2**63):
        raise _fail(path, f"the metadata's training_data must have a string sha256 and an int "
                    f"n_samples. Got {_short(training)}.")
    _check_entries(path, meta, entries)


def _check_classes(path: Path, meta: Mapping[str, Any]) -> None:
    classes = meta.get("classes")
    ok = (str, int, bool) + (float,)
    if (not isinstance(classes, list) or len(classes) != 2 or not all(
            isinstance(c, ok) and (not isinstance(c, float) or math.isfinite(c)) and (
                not isinstance(c, str) or len(c) <= 1000) for c in classes)
            or classes[0] == classes[1]):
        raise _fail(path, f"the metadata must list 2 distinct classes. Got {_short(classes)}.")
    names = meta.get("class_names", [str(c) for c in classes])
    if (not isinstance(names, list) or len(names) != 2 or not all(
            isinstance(c, str) and 0 < len(c) <= 1000 and c.isprintable() for c in names)
            or names[0] == names[1]):
        raise _fail(path, f"the metadata's class_names must be 2 distinct, non-empty, printable "
                    f"names of at most 1000 characters. Got {_short(names)}.")
    positive = meta.get("positive_class", names[1])
    if positive != names[1]:
        raise _fail(path, f"the metadata's positive_class must be {_short(names[1])} (class 1). "
                    f"Got {_short(positive)}.")


def check_hyperparameters(path: Path, hyper: Mapping[str, Any]) -> None:
    """The hyperparameters a file records: each one logicat knows within its constraint (the
    table ``training.hyperparameters.CONSTRAINTS``, in its JSON form)."""
    for name, value in hyper.items():
        constraints = CONSTRAINTS.get(name)
        if constraints is None:
            continue  # not one logicat uses: kept as information, never read
        try:
            check_param(name, value, constraints)
        except ParameterError as err:
            raise _fail(path, f"its hyperparameters are invalid: {_short_message(err)}") from None


def _short_message(err: Exception) -> str:
    text = str(err)
    return text if len(text) <= 200 else text[:197] + "..."


def _check_architecture(path: Path, architecture: Any, version: int, n: int) -> None:
    """A dense network's hidden layers and activation, or a ConvNet's whole specification."""
    if architecture is None and version == 1:
        return
    if not isinstance(architecture, dict):
        raise _fail(path, f"the metadata's architecture must be an object. "
                    f"Got {_short(architecture)}.")
    if architecture.get("kind") == "convnet":
        size = convnet_spec(path, architecture).image_size
        if 3 * size * size != n:
            raise _fail(path, f"the ConvNet's {size}x{size}x3 images make {3 * size * size} "
                        f"features, but the metadata says n_features = {n}.")
        return
    hidden = architecture.get("hidden_layer_sizes")
    if not (isinstance(hidden, list) and len(hidden) <= MAX_LAYERS
            and all(_int(h, 1, MAX_VALUES) for h in hidden)):
        raise _fail(path, f"the architecture's hidden_layer_sizes must be a list of ints >= 1 "
                    f"(at most {MAX_LAYERS}). Got {_short(hidden)}.")
    if not isinstance(architecture.get("activation"), str) or (
            architecture["activation"] not in ACTIVATIONS):
        raise _fail(path, f"the architecture's activation must be one of "
                    f"{', '.join(map(repr, ACTIVATIONS))}. "
                    f"Got {_short(architecture.get('activation'))}.")


def _check_preprocessing(path: Path, spec: Any, n: int) -> None:
    if spec is None:
        return
    if not isinstance(spec, dict):
        raise _fail(path, f"the metadata's preprocessing must be an object. Got {_short(spec)}.")
    size = spec.get("image_size")
    if not _int(size, 1, MAX_IMAGE_SIZE):
        raise _fail(path, f"the preprocessing's image_size must be an int in [1, "
                    f"{MAX_IMAGE_SIZE}]. Got {_short(size)}.")
    if spec.get("channels", 3) != 3 or spec.get("scaling") != SCALING:
        raise _fail(path, f"the preprocessing must be 3 channels scaled by {SCALING!r}. "
                    f"Got {_short(spec)}.")
    if spec.get("pixel_order", PIXEL_ORDER) != PIXEL_ORDER:
        raise _fail(path, f"the preprocessing's pixel_order must be {PIXEL_ORDER!r}.")
    if size * size * 3 != n:
        raise _fail(path, f"the preprocessing's {size}x{size}x3 images make {size * size * 3} "
                    f"features, but the model has {n}.")


def parameter_shapes(n: int, hidden: list[int]) -> dict[str, tuple[int, ...]]:
    """The parameters' names and shapes: each layer's weights (n_in, n_out) then its bias
    (n_out,); the output unit's w (n_in,) and b (1,)."""
    sizes = [n, *hidden]
    shapes: list[tuple[int, ...]] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        shapes += [(a, b), (b,)]
    shapes += [(sizes[-1],), (1,)]
    return dict(zip(param_names(len(hidden) + 1), shapes, strict=True))


def convnet_spec(path: Path, architecture: Mapping[str, Any]) -> ConvNetSpec:
    """A ConvNet's architecture entry as its spec (``logicat.convnet`` checks it)."""
    try:
        return ConvNetSpec.from_json(architecture)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise _fail(path, _short_message(e)) from None


def model_parameter_shapes(path: Path, meta: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The parameters' names and shapes that a model file's header describes, in file order."""
    architecture = meta.get("architecture") or {}
    if architecture.get("kind") == "convnet":
        return convnet_param_shapes(convnet_spec(path, architecture))
    return parameter_shapes(meta["n_features"], architecture.get("hidden_layer_sizes", []))


def _check_entries(path: Path, meta: Mapping[str, Any], entries: Mapping[str, Any]) -> None:
    """The tensors the header lists: exactly the expected names, dtypes and shapes."""
    n, dtype = meta["n_features"], "F64" if meta["dtype"] == "float64" else "F32"
    expected = {name: (shape, (dtype,)) for name, shape in model_parameter_shapes(path,
                                                                                  meta).items()}
    expected["cost_history"] = ((meta["n_iter"],), ("F64", "F32"))
    if meta.get("feature_standardization"):
        expected["feature_mean"] = expected["feature_scale"] = ((n,), (dtype,))
    optional = {"validation_cost_history": ((meta["n_iter"],), ("F64", "F32"))}
    check_tensors(path, entries, expected, optional)


def check_tensors(path: Path, entries: Mapping[str, Any],
                  expected: Mapping[str, tuple[tuple[int, ...], tuple[str, ...]]],
                  optional: Mapping[str, tuple[tuple[int, ...], tuple[str, ...]]]) -> None:
    """Each tensor: a known name, one of its dtypes (safetensors' codes: F64, I64...), its
    shape; every expected one present."""
    for name in entries:
        if name not in expected and name not in optional:
            raise _fail(path, f"unexpected tensor {_short(name)} (this file should hold "
                        f"{', '.join(map(repr, expected))}).")
    for name, (shape, dtypes) in {**expected, **optional}.items():
        entry = entries.get(name)
        if entry is None:
            if name in optional:
                continue
            raise _fail(path, f"the tensor {name!r} is missing.")
        if not isinstance(entry, dict) or entry.get("dtype") not in dtypes:
            got = entry.get("dtype") if isinstance(entry, dict) else entry
            wanted = " or ".join(_FLOATS.get(d, "int64") for d in dtypes)
            raise _fail(path, f"tensor {name!r} must be {wanted}. Got {_short(got)}.")
        if entry.get("shape") != list(shape):
            got = entry.get("shape")
            got = _short(tuple(got) if isinstance(got, list) else got)
            raise _fail(path, f"tensor {name!r} has shape {got}, but "
                        f"the metadata says {shape}.")


def check_values(path: Path, tensors: Mapping[str, np.ndarray]) -> None:
    """Once loaded: every floating-point tensor finite (logicat never saves a NaN: a run whose
    cost or parameters became non-finite ends with a divergence error)."""
    for name, values in tensors.items():
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise _fail(path, f"the tensor {name!r} contains NaN or infinity.")


# ------------------------------------------------------------------------------ checkpoints
def check_checkpoint(path: Path, meta: Mapping[str, Any], entries: Mapping[str, Any]) -> None:
    """Everything a checkpoint claims (``training.loop.Snapshot``): the run it belongs to,
    where it stopped, the state of the random generator, optimizer and rules, its tensors."""
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise _fail(path, f"not a logicat checkpoint (format is not {CHECKPOINT_FORMAT!r}).")
    if not _int(meta.get("format_version"), 0, 99) or (
            meta["format_version"] != CHECKPOINT_VERSION):
        raise _fail(path, f"checkpoint format version {_short(meta.get('format_version'))} is "
                    f"not supported (this logicat reads version {CHECKPOINT_VERSION}).")
    if meta.get("kind") not in KINDS:
        raise _fail(path, f"the checkpoint's kind must be one of {', '.join(KINDS)}. "
                    f"Got {_short(meta.get('kind'))}.")
    hyper = meta.get("hyperparameters")
    if not isinstance(hyper, dict):
        raise _fail(path, f"the checkpoint's hyperparameters must be an object. "
                    f"Got {_short(hyper)}.")
    check_hyperparameters(path, hyper)
    n, epoch = meta.get("n_features"), meta.get("epoch")
    for name, value in (("n_features", n), ("epoch", epoch)):
        if not _int(value, 1, MAX_VALUES):
            raise _fail(path, f"the checkpoint's {name} must be an int in [1, {MAX_VALUES}]. "
                        f"Got {_short(value)}.")
    sha = meta.get("data_sha256")
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef"
                                                            for c in sha)):
        raise _fail(path, f"the checkpoint's data_sha256 must be 64 hex digits. "
                    f"Got {_short(sha)}.")
    optimizer = meta.get("optimizer", "gd")
    if optimizer not in OPTIMIZERS:
        raise _fail(path, f"the checkpoint's optimizer must be one of "
                    f"{', '.join(OPTIMIZERS)}. Got {_short(optimizer)}.")
    _check_rng_state(path, meta.get("rng_state"))
    _check_plateau(path, meta.get("plateau"))
    start = meta.get("divergence_start")
    if start is not None and not (isinstance(start, int | float) and not isinstance(start, bool)
                                  and math.isfinite(start)):
        raise _fail(path, f"the checkpoint's divergence_start must be a finite number or null. "
                    f"Got {_short(start)}.")
    hidden = list(hyper.get("hidden_layer_sizes", [])) if meta["kind"] == "MLPClassifier" else []
    if len(hidden) > MAX_LAYERS:
        raise _fail(path, f"the checkpoint's network has more than {MAX_LAYERS} layers.")
    floats = ("F64", "F32")
    params = {name: (shape, floats) for name, shape in parameter_shapes(n, hidden).items()}
    expected = {**params, "cost_history": ((epoch,), floats)}
    optional: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
        "val_cost_history": ((epoch,), floats)}
    held_out = entries.get("validation_indices")
    if held_out is not None:  # early stopping: the rows held out, and the best parameters
        shape = held_out.get("shape") if isinstance(held_out, dict) else None
        if not (isinstance(shape, list) and len(shape) == 1 and _int(shape[0], 1, MAX_VALUES)):
            raise _fail(path, f"tensor 'validation_indices' must be 1-D. Got shape "
                        f"{_short(shape)}.")
        optional["validation_indices"] = ((shape[0],), ("I64",))
        optional.update({f"best.{k}": v for k, v in params.items()})
    shapes = list(params.values())
    if optimizer in ("momentum", "nesterov"):
        optional.update({f"optimizer.velocity.{i}": s for i, s in enumerate(shapes)})
    elif optimizer == "adam":
        optional["optimizer.t"] = ((1,), ("I64",))
        optional.update({f"optimizer.{k}.{i}": s for i, s in enumerate(shapes) for k in "mv"})
    check_tensors(path, entries, expected, optional)
    state = [name for name in optional if name.startswith("optimizer.")]
    present = [name for name in state if name in entries]
    if present and len(present) != len(state):  # all of the optimizer's state, or none yet
        missing = sorted(set(state) - set(present))
        raise _fail(path, f"the optimizer state is incomplete: {', '.join(missing)} missing.")


def _check_rng_state(path: Path, state: Any) -> None:
    """The shuffling generator's state, as numpy's PCG64 would accept it."""
    if state is None:
        return
    try:
        bit_generator = _BIT_GENERATORS[state["bit_generator"]]
        bit_generator().state = state
    except (TypeError, KeyError, ValueError, OverflowError):
        raise _fail(path, f"the checkpoint's rng_state is not the state of a numpy random "
                    f"generator. Got {_short(state)}.") from None


def _check_plateau(path: Path, state: Any) -> None:
    """The tol / early-stopping rule's state (``training.rules.Plateau.state``)."""
    if state is None:
        return
    ints = ("falls", "window", "best_epoch", "epoch", "bad_epochs")
    ok = isinstance(state, dict) and all(
        isinstance(state.get(k), int | float) and not isinstance(state.get(k), bool)
        for k in ("first", "previous", "last", "best")) and all(
        _int(state.get(k), -1, MAX_VALUES) for k in ints) and (
        state.get("steady_since") is None or _int(state.get("steady_since"), 0, MAX_VALUES))
    if not ok:
        raise _fail(path, f"the checkpoint's plateau state is not one logicat writes. "
                    f"Got {_short(state)}.")
