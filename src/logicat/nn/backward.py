r"""The NumPy engine's backward pass: any list of layers (``logicat.nn.layers``), derived by hand.

``forward.py`` runs a list of layers; this module runs the same list keeping what each layer's
backward rule needs (``forward_cache``), then takes the vector-Jacobian product of the logit
z (m,) back through the layers up to it (``gradients``, for a given dL/dz), or of the mean
cross-entropy on sigma(z) (``logit_and_gradients``). Layouts as in ``forward.py``: images
channels last inside, (m, H, W, C), vectors (m, n). With dy = dL/d(output) of a layer whose
input is x, each layer's rule (sums run over every axis but the channels' unless said):

    conv2d      dW[f, c, i, j] = sum dy_f * x_pad[c] at offset (i, j); dx_pad[offset (i, j)]
                += dy W[:, :, i, j]: the im2col product of ``forward.conv2d`` (rows in
                (c, i, j) order), transposed, one kernel offset at a time (col2im as k^2
                strided additions); db = sum dy
    batchnorm   inference: dx = dy gamma / sqrt(var + eps), with the running statistics;
                training: x_hat = (x - mu_B) / sqrt(var_B + eps) with the batch's mean and
                biased variance (as PyTorch in training) and, over the N values per channel,
                dx = gamma / (N sqrt(var_B + eps)) (N dy - sum dy - x_hat sum dy x_hat);
                dgamma = sum dy x_hat, dbeta = sum dy
    relu        dx = dy [x > 0] (0 at x = 0, as PyTorch)
    tanh        dx = dy (1 - a^2);  sigmoid: dx = dy a (1 - a), a the layer's output
    leaky_relu  dx = dy (1 if x > 0, else the slope)
    maxpool     dy goes to the max of its window; on a tie, to the first maximum in the
                window's row-major order (PyTorch's CPU choice); overlapping windows add up
    avgpool     dy / k^2 to every pixel of its window
    gap         dx = dy / (H W), the same at every pixel
    flatten     dy (m, C H W) read back in PyTorch's (C, H, W) order, laid out (m, H, W, C)
    dropout     the identity (no random mask in this engine, in training too)
    dense       out_in: dW = dy^T x, dx = dy W;  in_out: dW = x^T dy, dx = dy W^T;
                vector: dw = x^T dy, dx = dy w^T;  db = sum over the examples of dy
    normalize   dx = dy / std (its mean and std are statistics, not parameters)
    residual    dy flows into the body and the shortcut; dx = dx_body + dx_shortcut

Each rule is its layer type's ``backward`` (``logicat.nn.layer_types``); this module runs the
list.

At a kink - a ReLU input at exactly 0, a max-pool window whose maximum is tied - the function
has no derivative, and each rule above returns one valid subgradient. Another engine may return
another: values that are tied in exact arithmetic (the same pixels read by two windows of a
flat region) can come out of its convolution a rounding apart, in either order, on another
processor's kernels. ``kinks`` says whether an input is near any kink; engines agree to rounding
on inputs that are not.

Only trained tensors get a gradient - conv2d's and dense's weight and bias, batchnorm's weight
and bias - not ``normalize``'s mean and std nor batchnorm's running statistics (and
``training=True`` leaves those statistics as they are: nothing here updates them). The gradient
by the input is by the values the layers take, in the input's layout: images (m, s, s, 3) in
[0, 1] (uint8 pixels count as pixel / 255), or vectors (m, n).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from logicat.core.errors import ShapeError
from logicat.nn import forward
from logicat.nn.layer import TRAINED_ROLES, as_input, count_kinks, run_backward, run_train
from logicat.nn.layers import Layer, logit_layers
from logicat.nn.loss import Loss, mean_cost_and_dz

__all__ = ["TRAINED_ROLES", "forward_cache", "gradients", "kinks", "logit_and_gradients",
           "run_backward"]


def forward_cache(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], x: np.ndarray,
                  training: bool = False) -> tuple[np.ndarray, list]:
    """(the output of ``layers`` on ``x``, one record per layer: its input and what its rule
    keeps) - the output as ``forward.run`` gives it. ``training``: batchnorm normalises with
    the batch's statistics (biased variance) instead of the running ones; dropout stays the
    identity either way."""
    return run_train(layers, tensors, _as_input(x, tensors), training)


def gradients(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], x: np.ndarray,
              dz: np.ndarray, training: bool = False
              ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """({tensor name: dL/dtensor}, dL/dx) for the layers up to the logit (``logit_layers``),
    given dz = dL/dz (m,) of the logit: the vector-Jacobian product. Only trained tensors
    (conv, batchnorm and dense weights and biases) are keys; each gradient has its tensor's
    shape and dL/dx the input's layout (see the module docstring)."""
    net = logit_layers(layers)
    z, records = forward_cache(net, tensors, x, training)
    return run_backward(net, tensors, records, _dz_column(z, dz))


def logit_and_gradients(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray],
                        x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None,
                        training: bool = False, loss: Loss = "cross_entropy",
                        input_grad: bool = True
                        ) -> tuple[float, tuple[dict[str, np.ndarray], np.ndarray | None]]:
    """(J, ({tensor name: dJ/dtensor}, dJ/dx)) for the ``loss`` of sigma(z) and the labels
    ``y`` (m,) in {0, 1} (``logicat.nn.loss``: cross-entropy or squared error): J its mean (or
    its ``sample_weight``-weighted mean, sum s_i L_i / sum s_i) and dz = dL/dz / m (or
    s dL/dz / sum s; for cross-entropy dL/dz = sigma(z) - y), passed back as in ``gradients``.
    Without ``input_grad`` dJ/dx is None, and the first layer does not compute it."""
    net = logit_layers(layers)
    z, records = forward_cache(net, tensors, x, training)
    if z.ndim != 2 or z.shape[1] != 1:
        raise ShapeError(f"the layers must end in one logit per example. They give shape "
                         f"{z.shape[1:]}.")
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=z.dtype)
    cost, dz = mean_cost_and_dz(z[:, 0], np.asarray(y), loss, weights)
    return cost, run_backward(net, tensors, records, _dz_column(z, dz), input_grad)


def kinks(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], x: np.ndarray,
          margin: float, training: bool = False) -> dict[int, int]:
    """{layer index: how many kinks within ``margin``} for the layers up to the logit on ``x``:
    ReLU inputs with |x| <= margin, and max-pool windows whose two largest values are within
    ``margin`` of each other - except windows whose maximum is 0 right after a ReLU, whose
    gradient is 0 whichever value takes it (a residual block counts those inside it). Empty
    where ``x`` is at least ``margin`` away from every kink (a finite difference of step <
    margin crosses none; an engine that rounds another way by less than margin breaks no tie
    differently)."""
    return count_kinks(logit_layers(layers), tensors, _as_input(x, tensors), margin, training)


def _as_input(x: np.ndarray, tensors: Mapping[str, np.ndarray]) -> np.ndarray:
    """``x`` in the tensors' dtype, uint8 pixels as pixel / 255 (as ``forward.run``)."""
    return as_input(x, forward.dtype_of(tensors) if tensors else np.dtype(np.float64))


def _dz_column(z: np.ndarray, dz: np.ndarray) -> np.ndarray:
    dz = np.asarray(dz, dtype=z.dtype)
    if z.ndim != 2 or z.shape[1] != 1 or dz.shape != (len(z),):
        raise ShapeError(f"dz must have shape ({len(z)},), one value per logit, for layers "
                         f"that give one logit per example. Got dz of shape {dz.shape} for "
                         f"outputs of shape {z.shape}.")
    return dz[:, None]
