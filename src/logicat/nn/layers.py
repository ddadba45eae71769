r"""The layer vocabulary: a model is a list of layers, as data, that every engine interprets.

Each layer is a type and its options, and - when it holds tensors - the names of those tensors in
model files (``name.role``: ``features.0.weight``; or, for the dense families' historical names,
an explicit ``tensors`` map: ``{"weight": "coef", "bias": "intercept"}``). Images flow as
(m, C, H, W) (channels first, PyTorch's layout), vectors as (m, n):

    type        options (defaults)                tensors (shapes)
    normalize   -                                 mean, std (C,): (x - mean_c) / std_c
    conv2d      filters, kernel 3, stride 1,      weight (filters, C / groups, k, k) [, bias
                padding 1, bias false, groups 1   (filters,)]: cross-correlation, as Conv2d
    batchnorm   eps 1e-5, momentum 0.1            weight, bias, running_mean, running_var (C,);
                                                  inference uses the running statistics
    relu, tanh, sigmoid, leaky_relu (slope 0.01)  element-wise
    maxpool     kernel 2, stride = kernel         the max of each window (floor, as PyTorch)
    avgpool     kernel 2, stride = kernel         the mean of each window
    gap         -                                 the mean over H, W: (m, C)
    flatten     -                                 (m, C H W), in PyTorch's order
    dropout     rate 0                            the identity in inference
    dense       units, bias true, layout out_in   weight, bias (units,): z = x W^T + b with
                                                  W (units, n) ("out_in", PyTorch's), z = x W + b
                                                  with W (n, units) ("in_out") or w (n,)
                                                  ("vector", one unit)
    residual    body [layers], shortcut [layers]  body(x) + shortcut(x); the shortcut is the
                                                  identity or a 1x1 conv and its batchnorm

The last layer of a classifier is ``sigmoid`` after a ``dense`` of 1 unit: what comes into it is
the logit z, what comes out p(positive class). Logistic regression is ``[dense(1), sigmoid]``,
the course's networks ``[dense(20), relu, ..., dense(1), sigmoid]``, the ConvNet
``[normalize, (conv2d, batchnorm, relu) x c, maxpool] x k + [gap, dropout, dense(1), sigmoid]``
(``logicat.nn.families`` builds each). Model files store the list under
``architecture.layers``, one JSON object per layer (``to_json`` / ``from_json``, checked; a
residual block's layers nested under its ``body`` and ``shortcut``).

Each type is one class (``logicat.nn.layer_types``; what a type holds: ``logicat.nn.layer``);
this module holds what is said of a whole list: reading and writing it, naming its layers
(``resolve``), the shapes it makes, and the questions the rest of logicat asks of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from logicat.core.errors import ParameterError
from logicat.nn.layer import (
    MAX_KERNEL,
    MAX_LAYERS,
    MAX_STRIDE,
    MAX_UNITS,
    MAX_WIDTH,
    TYPES,
    Layer,
    prod,
    short,
    where,
)
from logicat.nn.layer_types import Residual
from logicat.nn.layer_types.dense import LAYOUTS

__all__ = ["ACTIVATIONS", "LAYOUTS", "MAX_KERNEL", "MAX_LAYERS", "MAX_STRIDE", "MAX_UNITS",
           "MAX_WIDTH", "Layer", "TYPES", "from_json", "layer", "resolve", "shapes", "to_json"]

#: the activations a dense network's hidden layers may use
ACTIVATIONS = ("relu", "tanh", "sigmoid")
#: each layer type's options and their defaults (None: required)
OPTIONS: dict[str, dict[str, Any]] = {name: dict(cls.OPTIONS) for name, cls in TYPES.items()}


def layer(type: str, name: str | None = None, tensors: dict[str, str] | None = None,
          **options: Any) -> Layer:
    """``layer("conv2d", "features.0", filters=16)``: a checked layer of the type ``type``."""
    if type not in TYPES or type == "residual":
        raise ParameterError(f"A layer's type must be one of {', '.join(TYPES)}. Got "
                             f"{short(type)} instead.")
    return TYPES[type](name=name, tensors=tensors, **options)


def walk(layers: Sequence[Layer]) -> Iterator[Layer]:
    """Every layer, those inside residual blocks included, depth first."""
    for lay in layers:
        yield from lay.walk()


def resolve(layers: Sequence[Layer], input_shape: tuple[int, ...], prefix: str = "net."
            ) -> list[Layer]:
    """The layers ready to train on inputs of ``input_shape``: each unnamed one named
    ``prefix`` + its index (the path of its ``torch.nn`` module: ``net.3``, inside a residual
    block ``net.4.body.0``), and each residual block's shortcut chosen (``Residual.resolved``).
    A ``ShapeError`` names the first layer that cannot take its input."""
    out, shape = [], tuple(input_shape)
    for i, lay in enumerate(layers):
        if not isinstance(lay, Layer):
            raise ParameterError(f"layer {i} must be a logicat layer (logicat.layers.Conv2d, "
                                 f"Dense, ...). Got {short(lay)}.")
        lay = lay.resolved(shape, where(i, lay))
        if lay.name is None and lay.tensors is None and (lay.roles() or lay.children):
            lay = lay.renamed(f"{prefix}{i}")
        shape = lay.output_shape(shape, where(i, lay))
        out.append(lay)
    return out


def from_json(entries: Any, depth: int = 0, named: bool = True) -> list[Layer]:
    """The layers a model file's ``architecture.layers`` lists, checked (``ParameterError``
    with one line naming the layer that is wrong). ``named``: every layer that holds tensors
    has a name (a model file's); else names may be left to ``resolve`` (a user's list)."""
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_LAYERS:
        raise ParameterError(f"the architecture's layers must be a list of 1 to {MAX_LAYERS} "
                             f"objects. Got {short(entries)}.")
    layers = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise ParameterError(f"layer {i} must be an object with a 'type'. Got "
                                 f"{short(entry)}.")
        options = {k: v for k, v in entry.items()
                   if k not in ("type", "name", "tensors", "body", "shortcut")}
        name, tensors = entry.get("name"), entry.get("tensors")
        if name is not None and not _is_name(name):
            raise ParameterError(f"layer {i}'s name must be a short printable string. Got "
                                 f"{short(name)}.")
        if tensors is not None and not (isinstance(tensors, dict) and all(
                isinstance(k, str) and _is_name(v) for k, v in tensors.items())):
            raise ParameterError(f"layer {i}'s tensors must map roles to tensor names. Got "
                                 f"{short(tensors)}.")
        try:
            if entry["type"] == "residual":
                built = _residual(entry, options, name, depth, named)
            else:
                built = layer(entry["type"], name, tensors, **options)
        except ParameterError as e:
            raise ParameterError(f"layer {i}: {e}") from None
        if named and built.roles() and name is None and (tensors is None or set(tensors) != set(
                built.roles())):
            raise ParameterError(f"layer {i} ({built.type}) holds tensors "
                                 f"({', '.join(built.roles())}): it needs a name or their names.")
        layers.append(built)
    return layers


def _residual(entry: dict, options: dict, name: Any, depth: int, named: bool) -> Residual:
    if depth >= 8:
        raise ParameterError("residual blocks nest at most 8 deep.")
    if options:
        raise ParameterError(f"a residual block takes body, shortcut and name. Got "
                             f"{short(sorted(options)[0])}.")
    if named and name is None:
        raise ParameterError("a residual block needs a name (its layers' tensors are named "
                             "under it).")
    shortcut = entry.get("shortcut")
    for part, value in (("body", entry.get("body")), ("shortcut", shortcut)):
        if not (isinstance(value, list) and len(value) <= MAX_LAYERS) or (
                part == "body" and not value):
            if part == "body" or value is not None:
                raise ParameterError(f"a residual block's {part} must be a list of "
                                     f"{'1' if part == 'body' else '0'} to {MAX_LAYERS} layers. "
                                     f"Got {short(value)}.")
    return Residual(from_json(entry.get("body"), depth + 1, named),
                    None if shortcut is None else (from_json(shortcut, depth + 1, named)
                                                   if shortcut else []), name=name)


def to_json(layers: Sequence[Layer]) -> list[dict[str, Any]]:
    return [lay.to_json() for lay in layers]


def shapes(layers: Sequence[Layer], input_shape: tuple[int, ...]
           ) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
    """({tensor name: shape}, in the layers' order; the output's shape) for one example of
    ``input_shape`` - (C, H, W) images or (n,) vectors - or a ``ShapeError`` naming the layer
    that cannot take its input."""
    out: dict[str, tuple[int, ...]] = {}
    shape = tuple(int(s) for s in input_shape)
    for i, lay in enumerate(layers):
        out.update(lay.tensor_shapes(shape))
        shape = lay.output_shape(shape, where(i, lay))
    return out, shape


def values_per_example(layers: Sequence[Layer], input_shape: tuple[int, ...]) -> int:
    """How many values the layers' outputs hold for one example (what a training step keeps
    for its backward pass, per image), the input's and those inside residual blocks included."""
    total, shape = prod(input_shape), tuple(input_shape)
    for i, lay in enumerate(layers):
        total += lay.inner_values(shape)
        shape = lay.output_shape(shape, where(i, lay))
        total += prod(shape)
    return total


