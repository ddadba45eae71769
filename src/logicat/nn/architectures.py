"""What a list of layers is, read from the list itself: which preset made it (the lesson's
logistic regression, one of the course's networks, the ConvNet, or none: a network of one's own
layers), its one-line description, and what a page shows of it.

A model is its list of layers (``logicat.model.Model``); the presets (``logicat.nn.families``)
are functions from hyperparameters to a list. This module goes the other way, by rebuilding:
a list is a preset's when the preset, given the settings read off the list, gives that very
list back. Nothing outside ``nn/`` and the estimators asks which preset a model came from; the
estimators ask here, to give a file back as the estimator that wrote it.

It also reads the model files written before the list was the whole description (formats 1 to
5: ``legacy_architecture``), whose ``architecture`` entry holds a family's settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from logicat.nn.convnet import ConvNetSpec, NetworkSpec, spec_from_json, spec_of
from logicat.nn.families import HEADS, dense_layers, standardized
from logicat.nn.hyperparameters import CONVNET_DEFAULTS
from logicat.nn.hyperparameters import MAX_HIDDEN_LAYERS as MAX_LAYERS
from logicat.nn.layer import MAX_UNITS, prod, short
from logicat.nn.layers import ACTIVATIONS, Layer


@dataclass(frozen=True)
class Dense:
    """The course's networks (``nn.families.dense_layers``): the hidden layers' widths (none:
    logistic regression), their activation, and whether a ``normalize`` of each feature comes
    first (trained on standardised features)."""

    hidden: tuple[int, ...]
    activation: str
    standardized: bool

    def weights(self, layers: Sequence[Layer], tensors: Mapping[str, Any]) -> list[Any]:
        """The dense layers' tensors in the course's order: [W_1, b_1, ..., w, b]."""
        return [tensors[lay.tensor_names()[role]] for lay in layers if lay.type == "dense"
                for role in ("weight", "bias")]

    def statistics(self, layers: Sequence[Layer], tensors: Mapping[str, Any]
                   ) -> tuple[Any, Any]:
        """The standardisation's (mean, scale) of each feature, or (None, None)."""
        if not self.standardized:
            return None, None
        names = layers[0].tensor_names()
        return tensors[names["mean"]], tensors[names["std"]]


def dense(layers: Sequence[Layer]) -> Dense | None:
    """The course's network ``layers`` are (logistic regression: no hidden layer), or None."""
    layers = list(layers)
    normalized = bool(layers) and layers[0].type == "normalize"
    body = layers[1:] if normalized else layers
    units = [lay.options.get("units") for lay in body if lay.type == "dense"]
    activations = [lay.type for lay in body[1:-2:2]]
    activation = activations[0] if activations else "relu"
    if not units or activation not in ACTIVATIONS or not all(
            isinstance(u, int) for u in units):
        return None
    found = Dense(tuple(units[:-1]), activation, normalized)
    expected = dense_layers(found.hidden, activation)
    return found if (standardized(expected) if normalized else expected) == layers else None


def convnet(layers: Sequence[Layer], image_size: int, tta: bool | str = False
            ) -> ConvNetSpec | None:
    """The ConvNet (``nn.families.convnet_layers``) ``layers`` are, on ``image_size`` images, or
    None: its blocks' widths and convolutions, its head, its hidden width."""
    layers = list(layers)
    widths, convs, i = [], set(), 1
    while i < len(layers) and layers[i].type == "conv2d":
        width, n = layers[i].options.get("filters"), 0
        while i < len(layers) and layers[i].type == "conv2d":
            n, i = n + 1, i + 3
        if i >= len(layers) or layers[i].type != "maxpool" or not isinstance(width, int):
            return None
        widths.append(width)
        convs.add(n)
        i += 1
    if not widths or len(convs) != 1 or i >= len(layers) or layers[i].type not in HEADS:
        return None
    hidden = layers[i + 2].options.get("units", 0) if len(layers) - i == 7 else 0
    spec = ConvNetSpec(tuple(widths), convs.pop(), layers[i].type, hidden, image_size, tta)
    return spec if spec.layers() == layers else None


def describe(layers: Sequence[Layer], input_shape: Sequence[int], tta: bool | str = False) -> str:
    """The model in one line: "logistic regression 12288 -> 1", "network 12288 -> 20 -> 7 ->
    5 -> 1 (relu)", the ConvNet's blocks, or a network's layers and convolutions."""
    found = dense(layers)
    if found is not None:
        sizes = " -> ".join(map(str, (input_shape[0], *found.hidden, 1)))
        return (f"network {sizes} ({found.activation})" if found.hidden
                else f"logistic regression {sizes}")
    if len(input_shape) != 3:
        return f"network {input_shape[0]} -> {len(layers)} layers -> 1"
    return image_spec(layers, input_shape, tta).description


def image_spec(layers: Sequence[Layer], input_shape: Sequence[int], tta: bool | str = False
               ) -> ConvNetSpec | NetworkSpec:
    """An image network's list as the ConvNet's spec when it is the ConvNet's, else as a network
    of its own layers (between its input's ``normalize`` and its ``sigmoid``)."""
    size = int(input_shape[-1])
    return convnet(layers, size, tta) or NetworkSpec(tuple(layers[1:-1]), size, tta)


