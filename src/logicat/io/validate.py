"""The one validator of everything a model file or a checkpoint claims, before anything uses it.

``read_header`` reads a safetensors file's header (bounded in size, parsed without recursion
limits, depth-checked); ``check_model`` and ``check_checkpoint`` check the logicat JSON in it and
every tensor the header lists: names, dtypes and shapes (the values are checked once loaded, by
``check_values``). Every refusal is one line, ``<file>: <what is wrong>. Got <what came in>.``,
as a ``ModelFileError``; ``logicat.io.files`` reads and writes through these checks.

What is checked, for both kinds of file: the JSON's types, ranges, size (``MAX_HEADER_BYTES``)
and depth (``MAX_DEPTH``); the format and its version; the class names, preprocessing and
architecture; the hyperparameters against ``training.hyperparameters.CONSTRAINTS``; for a
checkpoint (``validate_checkpoint.py``, with the same helpers), its epoch, random-generator
state, optimizer state, rule state and tensors. Once the tensors are loaded (``check_values``,
``check_computable``): finite, what each layer needs (a variance >= 0, a standard deviation
> 0), no overflow for any input image (``logicat.nn.bounds``). (The memory a computation
needs is checked by what computes, not here: ``Model.check_memory``.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from logicat.core.errors import ModelFileError, ParameterError, ShapeError
from logicat.core.paths import regular_file
from logicat.core.validation import MAX_CLASS_NAME, check_param, is_class_name
from logicat.data.features import PIXEL_ORDER, SCALING
from logicat.nn.architectures import legacy_architecture
from logicat.nn.bounds import check_range
from logicat.nn.bounds import check_tensors as check_layer_tensors
from logicat.nn.hyperparameters import CONSTRAINTS, CONVNET_CONSTRAINTS, MAX_HIDDEN_LAYERS
from logicat.nn.layers import Layer, layer, takes_images
from logicat.nn.layers import from_json as layers_from_json
from logicat.nn.layers import shapes as layer_shapes
from logicat.nn.output import Output
from logicat.nn.tta import check as tta_problem

FORMAT = "logicat-model"
FORMAT_VERSION = 6
#: 1: logistic regression only, no architecture entry; 2: the architecture by its family's
#: hyperparameters; 3: and the model as a list of layers, ``architecture.layers``; 4: and its
#: output step (``output``: ensemble members, calibration, class mix); 5: any list of layers
#: (``architecture.kind`` "network": the list is the whole description, residual blocks nested);
#: 6: every model is its list of layers (``architecture``: ``layers``, ``input_shape``, ``tta``)
READS = (1, 2, 3, 4, 5, 6)
#: safetensors' own limit on the JSON header; nobody's metadata comes near it
MAX_HEADER_BYTES = 100_000_000
#: deeper JSON than this is refused (logicat writes depth 3)
MAX_DEPTH = 32
#: the largest model logicat reads: 2^31 values per tensor, 4096 x 4096 images, 64 layers
MAX_VALUES = 2**31
MAX_IMAGE_SIZE = 4096
MAX_LAYERS = MAX_HIDDEN_LAYERS  # the dense networks' hidden layers, as training bounds them
_FLOATS = {"F64": "float64", "F32": "float32"}


def fail(path: Path, what: str) -> ModelFileError:
    return ModelFileError(f"{path}: {what}")


def short(value: Any) -> str:
    """``repr(value)`` cut to 80 characters: a hostile value must not make a hostile message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_int(value: Any, low: int, high: int) -> bool:
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
        n = int.from_bytes(head, "little")
        if len(head) < 8 or n > MAX_HEADER_BYTES or n > size - 8:  # not safetensors: say what
            from logicat.core.file_kinds import SNIFF_BYTES, file_kind

            kind = file_kind(head + f.read(SNIFF_BYTES - 8))
            expected = f"a logicat {what} (the .safetensors file 'logicat train' writes)"
            raise fail(path, f"this is {kind}, not {expected}." if kind else f"not {expected}: "
                       f"its {size} bytes do not start as one does; it was cut short, or is "
                       "another kind of file.")
        raw = f.read(n)
    constant = None if allow_nan else _no_constant
    try:
        header = json.loads(raw)
        entries = {k: v for k, v in header.items() if k != "__metadata__"}
        meta = json.loads(header["__metadata__"][key], parse_constant=constant)
    except RecursionError:
        raise fail(path, f"the {what}'s header is nested too deeply.") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise fail(path, f"not a logicat {what} (a safetensors header with logicat metadata "
                    "was expected).") from None
    if not isinstance(meta, dict):
        raise fail(path, f"not a logicat {what} (its metadata is not an object).")
    if _depth(meta) > MAX_DEPTH:
        raise fail(path, f"the {what}'s metadata is nested deeper than {MAX_DEPTH}.")
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
def check_model(path: Path, meta: Mapping[str, Any], entries: Mapping[str, Any]
                ) -> tuple[list[Layer], tuple[int, ...], bool | str]:
    """Every entry of a model file's header that logicat uses, and the tensors it lists; the
    model it describes (``model_architecture``: layers, one example's shape, TTA)."""
    if meta.get("format") != FORMAT:
        raise fail(path, f"not a logicat model (format is not {FORMAT!r}).")
    if not (is_int(meta.get("format_version"), 0, 99) and meta["format_version"] in READS):
        raise fail(path, f"model format version {short(meta.get('format_version'))} is not "
                    f"supported (this logicat reads versions {', '.join(map(str, READS))}).")
    n = meta.get("n_features")
    if not is_int(n, 1, MAX_VALUES):
        raise fail(path, f"the metadata's n_features must be an int in [1, {MAX_VALUES}]. "
                    f"Got {short(n)}.")
    if meta.get("dtype") not in ("float64", "float32"):
        raise fail(path, f"the metadata's dtype must be 'float64' or 'float32'. "
                    f"Got {short(meta.get('dtype'))}.")
    if not is_int(meta.get("n_iter"), 0, MAX_VALUES):
        raise fail(path, f"the metadata's n_iter must be an int in [0, {MAX_VALUES}]. "
                    f"Got {short(meta.get('n_iter'))}.")
    _check_classes(path, meta)
    _check_preprocessing(path, meta.get("preprocessing"), n)
    architecture = model_architecture(path, meta)
    layers = architecture[0]
    output_of(path, meta)
    plain = (str, int, float, bool, type(None))
    for key in ("hyperparameters", "metrics", "training_data", "early_stopping"):
        value = meta.get(key)
        if value is not None and not (isinstance(value, dict) and all(
                isinstance(v, plain) or (isinstance(v, list) and all(
                    isinstance(x, plain) for x in v)) for v in value.values())):
            raise fail(path, f"the metadata's {key} must be an object of plain values. "
                        f"Got {short(value)}.")
    images = takes_images(layers)  # trained by the image networks' fit, or the dense one's
    check_hyperparameters(path, meta.get("hyperparameters") or {},
                          CONVNET_CONSTRAINTS if images else CONSTRAINTS)
    for key, value in (meta.get("metrics") or {}).items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(
                value):
            raise fail(path, f"the metric {short(key)} must be a finite number. "
                        f"Got {short(value)}.")
    for key in ("logicat_version", "solver", "feature_standardization", "machine"):
        if not isinstance(meta.get(key), str | type(None)):
            raise fail(path, f"the metadata's {key} must be a string. Got "
                        f"{short(meta.get(key))}.")
    # a ConvNet's files said "primal", then "convnet", before its solver had its own name
    solvers = ("minibatch", "convnet", "primal") if images else ("primal", "gram")
    if meta.get("solver", solvers[0]) not in solvers:
        raise fail(path, f"the metadata's solver must be one of "
                    f"{', '.join(map(repr, solvers))}. "
                    f"Got {short(meta.get('solver'))}.")
    training = meta.get("training_data") or {}
    if not isinstance(training.get("sha256", ""), str) or not is_int(
            training.get("n_samples", 0), 0, 2**63):
        raise fail(path, f"the metadata's training_data must have a string sha256 and an int "
                    f"n_samples. Got {short(training)}.")
    _check_entries(path, meta, entries, architecture)
    return architecture


