r"""The NumPy engine's forward pass: any list of layers (``logicat.nn.layers``), in inference.

What predicting needs, in NumPy alone (no torch): ``logit(layers, tensors, x)`` runs the layers
up to the logit on images (m, s, s, 3) - uint8 pixels or floats in [0, 1] - or on feature
vectors (m, n), in the tensors' dtype. Images are kept channels last inside, (m, H, W, C), which
makes each convolution one matrix product, and laid out as PyTorch's (m, C, H, W) where that
order matters (``flatten``, and the maps ``maps_before`` hands out):

    conv2d      im2col: each output pixel's k x k x C patch is one row, times W (C k k, filters),
                over 32 images at a time
    batchnorm   one scale and shift per channel: gamma / sqrt(var + eps), beta - mean * scale
    maxpool     the max of each window (the rows and columns that do not fill one are dropped,
                as PyTorch does); avgpool: their mean
    gap         the mean over the pixels; flatten: (m, C H W) in PyTorch's order
    dense       x W^T + b ("out_in"), x W + b ("in_out") or x w + b ("vector")
    dropout     the identity (inference)
    residual    its body's output plus its shortcut's (the input itself for an identity)

Each layer type computes its own (``logicat.nn.layer_types``, ``Layer.infer``); this module
runs the list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from logicat.core.errors import ShapeError
from logicat.nn import layer as _layer
from logicat.nn.bounds import rows_per_pass
from logicat.nn.layer_types.conv import conv2d  # noqa: F401  (the im2col convolution)
from logicat.nn.layer_types.pooling import MaxPool
from logicat.nn.layers import Layer, logit_layers


def dtype_of(tensors: Mapping[str, np.ndarray]) -> np.dtype:
    return np.result_type(*tensors.values())


def logit(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], x: np.ndarray
          ) -> np.ndarray:
    """z (m,): the layers up to the logit on ``x`` (images (m, s, s, 3), uint8 or in [0, 1],
    or vectors (m, n)), as many examples at a time as 256 MiB of working memory allow
    (``logicat.nn.bounds.rows_per_pass``). Floating-point warnings stay inside: a logit that
    is not finite is the caller's to refuse (``Model.decision_function`` does)."""
    x = np.asarray(x)
    net = logit_layers(layers)
    shape = (x.shape[3], x.shape[1], x.shape[2]) if x.ndim == 4 else x.shape[1:]
    step = rows_per_pass(net, shape, dtype_of(tensors) if tensors else np.dtype(np.float64))
    parts = []
    with np.errstate(all="ignore"):
        for start in range(0, max(len(x), 1), step):
            out = run(net, tensors, x[start:start + step])
            if out.ndim != 2 or out.shape[1] != 1:
                raise ShapeError(f"the layers must end in one logit per example. They give "
                                 f"shape {out.shape[1:]}.")
            parts.append(out[:, 0])
    return np.concatenate(parts)


def maps_before(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], images: np.ndarray,
                index: int) -> np.ndarray:
    """The input of layer ``index`` as (m, C, H, W) (what Grad-CAM weighs)."""
    return run(layers[:index], tensors, images).transpose(0, 3, 1, 2)


def run(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The output of ``layers`` on ``x``: (m, H, W, C) images, or (m, n) vectors; each layer
    computes its own (``Layer.infer``)."""
    dtype = dtype_of(tensors) if tensors else np.dtype(np.float64)
    return _layer.run(layers, tensors, _layer.as_input(x, dtype))


def maxpool(x: np.ndarray, kernel: int = 2, stride: int = 2) -> np.ndarray:
    """(m, H, W, C) -> (m, H', W', C), H' = (H - k) // s + 1: the max of each k x k window."""
    return MaxPool(kernel, stride).infer({}, x)
