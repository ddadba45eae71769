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
    maxpool     dy goes to the max of its window; on a tie, to the first maximum in the
                window's row-major order (PyTorch's CPU choice); overlapping windows add up
    gap         dx = dy / (H W), the same at every pixel
    flatten     dy (m, C H W) read back in PyTorch's (C, H, W) order, laid out (m, H, W, C)
    dropout     the identity (no random mask in this engine, in training too)
    dense       out_in: dW = dy^T x, dx = dy W;  in_out: dW = x^T dy, dx = dy W^T;
                vector: dw = x^T dy, dx = dy w^T;  db = sum over the examples of dy
    normalize   dx = dy / std (its mean and std are statistics, not parameters)

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
from typing import Any

import numpy as np

from logicat.core.errors import ShapeError
from logicat.nn import forward
from logicat.nn.layers import Layer, logit_layers
from logicat.nn.loss import Loss, mean_cost_and_dz

#: the roles that are trained (have gradients); the others are statistics
TRAINED_ROLES = ("weight", "bias")
#: each activation's derivative g'(x) from its input x and its output a = g(x)
ACTIVATION_GRADIENTS = {
    "relu": lambda x, a: x > 0,  # 0 at x = 0, as PyTorch
    "tanh": lambda x, a: 1 - a * a,
    "sigmoid": lambda x, a: a * (1 - a),
}
#: one layer's record of its forward pass: (its tensors by role, its input, what its rule keeps)
Record = tuple[dict[str, np.ndarray], np.ndarray, Any]


def forward_cache(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], x: np.ndarray,
                  training: bool = False) -> tuple[np.ndarray, list[Record]]:
    """(the output of ``layers`` on ``x``, one ``Record`` per layer) - the output as
    ``forward.run`` gives it. ``training``: batchnorm normalises with the batch's statistics
    (biased variance) instead of the running ones; dropout stays the identity either way."""
    x = _as_input(x, tensors)
    records: list[Record] = []
    for lay in layers:
        t = {role: tensors[name] for role, name in lay.tensor_names().items()}
        out, kept = _forward(lay, t, x, training)
        records.append((t, x, kept))
        x = out
    return x, records


def gradients(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], x: np.ndarray,
              dz: np.ndarray, training: bool = False
              ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """({tensor name: dL/dtensor}, dL/dx) for the layers up to the logit (``logit_layers``),
    given dz = dL/dz (m,) of the logit: the vector-Jacobian product. Only trained tensors
    (conv, batchnorm and dense weights and biases) are keys; each gradient has its tensor's
    shape and dL/dx the input's layout (see the module docstring)."""
    net = logit_layers(layers)
    z, records = forward_cache(net, tensors, x, training)
    return _backward(net, records, _dz_column(z, dz))


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
    return cost, _backward(net, records, _dz_column(z, dz), input_grad)


def kinks(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], x: np.ndarray,
          margin: float, training: bool = False) -> dict[int, int]:
    """{layer index: how many kinks within ``margin``} for the layers up to the logit on ``x``:
    ReLU inputs with |x| <= margin, and max-pool windows whose two largest values are within
    ``margin`` of each other - except windows whose maximum is 0 right after a ReLU, whose
    gradient is 0 whichever value takes it. Empty where ``x`` is at least ``margin`` away from
    every kink (a finite difference of step < margin crosses none; an engine that rounds
    another way by less than margin breaks no tie differently)."""
    net = logit_layers(layers)
    _, records = forward_cache(net, tensors, x, training)
    found: dict[int, int] = {}
    for i, (lay, (_, given, _)) in enumerate(zip(net, records, strict=True)):
        if lay.type == "relu":
            count = int((np.abs(given) <= margin).sum())
        elif lay.type == "maxpool":
            k, s = lay["kernel"], lay["stride"]
            windows = np.lib.stride_tricks.sliding_window_view(given, (k, k), axis=(1, 2))
            windows = np.sort(windows[:, ::s, ::s].reshape(len(given), -1, k * k))
            top, gap = windows[..., -1], windows[..., -1] - windows[..., -2]
            after_relu = i > 0 and net[i - 1].type == "relu"
            count = int(((gap <= margin) & ~(after_relu & (top == 0))).sum())
        else:
            continue
        if count:
            found[i] = count
    return found