def _check_classes(path: Path, meta: Mapping[str, Any]) -> None:
    classes = meta.get("classes")
    ok = (str, int, bool) + (float,)
    if (not isinstance(classes, list) or len(classes) != 2 or not all(
            isinstance(c, ok) and (not isinstance(c, float) or math.isfinite(c)) and (
                not isinstance(c, str) or len(c) <= 1000) for c in classes)
            or classes[0] == classes[1]):
        raise fail(path, f"the metadata must list 2 distinct classes. Got {short(classes)}.")
    names = meta.get("class_names", [str(c) for c in classes])
    if (not isinstance(names, list) or len(names) != 2 or not all(
            is_class_name(c) for c in names) or names[0] == names[1]):
        raise fail(path, f"the metadata's class_names must be 2 distinct, non-empty, printable "
                    f"names of at most {MAX_CLASS_NAME} characters, without spaces around "
                    f"them. Got {short(names)}.")
    positive = meta.get("positive_class", names[1])
    if positive != names[1]:
        raise fail(path, f"the metadata's positive_class must be {short(names[1])} (class 1). "
                    f"Got {short(positive)}.")


def check_hyperparameters(path: Path, hyper: Mapping[str, Any],
                          table: Mapping[str, list[Any]] = CONSTRAINTS) -> None:
    """The hyperparameters a file records: each one logicat knows within its constraint (the
    estimators' own table, ``training.hyperparameters.CONSTRAINTS`` or, for a ConvNet,
    ``CONVNET_CONSTRAINTS``, in its JSON form)."""
    for name, value in hyper.items():
        constraints = table.get(name)
        if constraints is None:
            continue  # not one logicat uses: kept as information, never read
        try:
            check_param(name, value, constraints)
        except ParameterError as err:
            raise fail(path, f"its hyperparameters are invalid: {_short_message(err)}") from None


