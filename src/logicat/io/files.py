"""Model files and checkpoints: tensors in safetensors, everything else as JSON in its header.

A model file holds the model's list of layers and every tensor they name, and one header entry,
``logicat``, a JSON object. Its ``architecture`` is the model (format 6): ``layers``, one JSON
object per layer (``logicat.nn.layers``; a residual block's layers nested), ``input_shape``
((n,) feature vectors or (3, s, s) images) and ``tta``. The tensors keep the names the layers
give them - ``coef`` (n,) and ``intercept`` (1,) for logistic regression, ``coefs.l`` /
``intercepts.l`` for a course's network, ``feature_mean`` / ``feature_scale`` for its
standardisation, ``features.<i>.weight`` for the ConvNet - and an ensemble's other members'
``members.<k>.<name>`` (k = 1..K-1); ``cost_history`` (n_iter,) and, when used,
``validation_cost_history`` come with them. The header also records the image size, the pixel
order, the scaling, the class names and which one is positive, the hyperparameters, the metrics,
the logicat version, the SHA-256 of the training data and the output step (``output``: the
members, how they combine, the calibration's temperature, the training class mix and the one
decisions are made at; ``logicat.nn.output``). Files of formats 1 to 5, whose architecture was
a family's settings, still read (``nn.architectures.legacy_architecture``) and predict the
same. A checkpoint holds the whole
state of a run (``logicat.training.loop.Snapshot``). safetensors never executes code on load
(unlike pickle).

Nothing a file claims is trusted before it is checked: ``read_model`` validates the header's
JSON (types, ranges, sizes and depth, known versions) and every tensor's name, dtype, shape and
values against it, and refuses anything else with one line, ``<file>: <what is wrong>``
(``ModelFileError``). Writing goes through ``logicat.core.paths.atomic_output``: an interrupted save
never replaces a good file with a broken one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from logicat.core.errors import ModelFileError
from logicat.core.paths import atomic_write_bytes, regular_file
from logicat.io.validate import (
    FORMAT,
    FORMAT_VERSION,
    check_computable,
    check_model,
    check_values,
    member_name,
    output_of,
    read_header,
)
from logicat.model import Model
from logicat.nn.layers import shapes as layer_shapes
from logicat.nn.layers import to_json as layers_to_json

_HEADER_KEY = "logicat"


@dataclass
class Snapshot:
    """The whole state of a run between two epochs, what a checkpoint holds: arrays, and
    JSON-able values (``logicat.training.loop.Trainer`` takes and restores them)."""

    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    source: str = "the checkpoint"  # where it was read from, for messages
_CHECKPOINT_KEY = "logicat_checkpoint"


# ------------------------------------------------------------------------------ writing
def save_model(model: Model, path: str | os.PathLike[str], **metadata: Any) -> Path:
    """Write ``model`` to ``path`` atomically; keyword arguments are extra header entries.

    ``preprocessing={"image_size": 64, ...}``, ``class_names=["non-cat", "cat"]``,
    ``training_data={"sha256": ...}``, ``metrics={...}`` ... (JSON-serialisable); they are merged
    over ``model.metadata``.
    """
    from safetensors.numpy import save

    from logicat import __version__
    from logicat.core.machine import describe, threads_in_use

    header = dict(model.metadata)
    header.update(metadata)
    header.pop("feature_standardization", None)  # before format 6; now the list's normalize
    header.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        logicat_version=__version__,
        architecture={"input_shape": list(model.input_shape), "tta": model.tta,
                      "layers": layers_to_json(model.layers)},
        n_features=model.n_features,
        dtype=str(model.dtype),
        classes=[_json_scalar(c) for c in model.classes],
        n_iter=int(model.n_iter),
    )
    header.setdefault("class_names", [str(c) for c in model.classes])
    # where the numbers came from: float32 results depend on the processor and its threads
    header.setdefault("machine", f"{describe()}; {threads_in_use()}")
    header.setdefault("positive_class", header["class_names"][1])
    header["output"] = model.output.to_json()
    tensors = {name: np.ascontiguousarray(t) for name, t in model.tensors.items()}
    for k, member in enumerate(model.ensemble, start=1):  # the other members of an ensemble
        tensors.update({member_name(k, name): np.ascontiguousarray(t)
                        for name, t in member.items()})
    tensors["cost_history"] = np.ascontiguousarray(model.cost_history, dtype=np.float64)
    if model.validation_cost_history is not None:
        tensors["validation_cost_history"] = np.ascontiguousarray(
            model.validation_cost_history, dtype=np.float64)
    data = save(tensors, metadata={_HEADER_KEY: json.dumps(header)})
    atomic_write_bytes(path, data, "model")
    model.metadata = header
    return Path(path)


def save_checkpoint(path: str | os.PathLike[str], snapshot: Snapshot) -> Path:
    """Write ``snapshot`` to ``path`` (atomically) and return the path."""
    from safetensors.numpy import save

    from logicat.io.validate_checkpoint import CHECKPOINT_FORMAT, CHECKPOINT_VERSION

    meta = dict(snapshot.meta, format=CHECKPOINT_FORMAT, format_version=CHECKPOINT_VERSION)
    tensors = {k: np.ascontiguousarray(v) for k, v in snapshot.tensors.items()}
    data = save(tensors, metadata={_CHECKPOINT_KEY: json.dumps(meta)})
    atomic_write_bytes(path, data, "checkpoint")
    return Path(path)


def _json_scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ------------------------------------------------------------------------------ reading
def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The header of a logicat model file, validated, without reading the weights."""
    path = Path(path)
    entries, meta = read_header(path, _HEADER_KEY, "model file")
    check_model(path, meta, entries)
    return meta


