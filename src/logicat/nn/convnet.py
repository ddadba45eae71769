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
from logicat.nn.families import HEADS, convnet_layers
from logicat.nn.hyperparameters import (
    MAX_BLOCKS,
    MAX_WIDTH,
    moments,
    steps_counted,
    update_rule,
)
from logicat.nn.layers import Layer, shapes

BN_EPS = 1e-5


@dataclass(frozen=True)
class ConvNetSpec:
    """The architecture: what model files record under ``architecture``."""

    widths: tuple[int, ...] = (16, 32, 64, 128)  # channels of each block
    convs_per_block: int = 1
    head: str = "gap"
    hidden: int = 0
    image_size: int = 64
    #: test-time augmentation: the logit is the mean of the image's and its mirror image's
    tta: bool = False
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

    @property
    def head_inputs(self) -> int:
        """The size of h before the head: C_K ("gap") or C_K (s / 2^K)^2 ("flatten")."""
        side = self.image_size // 2 ** len(self.widths)
        return self.widths[-1] * (1 if self.head == "gap" else side * side)


def layers(spec: ConvNetSpec, dropout: float = 0.0) -> list[Layer]:
    """The ConvNet's list of layers (``logicat.nn.families.convnet_layers``)."""
    return convnet_layers(spec, dropout)


def param_shapes(spec: ConvNetSpec) -> dict[str, tuple[int, ...]]:
    """Every tensor's name and shape, in the order of the layers (the input normalisation, then
    each conv's weight, its BN's weight, bias, running_mean, running_var, ..., the head)."""
    return shapes(layers(spec), (3, spec.image_size, spec.image_size))[0]


def grad_cam_layer(net_layers: Sequence[Layer]) -> int:
    """The index of the layer whose input Grad-CAM weighs: the last max-pool (the last block's
    output before its pooling)."""
    pools = [i for i, lay in enumerate(net_layers) if lay.type == "maxpool"]
    if not pools:
        raise ShapeError("Grad-CAM needs a convolutional block with a max-pool.")
    return pools[-1]


def feature_maps(spec: ConvNetSpec, params: Mapping[str, np.ndarray], images: np.ndarray
                 ) -> np.ndarray:
    """The last block's output before its max-pool, (m, C_K, s / 2^(K-1), s / 2^(K-1)) as
    PyTorch lays it out - what Grad-CAM weighs - for uint8 or [0, 1] float images (m, s, s, 3)."""
    net = layers(spec)
    return forward.maps_before(net, params, np.asarray(images), grad_cam_layer(net))


def logits(spec: ConvNetSpec, params: Mapping[str, np.ndarray], features: np.ndarray
           ) -> np.ndarray:
    """z (m,) of the lesson's features (m, s*s*3) = pixel / 255 (row, column, channel); with
    ``spec.tta``, the mean of the logits of each image and of its mirror image."""
    s = spec.image_size
    X = np.asarray(features)
    if X.ndim != 2 or X.shape[1] != s * s * 3:
        raise ShapeError(f"X must have shape (m, {s * s * 3}) for this ConvNet. Got shape "
                         f"{X.shape} instead.")
    images = X.reshape(-1, s, s, 3)
    net = layers(spec)
    z = forward.logit(net, params, images)
    if spec.tta:
        z = 0.5 * (z + forward.logit(net, params, images[:, :, ::-1]))
    return z


def spec_of(params: Mapping[str, Any], image_size: int) -> ConvNetSpec:
    """The architecture the hyperparameters describe, for images of ``image_size``."""
    spec = ConvNetSpec(tuple(int(w) for w in params["widths"]), int(params["convs_per_block"]),
                       params["head"], int(params["hidden"]), int(image_size),
                       bool(params["tta"]))
    if not spec.widths or image_size % 2 ** len(spec.widths):
        raise ParameterError(f"The 'widths' parameter gives {len(spec.widths)} blocks, each "
                             f"halving the image; {image_size}x{image_size} images need a "
                             f"number of blocks with 2^blocks dividing {image_size}.")
    return spec


def optimizer_state_shapes(spec: ConvNetSpec, optimizer: str, momentum: float
                           ) -> dict[str, tuple[int, ...]]:
    """The optimizer tensors a ConvNet checkpoint holds (``ConvNetSolver.state``), with their
    shapes: its moments per trained tensor (not BatchNorm's statistics nor the input
    normalisation, which are not trained), and Adam's or AdamW's step count."""
    shapes = param_shapes(spec)
    trained = [name for name in shapes if not name.startswith("input.")
               and not name.endswith(("running_mean", "running_var"))]
    out = {f"optimizer.{name}.{key}": shapes[name] for name in trained
           for key in moments(optimizer, momentum)}
    if steps_counted(update_rule(optimizer, momentum)):
        out["optimizer.step"] = (1,)
    return out