def _short_message(err: Exception) -> str:
    text = str(err)
    return text if len(text) <= 200 else text[:197] + "..."


def model_architecture(path: Path, meta: Mapping[str, Any]
                       ) -> tuple[list[Layer], tuple[int, ...], bool | str]:
    """(the layers, the shape of one example they take, TTA) a header describes, checked: the
    list itself (format 6), or what a family's settings describe (formats 1 to 5,
    ``nn.architectures.legacy_architecture``: from format 3 on, the list the file also holds
    must be that very list - no file describes two models)."""
    architecture, n = meta.get("architecture"), meta["n_features"]
    if architecture is None and meta["format_version"] == 1:
        return legacy_architecture(None, n, bool(meta.get("feature_standardization")))
    if not isinstance(architecture, dict):
        raise fail(path, f"the metadata's architecture must be an object. "
                    f"Got {short(architecture)}.")
    try:
        listed = layers_from_json(architecture.get("layers")) if (
            meta["format_version"] >= 3) else None
    except ParameterError as e:
        said = _short_message(e)
        raise fail(path, said if said.startswith("the ") else f"the architecture's {said}"
                   ) from None
    if meta["format_version"] >= 6:
        shape, tta = _input_shape(path, architecture.get("input_shape"), n), \
            architecture.get("tta", False)
        said = tta_problem(tta, shape[-1])
        if said:
            raise fail(path, f"the architecture's {said}. Got {short(tta)}.")
        layers = listed
    else:
        try:
            layers, shape, tta = legacy_architecture(
                architecture, n, bool(meta.get("feature_standardization")), listed)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise fail(path, _short_message(e)) from None
    if not layers or layers[-1].type != "sigmoid":
        raise fail(path, "the architecture's layers must end with a sigmoid (the probability "
                    "of the positive class).")
    if len(shape) == 3 and layers[0] != layer("normalize", "input"):
        raise fail(path, "an image network's layers must start with the input's normalize "
                    "(named 'input': the training images' channel statistics).")
    try:
        out = layer_shapes(layers, shape)[1]
    except (ShapeError, ParameterError) as e:
        raise fail(path, f"the architecture's {_short_message(e)}") from None
    if out != (1,):
        raise fail(path, f"the architecture's layers must give one probability per example. "
                    f"They give shape {out}.")
    if tta and len(shape) != 3:
        raise fail(path, "the architecture's tta (views of an image) needs images.")
    return layers, shape, tta


def _input_shape(path: Path, entry: Any, n: int) -> tuple[int, ...]:
    """The architecture's input_shape: [n] feature vectors, or [3, s, s] images (n = 3 s^2
    features; the preprocessing's image_size, checked against n, is s)."""
    if entry == [n]:
        return (n,)
    side = round((n / 3) ** 0.5)  # the preprocessing's image_size, when it has one
    if entry == [3, side, side] and 3 * side * side == n:
        return (3, side, side)
    images = f" or [3, {side}, {side}]" if 3 * side * side == n else ""
    raise fail(path, f"the architecture's input_shape must be [{n}]{images}. Got {short(entry)}.")