def n_params(layers: Sequence[Layer], input_shape: tuple[int, ...]) -> int:
    """The number of values the layers' tensors hold (BatchNorm's statistics included)."""
    return sum(prod(s) for s in shapes(layers, input_shape)[0].values())


def logit_layers(layers: Sequence[Layer]) -> list[Layer]:
    """The layers up to the logit: all but a final ``sigmoid``."""
    return list(layers[:-1]) if layers and layers[-1].type == "sigmoid" else list(layers)


def has(layers: Sequence[Layer], type: str) -> bool:
    """Whether any layer, inside a residual block or not, is of ``type``."""
    return any(lay.type == type for lay in walk(layers))


def is_linear(layers: Sequence[Layer]) -> bool:
    """Whether the logit is one dense unit of the (maybe normalised) input: z = w x + b, the
    lesson's logistic regression, whose weights each multiply one input value."""
    return [lay.type for lay in logit_layers(layers) if lay.type != "normalize"] == ["dense"]


def takes_images(layers: Sequence[Layer]) -> bool:
    """Whether the layers take images (C, H, W) - their first layer after a ``normalize`` takes
    images (a convolution, a pooling, a residual block) or is a flatten - rather than feature
    vectors (n,)."""
    first = next((lay for lay in layers if lay.type != "normalize"), None)
    return first is not None and (first.TAKES == "images" or first.type == "flatten")


def logit_description(layers: Sequence[Layer]) -> str:
    """What the logit z is, in words, read from the layers: "z = w.x + b" for one dense unit
    of the input; else the output layer's weights times what comes into it, plus b."""
    if is_linear(layers):
        return "z = w.x + b"
    feeding = [lay.type for lay in logit_layers(layers)[:-1] if lay.type != "dropout"][-1:]
    return {"gap": "z = w.h + b, h the mean of each of the last feature maps",
            "flatten": "z = w.h + b, h the last feature maps flattened",
            }.get(feeding[0] if feeding else "",
                  "z = w.a + b, a the last hidden layer's activations")


def first_weighted(layers: Sequence[Layer]) -> Layer:
    """The first layer with weights (a conv2d or a dense): what the weight pictures draw."""
    return next(lay for lay in layers if lay.type in ("conv2d", "dense"))


def output_layer(layers: Sequence[Layer]) -> Layer:
    """The dense layer that gives the logit."""
    return next(lay for lay in reversed(logit_layers(layers)) if lay.type == "dense")


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 200 and value.isprintable()

