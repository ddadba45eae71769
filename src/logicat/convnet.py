r"""A small convolutional network: its architecture, its parameters, and its forward pass in
NumPy (what predicting needs; training is PyTorch's, ``logicat.torch_backend.convnet``).

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

The parameters are named and laid out as PyTorch's ``state_dict`` of the module that trains
them (``features.<i>.weight`` (C_out, C_in, 3, 3), ``features.<i>.running_mean``, ...,
``head.<j>.weight`` (n_out, n_in)), plus ``input.mean`` and ``input.std`` (3,), so a file holds
exactly what torch holds and no transposes happen on the way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from logicat.errors import ShapeError

BN_EPS = 1e-5
HEADS = ("gap", "flatten")
MAX_BLOCKS, MAX_WIDTH = 8, 4096


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


def param_shapes(spec: ConvNetSpec) -> dict[str, tuple[int, ...]]:
    """Every tensor's name and shape, in the order of PyTorch's state_dict (then the input
    normalisation): each conv's weight, its BN's weight, bias, running_mean, running_var."""
    shapes: dict[str, tuple[int, ...]] = {}
    index, channels = 0, 3
    for width in spec.widths:
        for _ in range(spec.convs_per_block):
            shapes[f"features.{index}.weight"] = (width, channels, 3, 3)
            for name in ("weight", "bias", "running_mean", "running_var"):
                shapes[f"features.{index + 1}.{name}"] = (width,)
            index, channels = index + 3, width  # conv, BN, ReLU
        index += 1  # the block's max-pool
    n_in, j = spec.head_inputs, 0
    for n_out in ([spec.hidden] if spec.hidden else []) + [1]:
        j += 1  # the Dropout before each linear layer
        shapes[f"head.{j}.weight"] = (n_out, n_in)
        shapes[f"head.{j}.bias"] = (n_out,)
        n_in, j = n_out, j + 2  # Linear, ReLU
    shapes["input.mean"] = (3,)
    shapes["input.std"] = (3,)
    return shapes


def check_params(spec: ConvNetSpec, params: Mapping[str, np.ndarray]) -> None:
    """Refuse parameters that are not exactly ``param_shapes(spec)`` (one line, naming the
    first tensor that differs)."""
    expected = param_shapes(spec)
    for name, shape in expected.items():
        if name not in params:
            raise ShapeError(f"the ConvNet's tensor {name!r} is missing.")
        if tuple(np.shape(params[name])) != shape:
            raise ShapeError(f"the ConvNet's tensor {name!r} has shape "
                             f"{tuple(np.shape(params[name]))}; its architecture says {shape}.")
    extra = sorted(set(params) - set(expected))
    if extra:
        raise ShapeError(f"unexpected tensor {extra[0]!r} for this ConvNet architecture.")


def conv3x3(x: np.ndarray, W: np.ndarray, batch: int = 32) -> np.ndarray:
    """3x3 convolution, stride 1, padding 1 (cross-correlation, as PyTorch), channels last:
    (m, s, s, C) with W (C_out, C, 3, 3) -> (m, s, s, C_out). im2col over ``batch`` images at
    a time: each output pixel's 3x3xC patch becomes one row of a matrix that multiplies W."""
    m, H, Wd, C = x.shape
    out = np.empty((m, H, Wd, W.shape[0]), dtype=np.result_type(x, W))
    kernel = W.reshape(W.shape[0], -1).T  # (C * 9, C_out), rows in (c, dy, dx) order
    for start in range(0, m, batch):
        padded = np.pad(x[start:start + batch], ((0, 0), (1, 1), (1, 1), (0, 0)))
        patches = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
        # (b, H, W, C, 3, 3): one row of C*9 values per output pixel, the im2col matrix
        out[start:start + batch] = (patches.reshape(-1, C * 9) @ kernel).reshape(
            -1, H, Wd, W.shape[0])
    return out


def maxpool2x2(x: np.ndarray) -> np.ndarray:
    """(m, s, s, C) -> (m, s / 2, s / 2, C): the max of each 2x2 tile (s even), as three
    element-wise maxima of the tiles' four corners."""
    return np.maximum(np.maximum(x[:, 0::2, 0::2], x[:, 0::2, 1::2]),
                      np.maximum(x[:, 1::2, 0::2], x[:, 1::2, 1::2]))


def feature_maps(spec: ConvNetSpec, params: Mapping[str, np.ndarray], images: np.ndarray
                 ) -> np.ndarray:
    """The last block's output before its max-pool, (m, C_K, s / 2^(K-1), s / 2^(K-1)) as
    PyTorch lays it out - what Grad-CAM weighs - for uint8 or [0, 1] float images (m, s, s, 3)."""
    return _features(spec, params, images, stop_before_last_pool=True).transpose(0, 3, 1, 2)


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
    z = _head(spec, params, _features(spec, params, images, stop_before_last_pool=False))
    if spec.tta:
        mirrored = images[:, :, ::-1]
        z = 0.5 * (z + _head(spec, params, _features(spec, params, mirrored, False)))
    return z


def _features(spec: ConvNetSpec, params: Mapping[str, np.ndarray], images: np.ndarray,
              stop_before_last_pool: bool) -> np.ndarray:
    """The blocks, channels last: (m, s, s, 3) images -> (m, s', s', C_K). The arithmetic is
    in the parameters' dtype (float32 for a trained ConvNet)."""
    images = np.asarray(images)
    dtype = np.result_type(*(params[name] for name in ("input.mean", "features.0.weight")))
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    x = images.astype(dtype) / dtype.type(scale)  # (m, s, s, 3) in [0, 1]
    x = (x - params["input.mean"]) / params["input.std"]
    index = 0
    for k in range(len(spec.widths)):
        for _ in range(spec.convs_per_block):
            x = conv3x3(x, params[f"features.{index}.weight"])
            bn = f"features.{index + 1}."  # inference BN: one scale and shift per channel
            scale_c = params[bn + "weight"] / np.sqrt(params[bn + "running_var"] + BN_EPS)
            shift_c = params[bn + "bias"] - params[bn + "running_mean"] * scale_c
            x = np.maximum(x * scale_c + shift_c, 0)
            index += 3
        if stop_before_last_pool and k == len(spec.widths) - 1:
            return x
        x = maxpool2x2(x)
        index += 1
    return x


def _head(spec: ConvNetSpec, params: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    # "flatten" in PyTorch's (C, s', s') order, so that the weights are torch's own
    h = x.mean(axis=(1, 2)) if spec.head == "gap" else x.transpose(0, 3, 1, 2).reshape(len(x),
                                                                                      -1)
    names = [name for name in param_shapes(spec) if name.startswith("head.")]
    linears: Sequence[tuple[str, str]] = list(zip(names[0::2], names[1::2], strict=True))
    for i, (weight, bias) in enumerate(linears):
        h = h @ params[weight].T + params[bias]
        if i < len(linears) - 1:
            h = np.maximum(h, 0.0)
    return h[:, 0]