def summary(layers: Sequence[Layer], input_shape: Sequence[int], tta: bool | str = False
            ) -> dict[str, Any]:
    """What a page shows of the model: its kind ("logistic regression", "network" of hidden
    dense layers, "convnet", or "layers": a network of its own layers), its description, its
    hidden layers' widths and activation (a dense network), its blocks' widths (the ConvNet) or
    its number of layers."""
    found = dense(layers)
    out: dict[str, Any] = {"description": describe(layers, input_shape, tta),
                           "hidden_layer_sizes": list(found.hidden) if found else [],
                           "activation": found.activation if found and found.hidden else None}
    if found is not None:
        return {"kind": "network" if found.hidden else "logistic regression", **out}
    if len(input_shape) != 3:
        return {"kind": "layers", **out, "layers": len(layers)}
    spec = image_spec(layers, input_shape, tta)
    if isinstance(spec, ConvNetSpec):
        return {"kind": "convnet", **out, "widths": list(spec.widths)}
    return {"kind": "layers", **out, "layers": len(spec.body)}


def legacy_architecture(architecture: Mapping[str, Any] | None, n_features: int,
                        standardization: bool, listed: Sequence[Layer] | None = None
                        ) -> tuple[list[Layer], tuple[int, ...], bool]:
    """(layers, input shape, TTA) of a model file of formats 1 to 5, from its ``architecture``
    entry: an image network's spec (``kind`` "convnet" or "network"), or a dense network's
    ``hidden_layer_sizes`` and ``activation`` (none in format 1: logistic regression), on
    standardised features when the header's ``feature_standardization`` says so. From format 3
    on the file also lists its layers (``listed``): they must be that very list - no file
    describes two models. A ``ValueError`` says in one line what is wrong."""
    architecture = architecture or {}
    if architecture.get("kind") in ("convnet", "network"):
        spec = spec_from_json(architecture)
        layers, shape = spec.layers(), (3, spec.image_size, spec.image_size)
        if prod(shape) != n_features:
            raise ValueError(f"the {architecture['kind']}'s {shape[-1]}x{shape[-1]}x3 images "
                             f"make {prod(shape)} features, but the metadata says n_features "
                             f"= {n_features}.")
    else:
        hidden, activation = (architecture.get(key, default) for key, default in
                              (("hidden_layer_sizes", []), ("activation", "relu")))
        if not (isinstance(hidden, list) and len(hidden) <= MAX_LAYERS and all(
                isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= MAX_UNITS
                for h in hidden)):
            raise ValueError(f"the architecture's hidden_layer_sizes must be a list of at most "
                             f"{MAX_LAYERS} ints in [1, {MAX_UNITS}]. Got {short(hidden)}.")
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ValueError(f"the architecture's activation must be one of "
                             f"{', '.join(map(repr, ACTIVATIONS))}. Got {short(activation)}.")
        layers, shape = dense_layers(hidden, activation), (int(n_features),)
        layers = standardized(layers) if standardization else layers
        spec = None
    for i, (mine, theirs) in enumerate(zip(listed or [], layers, strict=False)):
        if mine != theirs:
            raise ValueError(f"the architecture's layer {i} is {short(mine.to_json())}, but "
                             f"its other entries describe {short(theirs.to_json())}.")
    if listed is not None and len(listed) != len(layers):
        raise ValueError(f"the architecture lists {len(listed)} layers, but its other entries "
                         f"describe {len(layers)}.")
    return layers, shape, bool(spec is not None and spec.tta)



def checkpoint_architecture(kind: str, hyperparameters: Mapping[str, Any], n_features: int
                            ) -> tuple[list[Layer], tuple[int, ...]]:
    """(layers, input shape) whose tensors a checkpoint of versions 2 and 3 holds - they name
    no list: the estimator ``kind``'s preset for its ``hyperparameters`` (the ConvNet's or a
    network of one's own layers on s x s x 3 images; else the dense network of its hidden
    layers, without a standardisation, whose statistics those checkpoints did not keep). A
    ``ValueError`` says in one line what is wrong."""
    if kind in ("ConvNetClassifier", "NetworkClassifier"):
        size = round((n_features / 3) ** 0.5)
        if 3 * size * size != n_features:
            raise ValueError(f"the checkpoint's n_features {n_features} is not the size of "
                             "s x s x 3 images.")
        try:
            spec = spec_of({**CONVNET_DEFAULTS, **hyperparameters}, size)
        except (ValueError, TypeError) as e:
            raise ValueError(f"its architecture is invalid: {short(str(e))}") from None
        return spec.layers(), (3, size, size)
    hidden = list(hyperparameters.get("hidden_layer_sizes", [])) if (
        kind == "MLPClassifier") else []
    if len(hidden) > MAX_LAYERS:
        raise ValueError(f"the checkpoint's network has more than {MAX_LAYERS} layers.")
    return dense_layers(hidden), (int(n_features),)