def _as_input(x: np.ndarray, tensors: Mapping[str, np.ndarray]) -> np.ndarray:
    """``x`` in the tensors' dtype, uint8 pixels as pixel / 255 (as ``forward.run``)."""
    x = np.asarray(x)
    dtype = forward.dtype_of(tensors) if tensors else np.dtype(np.float64)
    if x.dtype == np.uint8:
        return x.astype(dtype) / dtype.type(255.0)
    return x.astype(dtype, copy=False)


def _dz_column(z: np.ndarray, dz: np.ndarray) -> np.ndarray:
    dz = np.asarray(dz, dtype=z.dtype)
    if z.ndim != 2 or z.shape[1] != 1 or dz.shape != (len(z),):
        raise ShapeError(f"dz must have shape ({len(z)},), one value per logit, for layers "
                         f"that give one logit per example. Got dz of shape {dz.shape} for "
                         f"outputs of shape {z.shape}.")
    return dz[:, None]


def _backward(layers: Sequence[Layer], records: Sequence[Record], dy: np.ndarray,
              input_grad: bool = True) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Without ``input_grad``, the pass stops at the first layer with trained tensors."""
    grads: dict[str, np.ndarray] = {}
    stop = 0 if input_grad else next(
        (i for i, lay in enumerate(layers) if set(lay.roles()) & set(TRAINED_ROLES)), 0)
    for i in range(len(layers) - 1, stop - 1, -1):
        lay, (t, x, kept) = layers[i], records[i]
        dy, by_role = _backward_one(lay, t, x, kept, dy, need_dx=i > stop or input_grad)
        names = lay.tensor_names()
        for role, g in by_role.items():  # a tensor two layers share adds up its gradients
            name = names[role]
            grads[name] = grads[name] + g if name in grads else g
    return grads, (dy if input_grad else None)


# ------------------------------------------------------------------ one layer, forward
def _forward(lay: Layer, t: Mapping[str, np.ndarray], x: np.ndarray, training: bool
             ) -> tuple[np.ndarray, Any]:
    """(the layer's output, what its backward rule keeps beyond its input)."""
    kind = lay.type
    if kind == "batchnorm":
        axes = tuple(range(x.ndim - 1))
        if training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)  # biased, as PyTorch's training
        else:
            mean, var = t["running_mean"], t["running_var"]
        inv_std = 1.0 / np.sqrt(var + lay["eps"])
        x_hat = (x - mean) * inv_std
        return x_hat * t["weight"] + t["bias"], (x_hat, inv_std, training)
    out = forward._apply(lay, t, x)
    return out, (out if kind in ("tanh", "sigmoid", "maxpool") else None)



# ------------------------------------------------------------------ one layer, backward
def _backward_one(lay: Layer, t: Mapping[str, np.ndarray], x: np.ndarray, kept: Any,
                  dy: np.ndarray, need_dx: bool = True
                  ) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
    """(dL/dx, {role: dL/dtensor}) of one layer, given dy = dL/d(its output); dL/dx is None
    when not ``need_dx`` for the layers with tensors (the first layer's is never needed in
    training)."""
    kind = lay.type
    if kind in ACTIVATION_GRADIENTS:
        return dy * ACTIVATION_GRADIENTS[kind](x, kept), {}
    if kind == "normalize":
        return dy / t["std"], {}
    if kind == "dropout":
        return dy, {}
    if kind == "gap":
        m, H, W, C = x.shape
        return np.broadcast_to(dy[:, None, None, :] / (H * W), x.shape).copy(), {}
    if kind == "flatten":
        if x.ndim == 4:
            m, H, W, C = x.shape
            return dy.reshape(m, C, H, W).transpose(0, 2, 3, 1), {}
        return dy.reshape(x.shape), {}
    if kind == "maxpool":
        return _maxpool_backward(x, kept, dy, lay["kernel"], lay["stride"]), {}
    if kind == "conv2d":
        return _conv2d_backward(x, t["weight"], dy, lay["stride"], lay["padding"], "bias" in t,
                                need_dx)
    if kind == "batchnorm":
        x_hat, inv_std, training = kept
        axes = tuple(range(x.ndim - 1))
        grads = {"weight": (dy * x_hat).sum(axis=axes), "bias": dy.sum(axis=axes)}
        scale = t["weight"] * inv_std
        if not training:  # the running statistics are constants
            return dy * scale, grads
        n = x.size // x.shape[-1]  # values per channel: m (vectors) or m H W (images)
        return scale / n * (n * dy - grads["bias"] - x_hat * grads["weight"]), grads
    return _dense_backward(lay, t, x, dy, need_dx)


