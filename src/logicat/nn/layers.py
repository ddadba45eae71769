r"""The layer vocabulary: a model is a list of layers, as data, that every engine interprets.

Each layer is a type and its options, and - when it holds tensors - the names of those tensors in
model files (``name.role``: ``features.0.weight``; or, for the dense families' historical names,
an explicit ``tensors`` map: ``{"weight": "coef", "bias": "intercept"}``). Images flow as
(m, C, H, W) (channels first, PyTorch's layout), vectors as (m, n):

    type        options (defaults)                tensors (shapes)
    normalize   -                                 mean, std (C,): (x - mean_c) / std_c
    conv2d      filters, kernel 3, stride 1,      weight (filters, C, k, k) [, bias (filters,)]:
                padding 1, bias false             cross-correlation, as PyTorch's Conv2d
    batchnorm   eps 1e-5, momentum 0.1            weight, bias, running_mean, running_var (C,);
                                                  inference uses the running statistics
    relu, tanh, sigmoid                           element-wise
    maxpool     kernel 2, stride = kernel         the max of each window (floor, as PyTorch)
    gap         -                                 the mean over H, W: (m, C)
    flatten     -                                 (m, C H W), in PyTorch's order
    dropout     rate 0                            the identity in inference
    dense       units, bias true, layout out_in   weight, bias (units,): z = x W^T + b with
                                                  W (units, n) ("out_in", PyTorch's), z = x W + b
                                                  with W (n, units) ("in_out") or w (n,)
                                                  ("vector", one unit)

The last layer of a classifier is ``sigmoid`` after a ``dense`` of 1 unit: what comes into it is
the logit z, what comes out p(positive class). Logistic regression is ``[dense(1), sigmoid]``,
the course's networks ``[dense(20), relu, ..., dense(1), sigmoid]``, the ConvNet
``[normalize, (conv2d, batchnorm, relu) x c, maxpool] x k + [gap, dropout, dense(1), sigmoid]``
(``logicat.nn.families`` builds each). Model files store the list under
``architecture.layers``, one JSON object per layer (``to_json`` / ``from_json``, checked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from logicat.core.errors import ParameterError, ShapeError

#: each layer type's options and their defaults (None: required)
OPTIONS: dict[str, dict[str, Any]] = {
    "normalize": {},
    "conv2d": {"filters": None, "kernel": 3, "stride": 1, "padding": 1, "bias": False},
    "batchnorm": {"eps": 1e-5, "momentum": 0.1},
    "relu": {},
    "tanh": {},
    "sigmoid": {},
    "maxpool": {"kernel": 2, "stride": None},
    "gap": {},
    "flatten": {},
    "dropout": {"rate": 0.0},
    "dense": {"units": None, "bias": True, "layout": "out_in"},
}
ACTIVATIONS = ("relu", "tanh", "sigmoid")
LAYOUTS = ("out_in", "in_out", "vector")
#: bounds that every engine, the memory check and a file's reader share
MAX_LAYERS, MAX_WIDTH, MAX_KERNEL, MAX_STRIDE = 256, 4096, 11, 8
MAX_UNITS = 1 << 20
_INT_BOUNDS = {"filters": (1, MAX_WIDTH), "kernel": (1, MAX_KERNEL), "stride": (1, MAX_STRIDE),
               "padding": (0, MAX_KERNEL), "units": (1, MAX_UNITS)}
#: (low, high, which ends are included: "[)", "()", "[]")
_FLOAT_BOUNDS = {"eps": (0.0, 1.0, "()"), "momentum": (0.0, 1.0, "[]"),
                 "rate": (0.0, 1.0, "[)")}


@dataclass(frozen=True)
class Layer:
    """One layer: its ``type``, its ``options`` (all of them, defaults filled in), its ``name``
    (the prefix of its tensors' names) and, optionally, explicit ``tensors`` names by role."""

    type: str
    options: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None
    tensors: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", check_options(self.type, dict(self.options)))

    def __getitem__(self, option: str) -> Any:
        return self.options[option]

    def roles(self) -> tuple[str, ...]:
        """The tensors this layer holds, by role, in PyTorch's ``state_dict`` order."""
        if self.type == "normalize":
            return ("mean", "std")
        if self.type == "conv2d":
            return ("weight", "bias") if self["bias"] else ("weight",)
        if self.type == "batchnorm":
            return ("weight", "bias", "running_mean", "running_var")
        if self.type == "dense":
            return ("weight", "bias") if self["bias"] else ("weight",)
        return ()

    def tensor_names(self) -> dict[str, str]:
        """role -> the tensor's name in model files."""
        if self.tensors is not None:
            return {role: self.tensors[role] for role in self.roles()}
        return {role: f"{self.name}.{role}" for role in self.roles()}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, **self.options}
        if self.name is not None:
            out["name"] = self.name
        if self.tensors is not None:
            out["tensors"] = dict(self.tensors)
        return out


