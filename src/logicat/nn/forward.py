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
                as PyTorch does)
    gap         the mean over the pixels; flatten: (m, C H W) in PyTorch's order
    dense       x W^T + b ("out_in"), x W + b ("in_out") or x w + b ("vector")
    dropout     the identity (inference)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from logicat.core.errors import ShapeError
from logicat.nn.bounds import rows_per_pass
from logicat.nn.layers import Layer, logit_layers
from logicat.nn.loss import sigmoid

#: each activation g(x)
#: each activation g(x), element-wise
ACTIVATIONS = {"relu": lambda x: np.maximum(x, 0), "tanh": np.tanh, "sigmoid": sigmoid}
#: images per im2col matrix (bounds the memory of one convolution's patches)
_CONV_BATCH = 32


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
    """The output of ``layers`` on ``x``: (m, H, W, C) images, or (m, n) vectors."""
    x = np.asarray(x)
    dtype = dtype_of(tensors) if tensors else np.dtype(np.float64)
    if x.dtype == np.uint8:
        x = x.astype(dtype) / dtype.type(255.0)
    else:
        x = x.astype(dtype, copy=False)
    for lay in layers:
        x = _apply(lay, {role: tensors[name] for role, name in lay.tensor_names().items()}, x)
    return x


def _apply(lay: Layer, t: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    kind = lay.type
    if kind in ACTIVATIONS:
        return ACTIVATIONS[kind](x)
    if kind == "normalize":
        return (x - t["mean"]) / t["std"]
    if kind == "conv2d":
        return conv2d(x, t["weight"], t.get("bias"), lay["stride"], lay["padding"])
    if kind == "batchnorm":  # inference: one scale and shift per channel
        scale = t["weight"] / np.sqrt(t["running_var"] + lay["eps"])
        return x * scale + (t["bias"] - t["running_mean"] * scale)
    if kind == "maxpool":
        return maxpool(x, lay["kernel"], lay["stride"])
    if kind == "gap":
        return x.mean(axis=(1, 2))
    if kind == "flatten":
        return (x.transpose(0, 3, 1, 2) if x.ndim == 4 else x).reshape(len(x), -1)
    if kind == "dropout":
        return x
    # dense
    W, layout = t["weight"], lay["layout"]
    z = x @ W.T if layout == "out_in" else (x @ W if layout == "in_out" else (x @ W)[:, None])
    return z + t["bias"] if "bias" in t else z


def conv2d(x: np.ndarray, W: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
           padding: int = 1) -> np.ndarray:
    """Cross-correlation (PyTorch's Conv2d), channels last: (m, H, W, C) with W (F, C, k, k)
    -> (m, H', W', F), H' = (H + 2p - k) // s + 1. im2col over ``_CONV_BATCH`` images at a time:
    each output pixel's k x k x C patch becomes one row of a matrix that multiplies W."""
    m, H, Wd, C = x.shape
    F, _, k, _ = W.shape
    Ho, Wo = (H + 2 * padding - k) // stride + 1, (Wd + 2 * padding - k) // stride + 1
    out = np.empty((m, Ho, Wo, F), dtype=np.result_type(x, W))
    kernel = W.reshape(F, -1).T  # (C k k, F), rows in (c, dy, dx) order
    for start in range(0, m, _CONV_BATCH):
        padded = np.pad(x[start:start + _CONV_BATCH],
                        ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        patches = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(1, 2))
        patches = patches[:, ::stride, ::stride][:, :Ho, :Wo]  # (b, Ho, Wo, C, k, k)
        out[start:start + _CONV_BATCH] = (patches.reshape(-1, C * k * k) @ kernel).reshape(
            -1, Ho, Wo, F)
    return out if bias is None else out + bias


def maxpool(x: np.ndarray, kernel: int = 2, stride: int = 2) -> np.ndarray:
    """(m, H, W, C) -> (m, H', W', C), H' = (H - k) // s + 1: the max of each k x k window.
    Windows that tile the image (s = k) are element-wise maxima of their k^2 corners."""
    Ho, Wo = (x.shape[1] - kernel) // stride + 1, (x.shape[2] - kernel) // stride + 1
    if stride == kernel:
        out = None
        for dy in range(kernel):
            for dx in range(kernel):
                corner = x[:, dy:dy + stride * Ho:stride, dx:dx + stride * Wo:stride]
                out = corner if out is None else np.maximum(out, corner)
        return out
    windows = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(1, 2))
    return windows[:, ::stride, ::stride].max(axis=(-2, -1))
