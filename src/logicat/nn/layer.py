r"""What a layer type is: one class holding everything logicat knows about it, and the loops every
engine runs over a list of them.

A layer type (``logicat.nn.layer_types``: one class each) holds, in one place:

    OPTIONS, check           its options, their defaults (None: required) and bounds
    ROLES                    the tensors it holds, in PyTorch's ``state_dict`` order
    output_shape             what it makes of one example of a shape ((C, H, W) or (n,))
    infer                    its NumPy forward pass in inference, as predicting computes it
    forward, backward        its NumPy forward pass keeping what its hand-derived backward
                             rule needs, and that rule (a vector-Jacobian product)
    peak, check_values       how large its values can grow from inputs in [0, 1], and what
                             its tensors must hold (``logicat.nn.bounds``)
    work_values, kept_values the memory a pass and logicat's autograd graph need
    torch_module, from_torch its ``torch.nn`` twin, both ways
    autograd                 its expression in logicat's own autograd engine
    onnx_nodes               its ONNX nodes

and every engine - NumPy here, PyTorch (``engines.torch.layers``), logicat's autograd
(``engines.autograd.layers``), ONNX (``io.onnx``) - loops over the list and asks each layer.
A type that holds other layers (``Residual``) runs them with the same loops (``run``,
``run_train``, ``run_backward``, ``propagate``), so nesting costs the engines nothing.

Images flow through the NumPy engine channels last, (m, H, W, C), and through torch and ONNX
channels first, (m, C, H, W); shapes of one example are always given channels first, as PyTorch
prints them. Tensors are looked up by their names in model files (``tensor_names``): a layer
picks its own from the whole mapping (``own``), so a nested layer finds its tensors as a top-level
one does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from logicat.core.errors import ParameterError, ShapeError

#: bounds that every engine, the memory check and a file's reader share
MAX_LAYERS, MAX_WIDTH, MAX_KERNEL, MAX_STRIDE = 256, 4096, 11, 8
MAX_UNITS = 1 << 20
_INT_BOUNDS = {"filters": (1, MAX_WIDTH), "kernel": (1, MAX_KERNEL), "stride": (1, MAX_STRIDE),
               "padding": (0, MAX_KERNEL), "units": (1, MAX_UNITS), "groups": (1, MAX_WIDTH)}
#: (low, high, which ends are included: "[)", "()", "[]")
_FLOAT_BOUNDS = {"eps": (0.0, 1.0, "()"), "momentum": (0.0, 1.0, "[]"),
                 "rate": (0.0, 1.0, "[)"), "slope": (0.0, 1.0, "[)")}
#: every registered type by its name in model files
TYPES: dict[str, type[Layer]] = {}
#: the roles that are trained (have gradients); the others are statistics
TRAINED_ROLES = ("weight", "bias")


def register(cls: type[Layer]) -> type[Layer]:
    """Class decorator: ``cls`` is the layer type ``cls.type``."""
    TYPES[cls.type] = cls
    return cls


class Layer:
    """One layer: its ``type``, its ``options`` (all of them, defaults filled in), its ``name``
    (the prefix of its tensors' names, a ``torch.nn`` module path: ``features.0``) and,
    optionally, explicit ``tensors`` names by role (the dense families' historical names).

    ``Conv2d(16)`` is a 3x3 convolution to 16 channels: the first options can be given in order.
    """

    type: ClassVar[str] = ""
    OPTIONS: ClassVar[dict[str, Any]] = {}
    #: the options a layer of this type must be given (the others have their defaults)
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    ROLES: ClassVar[tuple[str, ...]] = ()
    #: "images" (C, H, W), "vectors" (n,) or "any": what the layer takes
    TAKES: ClassVar[str] = "any"
    #: the ``torch.nn`` classes ``from_torch`` turns into this type
    TORCH: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, name: str | None = None,
                 tensors: Mapping[str, str] | None = None, **options: Any) -> None:
        keys = list(self.OPTIONS)
        if len(args) > len(keys):
            raise ParameterError(f"A {self.type} layer takes at most {len(keys)} options in "
                                 f"order ({', '.join(keys) or 'none'}). Got {len(args)}.")
        for key, value in zip(keys, args, strict=False):
            if key in options:
                raise ParameterError(f"A {self.type} layer's {key} was given twice.")
            options[key] = value
        self.options = self.check(check_options(self.type, self.OPTIONS, options,
                                                self.REQUIRED))
        self.name = name
        self.tensors = None if tensors is None else dict(tensors)

    # ------------------------------------------------------------ the layer as data
    def check(self, options: dict[str, Any]) -> dict[str, Any]:
        """What the type adds to ``check_options``: defaults that depend on others, rules that
        tie options together (a one-line ``ParameterError``)."""
        return options

    def __getitem__(self, option: str) -> Any:
        return self.options[option]

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Layer) and self.type == other.type
                and self.options == other.options and self.name == other.name
                and self.tensors == other.tensors and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.type, self.name))

    def __repr__(self) -> str:
        shown = [f"{k}={v!r}" for k, v in self.options.items() if v != self.OPTIONS.get(k)]
        shown += [f"name={self.name!r}"] if self.name is not None else []
        return f"{type(self).__name__}({', '.join(shown)})"

    @property
    def children(self) -> tuple[Layer, ...]:
        """The layers this one holds (a residual block's), in the order their tensors come."""
        return ()

    def walk(self) -> Iterator[Layer]:
        """This layer, then every layer inside it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def renamed(self, name: str | None) -> Layer:
        """This layer under another ``name`` (what ``nn.layers.resolve`` gives unnamed ones)."""
        return type(self)(name=name, tensors=self.tensors, **self.options)

    def resolved(self, shape: tuple[int, ...], where: str = "") -> Layer:
        """This layer with what depends on its input's ``shape`` decided (a residual block's
        shortcut); ``where`` names it in messages ("layer 4 (residual)")."""
        return self

    def roles(self) -> tuple[str, ...]:
        """The tensors this layer holds, by role, in PyTorch's ``state_dict`` order."""
        return tuple(r for r in self.ROLES if r != "bias" or self.options.get("bias", True))

    def tensor_names(self) -> dict[str, str]:
        """role -> the tensor's name in model files (this layer's own, not its children's)."""
        if self.tensors is not None:
            return {role: self.tensors[role] for role in self.roles()}
        return {role: f"{self.name}.{role}" for role in self.roles()}

    def own(self, tensors: Mapping[str, Any]) -> dict[str, Any]:
        """role -> this layer's tensor, picked from every tensor by name."""
        return {role: tensors[name] for role, name in self.tensor_names().items()}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, **self.options}
        if self.name is not None:
            out["name"] = self.name
        if self.tensors is not None:
            out["tensors"] = dict(self.tensors)
        return out

    def describe(self) -> str:
        """The type with its telling options, for a summary row: "conv2d 3x3, 16"."""
        return self.type

    # ------------------------------------------------------------ shapes
    def output_shape(self, shape: tuple[int, ...], where: str) -> tuple[int, ...]:
        """The shape of one example's output, or a ``ShapeError`` naming ``where`` (the layer,
        "layer 3 (conv2d)") when it cannot take ``shape``."""
        self.need(shape, where)
        return shape

    def need(self, shape: tuple[int, ...], where: str) -> None:
        if self.TAKES == "images" and len(shape) != 3:
            raise ShapeError(f"{where} takes images (C, H, W). Its input has shape {shape}.")
        if self.TAKES == "vectors" and len(shape) != 1:
            raise ShapeError(f"{where} takes vectors (n,). Its input has shape {shape}.")

    def tensor_shapes(self, shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
        """{tensor name: shape} of this layer's tensors (and its children's) for an input of
        ``shape``."""
        return {}

    # ------------------------------------------------------------ NumPy
    def infer(self, tensors: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        """The output in inference, as predicting computes it."""
        return self.forward(tensors, x, False)[0]

    def forward(self, tensors: Mapping[str, np.ndarray], x: np.ndarray, training: bool
                ) -> tuple[np.ndarray, Any]:
        """(the output, what ``backward`` keeps beyond the input)."""
        raise NotImplementedError(self.type)

    def backward(self, tensors: Mapping[str, np.ndarray], x: np.ndarray, kept: Any,
                 dy: np.ndarray, need_dx: bool) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
        """(dL/dx, {tensor name: dL/dtensor}) given dy = dL/d(output); dL/dx may be None when
        not ``need_dx``."""
        raise NotImplementedError(self.type)

    def kinks(self, tensors: Mapping[str, np.ndarray], given: np.ndarray, margin: float,
              after_relu: bool, training: bool) -> int:
        """How many of this layer's kinks its input ``given`` lies within ``margin`` of (the
        layers inside it run with batch statistics where ``training``)."""
        return 0

    # ------------------------------------------------------------ bounds and memory
    def peak(self, tensors: Mapping[str, np.ndarray], bound: np.ndarray,
             shape: tuple[int, ...]) -> tuple[np.ndarray, float, str]:
        """(a bound on the output per channel, the largest intermediate value, the tensor or
        layer type that sets it), from ``bound`` on the input (``tensors`` hold |values|)."""
        return bound, float(bound.max()), self.type

    def check_values(self, tensors: Mapping[str, np.ndarray]) -> str | None:
        """The first tensor this layer cannot use, in one sentence, or None."""
        return None

    def inner_values(self, shape: tuple[int, ...]) -> int:
        """Values per example the layers inside this one output (a residual block's)."""
        return 0

    def work_values(self, shape: tuple[int, ...], rows: int) -> int:
        """Values a pass needs beyond its input and output (a convolution's im2col patches)."""
        return 0

    def kept_values(self, shape: tuple[int, ...]) -> int:
        """Values per example logicat's autograd graph keeps for this layer's backward rule,
        beyond its output and its output's gradient."""
        return 0

    # ------------------------------------------------------------ other engines
    def torch_module(self, shape: tuple[int, ...]) -> Any:
        raise NotImplementedError(self.type)

    @classmethod
    def from_torch(cls, module: Any, name: str) -> Layer:
        """The layer named ``name`` that the ``torch.nn`` module (one of ``TORCH``) computes,
        or a one-line ``ParameterError`` saying what it has that this type has not (the caller,
        ``logicat.layers.from_torch``, says which module it is)."""
        raise NotImplementedError(cls.type)

    def autograd(self, A: Any, tensors: Mapping[str, Any], ops: Any, run: Any) -> Any:
        """This layer on the engine's Tensor ``A``; ``tensors`` maps names to Tensors (trained)
        or arrays (statistics), ``ops`` is ``engines.autograd.conv``, ``run`` the engine's pass
        (``engines.autograd.layers.Pass``: ``training``, ``batchnorm_inputs``, ``statistic``,
        ``mask``)."""
        raise NotImplementedError(self.type)

    def onnx_nodes(self, h: str, out: str, shape: tuple[int, ...], names: Mapping[str, str],
                   helper: Any) -> tuple[dict[str, np.ndarray], list, str]:
        """(constants the nodes read, the nodes, the name of what they give) from the value
        ``h``; ``names`` maps tensor names to the graph's."""
        raise NotImplementedError(self.type)


def check_options(type: str, defaults: Mapping[str, Any], options: dict[str, Any],
                  required: Sequence[str] = ()) -> dict[str, Any]:
    """``options`` with the ``defaults`` filled in and each in its bounds, or a one-line
    ``ParameterError``."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        allowed = ", ".join(defaults) or "none"
        raise ParameterError(f"A {type} layer takes the options {allowed}. Got "
                             f"{short(unknown[0])} instead.")
    merged = {**defaults, **options}
    for key, value in merged.items():
        if value is None and key in required:
            raise ParameterError(f"A {type} layer needs its {key!r} option.")
        if value is None:
            continue
        if key in _INT_BOUNDS:
            low, high = _INT_BOUNDS[key]
            if not (isinstance(value, int) and not isinstance(value, bool)
                    and low <= value <= high):
                raise ParameterError(f"A {type} layer's {key} must be an int in [{low}, "
                                     f"{high}]. Got {short(value)} instead.")
        elif key in _FLOAT_BOUNDS:
            low, high, ends = _FLOAT_BOUNDS[key]
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (number and (low <= value if ends[0] == "[" else low < value)
                    and (value <= high if ends[1] == "]" else value < high)):
                raise ParameterError(f"A {type} layer's {key} must be a number in {ends[0]}"
                                     f"{low}, {high}{ends[1]}. Got {short(value)} instead.")
        elif key == "bias" and not isinstance(value, bool):
            raise ParameterError(f"A {type} layer's bias must be true or false. Got "
                                 f"{short(value)} instead.")
    return merged


# ------------------------------------------------------------------ the loops
Record = tuple[np.ndarray, Any]  # one layer's input, and what its rule keeps


def as_input(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``x`` in ``dtype``, uint8 pixels as pixel / 255."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x.astype(dtype) / dtype.type(255.0)
    return x.astype(dtype, copy=False)


def run(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], x: np.ndarray
        ) -> np.ndarray:
    """The layers' output on ``x`` in inference (images channels last)."""
    for lay in layers:
        x = lay.infer(tensors, x)
    return x


def run_train(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], x: np.ndarray,
              training: bool) -> tuple[np.ndarray, list[Record]]:
    """(the output, one record per layer) for ``run_backward``."""
    records: list[Record] = []
    for lay in layers:
        out, kept = lay.forward(tensors, x, training)
        records.append((x, kept))
        x = out
    return x, records


def run_backward(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray],
                 records: Sequence[Record], dy: np.ndarray, input_grad: bool = True
                 ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """({tensor name: gradient}, dL/dx) back through ``layers``; without ``input_grad`` the
    pass stops at the first layer with trained tensors (its dL/dx is never needed)."""
    grads: dict[str, np.ndarray] = {}
    stop = 0 if input_grad else next(
        (i for i, lay in enumerate(layers)
         if any(set(d.roles()) & set(TRAINED_ROLES) for d in lay.walk())), 0)
    for i in range(len(layers) - 1, stop - 1, -1):
        x, kept = records[i]
        dy, by_name = layers[i].backward(tensors, x, kept, dy, i > stop or input_grad)
        for name, g in by_name.items():  # a tensor two layers share adds up its gradients
            grads[name] = grads[name] + g if name in grads else g
    return grads, (dy if input_grad else None)


def count_kinks(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], x: np.ndarray,
                margin: float, training: bool = False) -> dict[int, int]:
    """{layer index: kinks within ``margin``} of ``layers`` on ``x`` (``backward.kinks``)."""
    _, records = run_train(layers, tensors, x, training)
    found: dict[int, int] = {}
    for i, (lay, (given, _)) in enumerate(zip(layers, records, strict=True)):
        after_relu = i > 0 and layers[i - 1].type == "relu"
        count = lay.kinks(tensors, given, margin, after_relu, training)
        if count:
            found[i] = count
    return found


def propagate(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], bound: np.ndarray,
              shape: tuple[int, ...]) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """(the output's bound per channel, (peak, culprit) per layer) through ``layers``."""
    peaks = []
    for i, lay in enumerate(layers):
        bound, peak, culprit = lay.peak(tensors, bound, shape)
        peaks.append((peak, culprit))
        shape = lay.output_shape(shape, where(i, lay))
    return bound, peaks


def output_shape(layers: Sequence[Layer], shape: tuple[int, ...], prefix: str = ""
                 ) -> tuple[int, ...]:
    for i, lay in enumerate(layers):
        shape = lay.output_shape(shape, where(i, lay, prefix))
    return shape


def where(i: int, lay: Layer, prefix: str = "") -> str:
    """How messages name a layer: "layer 3 (conv2d)"."""
    return f"{prefix}layer {i} ({lay.type})"


def prod(values) -> int:
    total = 1
    for v in values:
        total *= int(v)
    return total


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