def layer(type: str, name: str | None = None, tensors: Mapping[str, str] | None = None,
          **options: Any) -> Layer:
    """``layer("conv2d", "features.0", filters=16)``: a checked ``Layer``."""
    return Layer(type, options, name, tensors)


def check_options(type: str, options: dict[str, Any]) -> dict[str, Any]:
    """The layer's options with the defaults filled in, or a one-line ``ParameterError``."""
    if type not in OPTIONS:
        raise ParameterError(f"A layer's type must be one of {', '.join(OPTIONS)}. Got "
                             f"{_short(type)} instead.")
    unknown = sorted(set(options) - set(OPTIONS[type]))
    if unknown:
        allowed = ", ".join(OPTIONS[type]) or "none"
        raise ParameterError(f"A {type} layer takes the options {allowed}. Got "
                             f"{_short(unknown[0])} instead.")
    merged = {**OPTIONS[type], **options}
    if type == "maxpool" and merged["stride"] is None:
        merged["stride"] = merged["kernel"]
    for key, value in merged.items():
        if value is None:
            raise ParameterError(f"A {type} layer needs its {key!r} option.")
        if key in _INT_BOUNDS:
            low, high = _INT_BOUNDS[key]
            if not (isinstance(value, int) and not isinstance(value, bool)
                    and low <= value <= high):
                raise ParameterError(f"A {type} layer's {key} must be an int in [{low}, "
                                     f"{high}]. Got {_short(value)} instead.")
        elif key in _FLOAT_BOUNDS:
            low, high, ends = _FLOAT_BOUNDS[key]
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (number and (low <= value if ends[0] == "[" else low < value)
                    and (value <= high if ends[1] == "]" else value < high)):
                raise ParameterError(f"A {type} layer's {key} must be a number in {ends[0]}"
                                     f"{low}, {high}{ends[1]}. Got {_short(value)} instead.")
        elif key == "bias" and not isinstance(value, bool):
            raise ParameterError(f"A {type} layer's bias must be true or false. Got "
                                 f"{_short(value)} instead.")
        elif key == "layout" and value not in LAYOUTS:
            raise ParameterError(f"A dense layer's layout must be one of {', '.join(LAYOUTS)}. "
                                 f"Got {_short(value)} instead.")
    if type == "dense" and merged["layout"] == "vector" and merged["units"] != 1:
        raise ParameterError("A dense layer laid out as a vector has 1 unit. Got "
                             f"{merged['units']} units.")
    return merged


