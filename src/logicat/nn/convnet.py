r"""The ConvNet family: its hyperparameter-level description (``ConvNetSpec``), the tensors it
holds, and what predicting needs in NumPy.

The network, for images of size s (examples as rows, channels first inside: (m, 3, s, s)):

    x = (pixel / 255 - mean_c) / std_c                      per channel c, the training set's
    for each block of width C_k:                            k = 1..K
        convs_per_block times:  x = relu(BN(conv3x3(x)))    conv: stride 1, padding 1, no bias
        x = maxpool2x2(x)                                   (m, C_k, s / 2^k, s / 2^k)
    h = mean of x over its pixels ("gap", (m, C_K)) or x flattened ("flatten")
    [h = relu(h W_h^T + b_h)]                               an optional hidden layer
    z = h w^T + b                                           (m,) the logit; p = sigma(z)

BN in inference: (x - running_mean) / sqrt(running_var + eps) * gamma + beta, per channel.
Dropout (training only) sits before each linear layer of the head.

That network is written once, as a list of layers: ``logicat.nn.families.convnet_layers(spec)``;
this module, PyTorch's module (``engines.torch.layers``), logicat's own engine
(``engines.autograd.layers``) and the ONNX exporter (``io.onnx``) each interpret that list.
Its tensors are named and laid out as PyTorch's ``state_dict`` of the module that trains them
(``features.<i>.weight`` (C_out, C_in, 3, 3), ``features.<i>.running_mean``, ...,
``head.<j>.weight`` (n_out, n_in), ``input.mean`` and ``input.std`` (3,)), so a file holds
exactly what torch holds and no transposes happen on the way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from logicat.core.errors import ParameterError, ShapeError
from logicat.nn import forward
from logicat.nn.families import HEADS, convnet_layers, preset
from logicat.nn.hyperparameters import (
    MAX_BLOCKS,
    MAX_WIDTH,
)
from logicat.nn.layers import Layer, from_json, layer, resolve, shapes, walk

BN_EPS = 1e-5


@dataclass(frozen=True)
class ConvNetSpec:
    """The architecture: what model files record under ``architecture``."""

    widths: tuple[int, ...] = (16, 32, 64, 128)  # channels of each block
    convs_per_block: int = 1
    head: str = "gap"
    hidden: int = 0
    image_size: int = 64
    #: test-time augmentation (``nn.tta``): False, True (the image's and its mirror image's
    #: logits averaged) or "shifts"
    tta: bool | str = False
    kind: str = field(default="convnet", init=False)

    def to_json(self) -> dict:
        return {**asdict(self), "widths": list(self.widths)}

    @classmethod
    def from_json(cls, architecture: Mapping) -> ConvNetSpec:
        """The spec a model file's ``architecture`` describes, checked: ``ValueError`` with one
        line naming the entry that is wrong."""
        def whole(value, low, high):
            return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

        widths, size = architecture.get("widths"), architecture.get("image_size")
        if not (isinstance(widths, list) and 1 <= len(widths) <= MAX_BLOCKS
                and all(whole(w, 1, MAX_WIDTH) for w in widths)):
            raise ValueError(f"the ConvNet's widths must be a list of 1 to {MAX_BLOCKS} ints in "
                             f"[1, {MAX_WIDTH}]. Got {str(widths)[:80]}.")
        for key, low, high in (("convs_per_block", 1, 4), ("hidden", 0, MAX_WIDTH),
                               ("image_size", 2 ** len(widths), 4096)):
            if not whole(architecture.get(key), low, high):
                raise ValueError(f"the ConvNet's {key} must be an int in [{low}, {high}]. Got "
                                 f"{str(architecture.get(key))[:80]}.")
        if size % 2 ** len(widths):
            raise ValueError(f"the ConvNet's image_size {size} must be divisible by 2^"
                             f"{len(widths)} (one 2x2 max-pool per block).")
        if not isinstance(architecture.get("tta", False), bool):
            raise ValueError(f"the ConvNet's tta must be true or false. Got "
                             f"{str(architecture.get('tta'))[:80]}.")
        if architecture.get("head") not in HEADS:
            raise ValueError(f"the ConvNet's head must be one of {', '.join(map(repr, HEADS))}. "
                             f"Got {str(architecture.get('head'))[:80]}.")
        return cls(tuple(widths), architecture["convs_per_block"], architecture["head"],
                   architecture["hidden"], size, architecture.get("tta", False))

    def layers(self, dropout: float = 0.0) -> list[Layer]:
        """The list of layers this spec describes (``nn.families.convnet_layers``)."""
        return convnet_layers(self, dropout)

    @property
    def description(self) -> str:
        hidden = f" -> {self.hidden}" if self.hidden else ""
        return (f"convnet {self.image_size}x{self.image_size}x3 -> "
                f"{' -> '.join(map(str, self.widths))} ({self.convs_per_block} conv(s) per "
                f"block, {self.head}){hidden} -> 1")

    @property
    def head_inputs(self) -> int:
        """The size of h before the head: C_K ("gap") or C_K (s / 2^K)^2 ("flatten")."""
        side = self.image_size // 2 ** len(self.widths)
        return self.widths[-1] * (1 if self.head == "gap" else side * side)


@dataclass(frozen=True, eq=False)
class NetworkSpec:
    """A network of the user's own layers (``logicat.layers``) on s x s images, trained as the
    ConvNet is: ``body`` is the list between the input normalisation (``normalize``, its
    statistics the training images' channel means and deviations) and the final ``sigmoid``,
    named and resolved (``nn.layers.resolve``: ``net.0``, ``net.4.body.1``, ...), ending in one
    logit. Model files record it as ``architecture`` ``{"kind": "network", "image_size",
    "tta", "layers"}``: the whole list is the model."""

    body: tuple[Layer, ...]
    image_size: int = 64
    tta: bool | str = False
    kind: str = field(default="network", init=False)

    def __post_init__(self) -> None:
        s = self.image_size
        out = shapes(self.body, (3, s, s))[1]
        if out != (1,):
            raise ShapeError(f"the network's last layer must give one logit per image (a "
                             f"Dense(1)). On {s}x{s} images it gives shape {out}.")

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, NetworkSpec) and list(self.body) == list(other.body)
                and (self.image_size, self.tta) == (other.image_size, other.tta))

    def __hash__(self) -> int:
        return hash((len(self.body), self.image_size, self.tta))

    def layers(self, dropout: float = 0.0) -> list[Layer]:
        """The whole list: normalize, the body, sigmoid (``dropout`` is the body's own)."""
        return [layer("normalize", "input"), *self.body, layer("sigmoid")]

    def to_json(self) -> dict:
        return {"kind": "network", "image_size": self.image_size, "tta": self.tta}

    @classmethod
    def from_json(cls, architecture: Mapping) -> NetworkSpec:
        """The network a model file's ``architecture`` holds, checked layer by layer
        (``ValueError`` with one line naming what is wrong)."""
        size, tta = architecture.get("image_size"), architecture.get("tta", False)
        if not (isinstance(size, int) and not isinstance(size, bool) and 1 <= size <= 4096):
            raise ValueError(f"the network's image_size must be an int in [1, 4096]. Got "
                             f"{str(size)[:80]}.")
        if not isinstance(tta, bool):
            raise ValueError(f"the network's tta must be true or false. Got {str(tta)[:80]}.")
        try:
            listed = from_json(architecture.get("layers"))
        except ParameterError as e:
            raise ValueError(f"the architecture's {e}") from None
        if (len(listed) < 3 or listed[0] != layer("normalize", "input")
                or listed[-1] != layer("sigmoid")):
            raise ValueError("a network's layers must start with the input's normalize "
                             "(named 'input') and end with a sigmoid.")
        try:
            return cls(tuple(listed[1:-1]), size, tta)
        except (ShapeError, ParameterError) as e:
            raise ValueError(str(e)) from None

    @property
    def description(self) -> str:
        s, top = self.image_size, [lay for lay in self.body]
        blocks = sum(lay.type == "residual" for lay in top)
        convs = sum(lay.type == "conv2d" for lay in walk(self.body))
        return (f"network {s}x{s}x3 -> {len(top)} layers ({convs} convolutions"
                f"{f', {blocks} residual blocks' if blocks else ''}) -> 1")


#: the ``architecture.kind`` of the image networks, by their spec's class
IMAGE_KINDS = ("convnet", "network")


def spec_from_json(architecture: Mapping) -> ConvNetSpec | NetworkSpec:
    """The image network a model file's ``architecture`` describes, by its ``kind``."""
    return (NetworkSpec if architecture.get("kind") == "network" else ConvNetSpec).from_json(
        architecture)


def layers(spec: ConvNetSpec | NetworkSpec, dropout: float = 0.0) -> list[Layer]:
    """The image network's list of layers: the ConvNet's (``nn.families.convnet_layers``) or
    the user's own network's."""
    return spec.layers(dropout)


def param_shapes(spec: ConvNetSpec | NetworkSpec) -> dict[str, tuple[int, ...]]:
    """Every tensor's name and shape, in the order of the layers (the input normalisation, then
    each conv's weight, its BN's weight, bias, running_mean, running_var, ..., the head)."""
    return shapes(layers(spec), (3, spec.image_size, spec.image_size))[0]


def grad_cam_layer(net_layers: Sequence[Layer]) -> int:
    """The index of the layer whose input Grad-CAM weighs: the last feature maps before the
    network pools them away - the input of the run of poolings (and dropouts) just before the
    first layer that makes vectors (``gap``, ``flatten``); for the ConvNet, its last block's
    output before its max-pool."""
    vectors = next((i for i, lay in enumerate(net_layers) if lay.type in ("gap", "flatten")),
                   None)
    if vectors is None or vectors == 0:
        raise ShapeError("Grad-CAM needs feature maps: a convolution before a gap or flatten.")
    i = vectors
    while i > 0 and net_layers[i - 1].type in ("maxpool", "avgpool", "dropout"):
        i -= 1
    return i


def feature_maps(spec: ConvNetSpec, params: Mapping[str, np.ndarray], images: np.ndarray
                 ) -> np.ndarray:
    """The last block's output before its max-pool, (m, C_K, s / 2^(K-1), s / 2^(K-1)) as
    PyTorch lays it out - what Grad-CAM weighs - for uint8 or [0, 1] float images (m, s, s, 3)."""
    net = layers(spec)
    return forward.maps_before(net, params, np.asarray(images), grad_cam_layer(net))


def spec_of(params: Mapping[str, Any], image_size: int) -> ConvNetSpec | NetworkSpec:
    """The architecture the hyperparameters describe, for images of ``image_size``: the user's
    own ``layers`` (a list of ``logicat.layers``, their JSON objects, or a preset's name,
    ``nn.families.PRESETS``), or the ConvNet's
    ``widths``, ``convs_per_block``, ``head`` and ``hidden``."""
    if params.get("layers") is not None:
        given = params["layers"]
        if isinstance(given, str):  # a named preset: "resnet8"
            given = preset(given)
        if not isinstance(given, list | tuple) or not given:
            raise ParameterError(f"The 'layers' parameter must be a non-empty list of layers. "
                                 f"Got {str(given)[:80]} instead.")
        if all(isinstance(entry, dict) for entry in given):
            given = from_json(list(given), named=False)
        return NetworkSpec(tuple(resolve(given, (3, image_size, image_size))), int(image_size),
                           _tta(params["tta"]))
    spec = ConvNetSpec(tuple(int(w) for w in params["widths"]), int(params["convs_per_block"]),
                       params["head"], int(params["hidden"]), int(image_size),
                       _tta(params["tta"]))
    if not spec.widths or image_size % 2 ** len(spec.widths):
        raise ParameterError(f"The 'widths' parameter gives {len(spec.widths)} blocks, each "
                             f"halving the image; {image_size}x{image_size} images need a "
                             f"number of blocks with 2^blocks dividing {image_size}.")
    return spec


def _tta(value: Any) -> bool | str:
    """The ``tta`` hyperparameter as a spec holds it: False, True or "shifts" (``nn.tta``)."""
    return value if value == "shifts" else bool(value)