def _load(path: Path, what: str) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(f"{path}: corrupted {what} ({_first_line(e)}).") from None
    check_values(path, tensors)
    return tensors


def read_model(path: str | os.PathLike[str]) -> Model:
    """Read a model file written by ``save_model`` (one-line ``ModelFileError`` if it is not)."""
    path = Path(path)
    entries, meta = read_header(path, _HEADER_KEY, "model file")
    layers, input_shape, tta = check_model(path, meta, entries)
    tensors = _load(path, "model file")
    output = output_of(path, meta)
    names = list(layer_shapes(layers, input_shape)[0])
    model = Model(
        layers=layers,
        tensors={name: tensors[name] for name in names},
        input_shape=input_shape,
        classes=list(meta["classes"]),
        cost_history=tensors["cost_history"],
        validation_cost_history=tensors.get("validation_cost_history"),
        n_iter=int(meta["n_iter"]),
        metadata=meta,
        tta=tta,
        ensemble=[{name: tensors[member_name(k, name)] for name in names}
                  for k in range(1, output.members)],
        output=output,
        source=str(path),
    )
    check_computable(path, model)
    return model


def load_checkpoint(path: str | os.PathLike[str]) -> Snapshot:
    """Read a checkpoint written by ``save_checkpoint``, validated (one-line ``ModelFileError``
    if it is not one)."""
    from logicat.io.validate_checkpoint import check_checkpoint, renamed_state

    path = regular_file(path, "checkpoint file", ModelFileError)
    entries, meta = read_header(path, _CHECKPOINT_KEY, "checkpoint", allow_nan=True)
    renames = renamed_state(meta, list(entries))  # a version 2 file's optimizer state
    entries = {renames.get(name, name): entry for name, entry in entries.items()}
    check_checkpoint(path, meta, entries)
    tensors = {renames.get(name, name): t for name, t in _load(path, "checkpoint").items()}
    held_out = tensors.get("validation_indices")
    if held_out is not None and (held_out.size == 0 or held_out[0] < 0
                                 or np.any(np.diff(held_out) <= 0)):
        raise ModelFileError(f"{path}: the tensor 'validation_indices' must be increasing "
                             "row numbers >= 0.")
    if "optimizer.step" in tensors and tensors["optimizer.step"][0] < 0:
        raise ModelFileError(f"{path}: the optimizer's step count must be >= 0.")
    return Snapshot(tensors, meta, source=str(path))


def _first_line(e: BaseException) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__