def _check_preprocessing(path: Path, spec: Any, n: int) -> None:
    if spec is None:
        return
    if not isinstance(spec, dict):
        raise fail(path, f"the metadata's preprocessing must be an object. Got {short(spec)}.")
    size = spec.get("image_size")
    if not is_int(size, 1, MAX_IMAGE_SIZE):
        raise fail(path, f"the preprocessing's image_size must be an int in [1, "
                    f"{MAX_IMAGE_SIZE}]. Got {short(size)}.")
    if spec.get("channels", 3) != 3 or spec.get("scaling") != SCALING:
        raise fail(path, f"the preprocessing must be 3 channels scaled by {SCALING!r}. "
                    f"Got {short(spec)}.")
    if spec.get("pixel_order", PIXEL_ORDER) != PIXEL_ORDER:
        raise fail(path, f"the preprocessing's pixel_order must be {PIXEL_ORDER!r}.")
    if size * size * 3 != n:
        raise fail(path, f"the preprocessing's {size}x{size}x3 images make {size * size * 3} "
                    f"features, but the model has {n}.")


def output_of(path: Path, meta: Mapping[str, Any]) -> Output:
    """The output step a header records (``logicat.nn.output``); before format 4, the identity."""
    entry = meta.get("output")
    if entry is None:
        return Output()
    try:
        return Output.from_json(entry)
    except ValueError as e:
        raise fail(path, _short_message(e)) from None


def member_name(k: int, name: str) -> str:
    """Tensor ``name`` of an ensemble's member k >= 1 (the first member's keep their names)."""
    return f"members.{k}.{name}"


def _check_entries(path: Path, meta: Mapping[str, Any], entries: Mapping[str, Any],
                   architecture: tuple) -> None:
    """The tensors the header lists: exactly the expected names, dtypes and shapes."""
    dtype = "F64" if meta["dtype"] == "float64" else "F32"
    layers, shape, _ = architecture
    shapes = layer_shapes(layers, shape)[0]
    expected = {name: (shape, (dtype,)) for name, shape in shapes.items()}
    for k in range(1, output_of(path, meta).members):
        expected.update({member_name(k, name): (shape, (dtype,))
                         for name, shape in shapes.items()})
    expected["cost_history"] = ((meta["n_iter"],), ("F64", "F32"))
    optional = {"validation_cost_history": ((meta["n_iter"],), ("F64", "F32"))}
    check_tensors(path, entries, expected, optional)


def check_tensors(path: Path, entries: Mapping[str, Any],
                  expected: Mapping[str, tuple[tuple[int, ...], tuple[str, ...]]],
                  optional: Mapping[str, tuple[tuple[int, ...], tuple[str, ...]]]) -> None:
    """Each tensor: a known name, one of its dtypes (safetensors' codes: F64, I64...), its
    shape; every expected one present."""
    for name in entries:
        if name not in expected and name not in optional:
            raise fail(path, f"unexpected tensor {short(name)} (this file should hold "
                        f"{', '.join(map(repr, expected))}).")
    for name, (shape, dtypes) in {**expected, **optional}.items():
        entry = entries.get(name)
        if entry is None:
            if name in optional:
                continue
            raise fail(path, f"the tensor {name!r} is missing.")
        if not isinstance(entry, dict) or entry.get("dtype") not in dtypes:
            got = entry.get("dtype") if isinstance(entry, dict) else entry
            wanted = " or ".join(_FLOATS.get(d, "int64") for d in dtypes)
            raise fail(path, f"tensor {name!r} must be {wanted}. Got {short(got)}.")
        if entry.get("shape") != list(shape):
            got = entry.get("shape")
            got = short(tuple(got) if isinstance(got, list) else got)
            raise fail(path, f"tensor {name!r} has shape {got}, but "
                        f"the metadata says {shape}.")


def check_computable(path: Path, model: Any) -> None:
    """Once the model is built from the file: every layer can use its tensors and no input
    image can make a value overflow the model's dtype (``logicat.nn.bounds``; the ``Model``
    read). The memory one image needs is checked by what computes (``Model.check_memory``)."""
    layers = model.layers
    spec = model.preprocessing
    for k, tensors in enumerate(model.members):
        problem = check_layer_tensors(layers, tensors) or (
            check_range(layers, tensors, model.input_shape, model.dtype) if spec is not None
            else None)
        if problem:
            raise fail(path, problem if k == 0 else f"member {k + 1}: {problem}")


def check_values(path: Path, tensors: Mapping[str, np.ndarray]) -> None:
    """Once loaded: every floating-point tensor finite (logicat never saves a NaN: a run whose
    cost or parameters became non-finite ends with a divergence error)."""
    for name, values in tensors.items():
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise fail(path, f"the tensor {name!r} contains NaN or infinity.")