def from_json(entries: Any) -> list[Layer]:
    """The layers a model file's ``architecture.layers`` lists, checked (``ParameterError``
    with one line naming the layer that is wrong)."""
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_LAYERS:
        raise ParameterError(f"the architecture's layers must be a list of 1 to {MAX_LAYERS} "
                             f"objects. Got {_short(entries)}.")
    layers = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise ParameterError(f"layer {i} must be an object with a 'type'. Got "
                                 f"{_short(entry)}.")
        options = {k: v for k, v in entry.items() if k not in ("type", "name", "tensors")}
        name, tensors = entry.get("name"), entry.get("tensors")
        if name is not None and not _is_name(name):
            raise ParameterError(f"layer {i}'s name must be a short printable string. Got "
                                 f"{_short(name)}.")
        if tensors is not None and not (isinstance(tensors, dict) and all(
                isinstance(k, str) and _is_name(v) for k, v in tensors.items())):
            raise ParameterError(f"layer {i}'s tensors must map roles to tensor names. Got "
                                 f"{_short(tensors)}.")
        try:
            built = Layer(entry["type"], options, name, tensors)
        except ParameterError as e:
            raise ParameterError(f"layer {i}: {e}") from None
        if built.roles() and name is None and (tensors is None or set(tensors) != set(
                built.roles())):
            raise ParameterError(f"layer {i} ({built.type}) holds tensors "
                                 f"({', '.join(built.roles())}): it needs a name or their names.")
        layers.append(built)
    return layers


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
        names = lay.tensor_names()
        kind, o = lay.type, lay.options

        def need(ndim: int, what: str, shape=shape, i=i, kind=kind) -> None:
            if len(shape) != ndim:
                raise ShapeError(f"layer {i} ({kind}) takes {what}. Its input has shape "
                                 f"{shape}.")

        if kind == "normalize":
            out.update({names["mean"]: (shape[0],), names["std"]: (shape[0],)})
        elif kind == "conv2d":
            need(3, "images (C, H, W)")
            k, s, p = o["kernel"], o["stride"], o["padding"]
            side = [(d + 2 * p - k) // s + 1 for d in shape[1:]]
            if min(side) < 1:
                raise ShapeError(f"layer {i} (conv2d, kernel {k}) is larger than its "
                                 f"{shape[1]}x{shape[2]} input.")
            out[names["weight"]] = (o["filters"], shape[0], k, k)
            if o["bias"]:
                out[names["bias"]] = (o["filters"],)
            shape = (o["filters"], *side)
        elif kind == "batchnorm":
            out.update({names[r]: (shape[0],) for r in lay.roles()})
        elif kind == "maxpool":
            need(3, "images (C, H, W)")
            k, s = o["kernel"], o["stride"]
            side = [(d - k) // s + 1 for d in shape[1:]]
            if min(side) < 1:
                raise ShapeError(f"layer {i} (maxpool {k}) is larger than its "
                                 f"{shape[1]}x{shape[2]} input.")
            shape = (shape[0], *side)
        elif kind == "gap":
            need(3, "images (C, H, W)")
            shape = (shape[0],)
        elif kind == "flatten":
            shape = (int(_prod(shape)),)
        elif kind == "dense":
            need(1, "vectors (n,)")
            n, units = shape[0], o["units"]
            out[names["weight"]] = {"out_in": (units, n), "in_out": (n, units),
                                    "vector": (n,)}[o["layout"]]
            if o["bias"]:
                out[names["bias"]] = (units,)
            shape = (units,)
    return out, shape


def values_per_example(layers: Sequence[Layer], input_shape: tuple[int, ...]) -> int:
    """How many values the layers' outputs hold for one example (what a training step keeps
    for its backward pass, per image), the input's included."""
    total, shape = int(_prod(input_shape)), tuple(input_shape)
    for lay in layers:
        shape = shapes([lay], shape)[1]
        total += int(_prod(shape))
    return total


def n_params(layers: Sequence[Layer], input_shape: tuple[int, ...]) -> int:
    """The number of values the layers' tensors hold (BatchNorm's statistics included)."""
    return sum(int(_prod(s)) for s in shapes(layers, input_shape)[0].values())


def logit_layers(layers: Sequence[Layer]) -> list[Layer]:
    """The layers up to the logit: all but a final ``sigmoid``."""
    return list(layers[:-1]) if layers and layers[-1].type == "sigmoid" else list(layers)


def has(layers: Sequence[Layer], type: str) -> bool:
    return any(lay.type == type for lay in layers)


def is_linear(layers: Sequence[Layer]) -> bool:
    """Whether the logit is one dense unit of the (maybe normalised) input: z = w x + b, the
    lesson's logistic regression, whose weights each multiply one input value."""
    return [lay.type for lay in logit_layers(layers) if lay.type != "normalize"] == ["dense"]


def takes_images(layers: Sequence[Layer]) -> bool:
    """Whether the layers take images (C, H, W) - their first layer after a ``normalize`` is a
    convolution, pooling or flatten - rather than feature vectors (n,)."""
    first = next((lay for lay in layers if lay.type != "normalize"), None)
    return first is not None and first.type in ("conv2d", "maxpool", "gap", "flatten")


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


def _prod(values) -> int:
    total = 1
    for v in values:
        total *= int(v)
    return total


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 200 and value.isprintable()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