def _conv2d_backward(x: np.ndarray, W: np.ndarray, dy: np.ndarray, stride: int, padding: int,
                     bias: bool, need_dx: bool = True
                     ) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
    """x (m, H, W, C), W (F, C, k, k), dy (m, H', W', F): for each kernel offset (i, j), the
    input pixels it reads - x_pad[:, i::s, j::s] cut to (H', W') - are one column block of
    forward's im2col matrix: dW[:, :, i, j] is dy^T times them, and dy W[:, :, i, j] adds back
    onto them (the offsets' blocks overlap, an offset's own pixels do not)."""
    m, H, Wd, C = x.shape
    F, _, k, _ = W.shape
    Ho, Wo = dy.shape[1], dy.shape[2]
    p, s = padding, stride
    padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    dpadded = np.zeros_like(padded, dtype=np.result_type(x, W, dy))
    dW = np.empty(W.shape, dtype=dpadded.dtype)
    rows = dy.reshape(-1, F)  # (m H' W', F)
    for i in range(k):
        for j in range(k):
            window = (slice(None), slice(i, i + s * Ho, s), slice(j, j + s * Wo, s))
            dW[:, :, i, j] = rows.T @ padded[window].reshape(-1, C)
            if need_dx:
                dpadded[window] += (rows @ W[:, :, i, j]).reshape(m, Ho, Wo, C)
    grads = {"weight": dW}
    if bias:
        grads["bias"] = rows.sum(axis=0)
    return (dpadded[:, p:p + H, p:p + Wd] if need_dx else None), grads


def _maxpool_backward(x: np.ndarray, out: np.ndarray, dy: np.ndarray, kernel: int, stride: int
                      ) -> np.ndarray:
    """dy (m, H', W', C) to the max of each window of x (m, H, W, C): the kernel offsets in
    row-major order, each window's first offset that holds its max taking its gradient."""
    Ho, Wo = out.shape[1], out.shape[2]
    dx = np.zeros(x.shape, dtype=np.result_type(x, dy))
    routed = np.zeros(out.shape, dtype=bool)  # windows whose max has had its gradient
    for i in range(kernel):
        for j in range(kernel):
            window = (slice(None), slice(i, i + stride * Ho, stride),
                      slice(j, j + stride * Wo, stride))
            first = (x[window] == out) & ~routed
            dx[window] += np.where(first, dy, 0)
            routed |= first
    return dx


def _dense_backward(lay: Layer, t: Mapping[str, np.ndarray], x: np.ndarray, dy: np.ndarray,
                    need_dx: bool = True) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
    W, layout = t["weight"], lay["layout"]
    if layout == "out_in":  # z = x W^T, W (units, n)
        dx, dW = (dy @ W if need_dx else None), dy.T @ x
    elif layout == "in_out":  # z = x W, W (n, units)
        dx, dW = (dy @ W.T if need_dx else None), x.T @ dy
    else:  # z = x w, w (n,)
        dx, dW = (dy[:, :1] * W if need_dx else None), x.T @ dy[:, 0]
    grads = {"weight": dW}
    if "bias" in t:
        grads["bias"] = dy.sum(axis=0)
    return dx, grads
