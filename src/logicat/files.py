"""Model files and checkpoints: tensors in safetensors, everything else as JSON in its header.

A model file holds the network's parameters - ``coef`` (n,) and ``intercept`` (1,) for logistic
regression; ``coefs.l`` / ``intercepts.l`` per layer for a network - its ``cost_history``
(n_iter,) and, when used, ``validation_cost_history`` and the standardisation statistics
``feature_mean`` / ``feature_scale`` (n,); and one header entry, ``logicat``, a JSON object with
the architecture, the image size, the pixel order, the scaling, the class names and which one is
positive, the hyperparameters, the metrics, the logicat version and the SHA-256 of the training
data. A checkpoint holds the whole state of a run (``logicat.training.loop.Snapshot``).
safetensors never executes code on load (unlike pickle).

Nothing a file claims is trusted before it is checked: ``read_model`` validates the header's
JSON (types, ranges, sizes and depth, known versions) and every tensor's name, dtype, shape and
values against it, and refuses anything else with one line, ``<file>: <what is wrong>``
(``ModelFileError``). Writing goes through ``logicat.paths.atomic_output``: an interrupted save
never replaces a good file with a broken one.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from logicat.convnet import ConvNetSpec, param_shapes
from logicat.errors import ModelFileError
from logicat.features import PIXEL_ORDER, SCALING
from logicat.model import Model
from logicat.network import ACTIVATIONS, param_names
from logicat.paths import atomic_write_bytes, regular_file
from logicat.training.loop import Snapshot

FORMAT = "logicat-model"
FORMAT_VERSION = 2
READS = (1, 2)  # version 1: logistic regression only, no architecture entry
CHECKPOINT_FORMAT = "logicat-checkpoint"
CHECKPOINT_VERSION = 2
_HEADER_KEY = "logicat"
_CHECKPOINT_KEY = "logicat_checkpoint"
#: safetensors' own limit on the JSON header; nobody's metadata comes near it
MAX_HEADER_BYTES = 100_000_000
#: deeper JSON than this is refused (logicat writes depth 3)
MAX_DEPTH = 32
#: the largest model logicat reads: 2^31 values per tensor, 4096 x 4096 images
MAX_VALUES = 2**31
MAX_IMAGE_SIZE = 4096
_FLOATS = {"F64": np.float64, "F32": np.float32}


# ------------------------------------------------------------------------------ writing
def save_model(model: Model, path: str | os.PathLike[str], **metadata: Any) -> Path:
    """Write ``model`` to ``path`` atomically; keyword arguments are extra header entries.

    ``preprocessing={"image_size": 64, ...}``, ``class_names=["non-cat", "cat"]``,
    ``training_data={"sha256": ...}``, ``metrics={...}`` ... (JSON-serialisable); they are merged
    over ``model.metadata``.
    """
    from safetensors.numpy import save

    from logicat import __version__

    header = dict(model.metadata)
    header.update(metadata)
    header.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        logicat_version=__version__,
        architecture=(model.convnet.to_json() if model.convnet is not None else
                      {"hidden_layer_sizes": list(model.hidden_layer_sizes),
                       "activation": model.activation}),
        n_features=model.n_features,
        dtype=str(model.dtype),
        classes=[_json_scalar(c) for c in model.classes],
        n_iter=int(model.n_iter),
    )
    header.setdefault("class_names", [str(c) for c in model.classes])
    header.setdefault("positive_class", header["class_names"][1])
    tensors = {name: np.ascontiguousarray(p) for name, p in zip(model.names, model.params,
                                                                strict=True)}
    tensors["cost_history"] = np.ascontiguousarray(model.cost_history, dtype=np.float64)
    if model.validation_cost_history is not None:
        tensors["validation_cost_history"] = np.ascontiguousarray(
            model.validation_cost_history, dtype=np.float64)
    # Feature standardisation fitted in training: its statistics are tensors, its choice is in
    # the header; the model applies it when predicting.
    header["feature_standardization"] = None
    if model.feature_mean is not None:
        tensors["feature_mean"] = np.ascontiguousarray(model.feature_mean)
        tensors["feature_scale"] = np.ascontiguousarray(model.feature_scale)
        header["feature_standardization"] = "x' = (x - feature_mean) / feature_scale"
    data = save(tensors, metadata={_HEADER_KEY: json.dumps(header)})
    atomic_write_bytes(path, data, "model")
    model.metadata = header
    return Path(path)


def save_checkpoint(path: str | os.PathLike[str], snapshot: Snapshot) -> Path:
    """Write ``snapshot`` to ``path`` (atomically) and return the path."""
    from safetensors.numpy import save

    meta = dict(snapshot.meta, format=CHECKPOINT_FORMAT, format_version=CHECKPOINT_VERSION)
    tensors = {k: np.ascontiguousarray(v) for k, v in snapshot.tensors.items()}
    data = save(tensors, metadata={_CHECKPOINT_KEY: json.dumps(meta)})
    atomic_write_bytes(path, data, "checkpoint")
    return Path(path)


def _json_scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ------------------------------------------------------------------------------ reading
def _header(path: Path, key: str, what: str) -> tuple[dict, dict]:
    """(the safetensors header's tensor entries, the logicat JSON under ``key``), checked."""
    path = regular_file(path, what, ModelFileError)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ModelFileError(f"{path}: not a logicat {what} (the file is {len(head)} bytes).")
        n = int.from_bytes(head, "little")
        if n > MAX_HEADER_BYTES or n > size - 8:
            raise ModelFileError(
                f"{path}: not a logicat {what}, or truncated (its header claims {n} bytes, the "
                f"file has {size})."
            )
        raw = f.read(n)
    try:
        header = json.loads(raw)
        entries = {k: v for k, v in header.items() if k != "__metadata__"}
        meta = json.loads(header["__metadata__"][key])
    except RecursionError:
        raise ModelFileError(f"{path}: the {what}'s header is nested too deeply.") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ModelFileError(
            f"{path}: not a logicat {what} (a safetensors header with logicat metadata was "
            "expected)."
        ) from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: not a logicat {what} (its metadata is not an object).")
    if _depth(meta) > MAX_DEPTH:
        raise ModelFileError(f"{path}: the {what}'s metadata is nested deeper than {MAX_DEPTH}.")
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


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The header of a logicat model file, validated, without reading the weights."""
    path = Path(path)
    entries, meta = _header(path, _HEADER_KEY, "model file")
    _check_meta(path, meta)
    _check_entries(path, meta, entries)
    return meta


def read_model(path: str | os.PathLike[str]) -> Model:
    """Read a model file written by ``save_model`` (one-line ``ModelFileError`` if it is not)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    meta = read_metadata(path)
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(f"{path}: corrupted model file ({_first_line(e)}).") from None
    names = list(_param_shapes(path, meta))
    params = [tensors[name] for name in names]
    for name, p in zip(names, params, strict=True):
        if not np.all(np.isfinite(p)):
            raise ModelFileError(f"{path}: the tensor {name!r} contains NaN or infinity.")
    mean = scale = None
    if meta.get("feature_standardization"):
        mean, scale = tensors["feature_mean"], tensors["feature_scale"]
        for name, values in (("feature_mean", mean), ("feature_scale", scale)):
            if not np.all(np.isfinite(values)):
                raise ModelFileError(f"{path}: the tensor {name!r} must hold {len(values)} "
                                     "finite values for the feature standardisation its "
                                     "metadata names.")
        if not np.all(scale > 0):
            raise ModelFileError(f"{path}: the tensor 'feature_scale' must be > 0.")
    architecture = meta.get("architecture") or {}
    convnet = _convnet_spec(path, architecture) if architecture.get("kind") == "convnet" else None
    return Model(
        params=params,
        classes=list(meta["classes"]),
        activation=architecture.get("activation", "relu"),
        feature_mean=mean,
        feature_scale=scale,
        cost_history=tensors["cost_history"],
        validation_cost_history=tensors.get("validation_cost_history"),
        n_iter=int(meta["n_iter"]),
        metadata=meta,
        convnet=convnet,
    )


def load_checkpoint(path: str | os.PathLike[str]) -> Snapshot:
    """Read a checkpoint written by ``save_checkpoint`` (one-line ``ModelFileError`` if not)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such checkpoint file.")
    entries, meta = _header(path, _CHECKPOINT_KEY, "checkpoint")
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ModelFileError(
            f"{path}: not a logicat checkpoint (format is not {CHECKPOINT_FORMAT!r}).")
    if meta.get("format_version") != CHECKPOINT_VERSION:
        raise ModelFileError(
            f"{path}: checkpoint format version {meta.get('format_version')!r} is not supported "
            f"(this logicat reads version {CHECKPOINT_VERSION})."
        )
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(f"{path}: not a logicat checkpoint ({_first_line(e)}).") from None
    return Snapshot(tensors, meta)


# ------------------------------------------------------------------------ the validator
def _fail(path: Path, what: str) -> ModelFileError:
    return ModelFileError(f"{path}: {what}")


def _int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_meta(path: Path, meta: Mapping[str, Any]) -> None:
    """Every entry of the header that logicat uses: present, of its type, in its range."""
    if meta.get("format") != FORMAT:
        raise _fail(path, f"not a logicat model (format is not {FORMAT!r}).")
    if meta.get("format_version") not in READS:
        raise _fail(path, f"model format version {meta.get('format_version')!r} is not supported "
                    f"(this logicat reads versions {', '.join(map(str, READS))}).")
    n = meta.get("n_features")
    if not _int(n, 1, MAX_VALUES):
        raise _fail(path, f"the metadata's n_features must be an int in [1, {MAX_VALUES}]. "
                    f"Got {n!r}.")
    if meta.get("dtype") not in ("float64", "float32"):
        raise _fail(path, f"the metadata's dtype must be 'float64' or 'float32'. "
                    f"Got {meta.get('dtype')!r}.")
    if not _int(meta.get("n_iter"), 0, MAX_VALUES):
        raise _fail(path, f"the metadata's n_iter must be an int >= 0. Got {meta.get('n_iter')!r}.")
    classes = meta.get("classes")
    scalar = (str, int, float, bool)
    if (not isinstance(classes, list) or len(classes) != 2
            or not all(isinstance(c, scalar) for c in classes) or classes[0] == classes[1]):
        raise _fail(path, f"the metadata must list 2 distinct classes. Got {classes!r}.")
    names = meta.get("class_names", [str(c) for c in classes])
    if (not isinstance(names, list) or len(names) != 2 or not all(isinstance(c, str) and c
                                                                   for c in names)
            or names[0] == names[1]):
        raise _fail(path, f"the metadata's class_names must be 2 distinct, non-empty names. "
                    f"Got {names!r}.")
    positive = meta.get("positive_class", names[1])
    if positive != names[1]:
        raise _fail(path, f"the metadata's positive_class must be {names[1]!r} (class 1). "
                    f"Got {positive!r}.")
    _check_architecture(path, meta.get("architecture"), meta["format_version"], n)
    _check_preprocessing(path, meta.get("preprocessing"), n)
    plain = (*scalar, type(None))
    for key in ("hyperparameters", "metrics", "training_data", "early_stopping"):
        value = meta.get(key)
        if value is not None and not (isinstance(value, dict) and all(
                isinstance(v, plain) or (isinstance(v, list) and all(
                    isinstance(x, plain) for x in v)) for v in value.values())):
            raise _fail(path, f"the metadata's {key} must be an object of plain values. "
                        f"Got {_short(value)}.")
    for key, value in (meta.get("metrics") or {}).items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(
                value):
            raise _fail(path, f"the metric {key!r} must be a finite number. Got {value!r}.")
    if meta.get("solver", "primal") not in ("primal", "gram"):
        raise _fail(path, f"the metadata's solver must be 'primal' or 'gram'. "
                    f"Got {_short(meta.get('solver'))}.")
    if not isinstance(meta.get("feature_standardization"), str | type(None)):
        raise _fail(path, "the metadata's feature_standardization must be a string or null.")


def _check_architecture(path: Path, architecture: Any, version: int, n: int) -> None:
    if architecture is None and version == 1:
        return
    if not isinstance(architecture, dict):
        raise _fail(path, f"the metadata's architecture must be an object. "
                    f"Got {_short(architecture)}.")
    if architecture.get("kind") == "convnet":
        size = _convnet_spec(path, architecture).image_size
        if 3 * size * size != n:
            raise _fail(path, f"the ConvNet's {size}x{size}x3 images make {3 * size * size} "
                        f"features, but the metadata says n_features = {n}.")
        return
    hidden = architecture.get("hidden_layer_sizes")
    if not (isinstance(hidden, list) and len(hidden) <= 64
            and all(_int(h, 1, MAX_VALUES) for h in hidden)):
        raise _fail(path, f"the architecture's hidden_layer_sizes must be a list of ints >= 1. "
                    f"Got {_short(hidden)}.")
    if architecture.get("activation") not in ACTIVATIONS:
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


def _convnet_spec(path: Path, architecture: Mapping[str, Any]) -> ConvNetSpec:
    try:
        return ConvNetSpec.from_json(architecture)
    except ValueError as e:
        raise _fail(path, str(e)) from None


def _param_shapes(path: Path, meta: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The parameters' names and shapes that the header describes, in file order."""
    architecture = meta.get("architecture") or {}
    if architecture.get("kind") == "convnet":
        return param_shapes(_convnet_spec(path, architecture))
    sizes = [meta["n_features"], *architecture.get("hidden_layer_sizes", [])]
    shapes: list[tuple[int, ...]] = []
    for n_in, n_out in zip(sizes, [*sizes[1:], None], strict=True):
        shapes += [(n_in,), (1,)] if n_out is None else [(n_in, n_out), (n_out,)]
    return dict(zip(param_names(len(sizes)), shapes, strict=True))


def _check_entries(path: Path, meta: Mapping[str, Any], entries: Mapping[str, Any]) -> None:
    """The tensors the header lists: exactly the expected names, dtypes and shapes."""
    n = meta["n_features"]
    dtype = "F64" if meta["dtype"] == "float64" else "F32"
    expected = {name: (shape, (dtype,)) for name, shape in _param_shapes(path, meta).items()}
    expected["cost_history"] = ((meta["n_iter"],), ("F64", "F32"))
    if meta.get("feature_standardization"):
        expected["feature_mean"] = expected["feature_scale"] = ((n,), (dtype,))
    optional = {"validation_cost_history": ((meta["n_iter"],), ("F64", "F32"))}
    for name in entries:
        if name not in expected and name not in optional:
            raise _fail(path, f"unexpected tensor {name!r} (a model of this metadata has "
                        f"{', '.join(map(repr, expected))}).")
    for name, (shape, dtypes) in {**expected, **optional}.items():
        entry = entries.get(name)
        if entry is None:
            if name in optional:
                continue
            raise _fail(path, f"the tensor {name!r} is missing.")
        if not isinstance(entry, dict) or entry.get("dtype") not in dtypes:
            got = entry.get("dtype") if isinstance(entry, dict) else entry
            wanted = " or ".join(_dtype_name(d) for d in dtypes)
            raise _fail(path, f"tensor {name!r} must be {wanted}. Got {_short(got)}.")
        if entry.get("shape") != list(shape):
            raise _fail(path, f"tensor {name!r} has shape {tuple(entry.get('shape') or ())}, but "
                        f"the metadata says {shape}.")


def _dtype_name(code: str) -> str:
    return np.dtype(_FLOATS[code]).name


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _first_line(e: BaseException) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__
