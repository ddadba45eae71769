"""The layers you build a network from, as a list:

    from logicat.layers import Conv2d, BatchNorm, ReLU, MaxPool, Residual, GlobalAvgPool, Dense
    layers = [Conv2d(16), BatchNorm(), ReLU(), MaxPool(),
              Residual([Conv2d(16), BatchNorm(), ReLU(), Conv2d(16), BatchNorm()]), ReLU(),
              GlobalAvgPool(), Dense(1)]        # the last layer gives the logit

Each class is one layer type of ``logicat.nn.layer_types`` (what a type holds:
``logicat.nn.layer``; the vocabulary and its options: ``logicat.nn.layers``); a type registered
there appears here. Three ways in and out besides writing the list:

    from_torch(module)          a ``torch.nn.Sequential`` of standard modules as the list (and,
                                with ``weights=True``, its ``state_dict`` under the layers'
                                tensor names)
    read_layers, write_layers   the list as a JSON file, one object per layer (what a model
                                file's ``architecture.layers`` holds; ``logicat train --layers``)

Importing this module imports NumPy, never torch: ``from_torch`` imports torch when it runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from logicat.core.errors import InputFileError, ParameterError
from logicat.core.paths import atomic_write_bytes, regular_file
from logicat.nn import layer_types  # noqa: F401  (importing it registers every type)
from logicat.nn.layer import MAX_LAYERS, TYPES, Layer, short
from logicat.nn.layers import from_json, to_json

#: a layers file is a few kilobytes; anything past this is not one
MAX_FILE_BYTES = 1 << 20

globals().update({cls.__name__: cls for cls in TYPES.values()})
__all__ = sorted(cls.__name__ for cls in TYPES.values()) + [
    "from_torch", "read_layers", "write_layers"]


def from_torch(module: Any, weights: bool = False, prefix: str = "net."
               ) -> list[Layer] | tuple[list[Layer], dict[str, Any]]:
    """The layers an ``nn.Sequential`` of standard ``torch.nn`` modules computes, module ``i``
    becoming layer ``i`` (named ``prefix`` + ``i`` where it holds tensors: ``net.0.weight``,
    the names ``nn.layers.resolve`` gives); with ``weights``, ``(layers, tensors)``: the
    module's ``state_dict`` as float NumPy arrays under those names (float64 stays float64,
    other floats become float32; ``num_batches_tracked`` is left out).

    Each module is read by the layer type that names its class in ``TORCH`` (``Conv2d``,
    ``BatchNorm2d``/``BatchNorm1d``, ``ReLU``, ``LeakyReLU``, ``Tanh``, ``Sigmoid``,
    ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d(1)``, ``Flatten``, ``Linear``,
    ``Dropout``, ...). Anything else - another container, a module no type reads (a subclass
    included: its forward may differ), an option the type does not have - is a one-line
    ``ParameterError`` naming the module by its index and class.
    """
    import torch
    from torch import nn

    if type(module) is not nn.Sequential:
        raise ParameterError("from_torch reads an nn.Sequential of standard torch.nn modules. "
                             f"Got {type(module).__name__}.")
    if not 1 <= len(module) <= MAX_LAYERS:
        raise ParameterError(f"from_torch reads an nn.Sequential of 1 to {MAX_LAYERS} modules. "
                             f"Got {len(module)}.")
    readers = {torch_name: cls for cls in TYPES.values() for torch_name in cls.TORCH}
    layers, children = [], list(module)
    for i, child in enumerate(children):
        kind = type(child).__name__
        if kind not in readers or getattr(nn, kind, None) is not type(child):
            raise ParameterError(f"module {i} ({kind}) of the Sequential has no logicat layer "
                                 f"type; the types read {', '.join(sorted(readers))}.")
        try:
            built = readers[kind].from_torch(child, f"{prefix}{i}")
        except ParameterError as e:
            raise ParameterError(f"module {i} ({kind}) of the Sequential: {e}") from None
        layers.append(built if built.roles() else built.renamed(None))
    if not weights:
        return layers
    tensors = {}
    for built, child in zip(layers, children, strict=True):
        for role, name in built.tensor_names().items():
            value = getattr(child, role).detach().cpu()
            value = value.double() if value.dtype == torch.float64 else value.float()
            tensors[name] = value.numpy().copy()
    return layers, tensors


def read_layers(path: str | os.PathLike[str]) -> list[Layer]:
    """The layers a JSON file lists, one object per layer (``write_layers``' files, a model
    file's ``architecture.layers``; names may be left out: ``nn.layers.resolve`` gives them),
    checked. A file that is missing, not JSON or not such a list is one ``InputFileError``
    line naming it."""
    path = regular_file(path, "layers file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputFileError(f"{path}: a layers file holds at most {MAX_FILE_BYTES} bytes of "
                             f"JSON. This one holds {size}.")
    try:
        entries = json.loads(path.read_bytes().decode("utf-8"))
    except RecursionError:
        raise InputFileError(f"{path}: its JSON is nested too deeply to be a list of layers."
                             ) from None
    except ValueError as e:  # not UTF-8, or not JSON
        raise InputFileError(f"{path}: not a JSON list of layers ({e}).") from None
    try:
        return from_json(entries, named=False)
    except ParameterError as e:
        raise InputFileError(f"{path}: {e}") from None


def write_layers(layers: Sequence[Layer], path: str | os.PathLike[str]) -> Path:
    """Write ``layers`` to ``path`` as JSON, one layer per line (``read_layers`` gives them
    back), atomically; return the path."""
    bad = next((i for i, lay in enumerate(layers) if not isinstance(lay, Layer)), None)
    if bad is not None or not layers:
        raise ParameterError("write_layers writes a list of 1 or more logicat layers. Got "
                             f"{short(layers if bad is None else layers[bad])}.")
    lines = ",\n".join("  " + json.dumps(entry) for entry in to_json(layers))
    return atomic_write_bytes(path, f"[\n{lines}\n]\n".encode(), "layers file")
