r"""``conv2d``: cross-correlation, as PyTorch's ``Conv2d`` (weight (F, C / groups, k, k)).

    forward     im2col: each output pixel's k x k x C patch is one row, times W (C k k, F), over
                32 images at a time; H' = (H + 2p - k) // s + 1
    backward    dW[f, c, i, j] = sum dy_f * x_pad[c] at offset (i, j); dx_pad[offset (i, j)]
                += dy W[:, :, i, j]: the im2col product transposed, one kernel offset at a time
                (col2im as k^2 strided additions); db = sum dy
    groups      the channels split into ``groups`` sets, each convolved with its F / groups
                filters (groups = C = F: a depthwise convolution)

Channels last inside the NumPy engine, (m, H, W, C).
"""

from __future__ import annotations

import numpy as np

from logicat.core.errors import ParameterError, ShapeError
from logicat.nn.layer import Layer, register

#: images per im2col matrix (bounds the memory of one convolution's patches)
CONV_BATCH = 32


@register
class Conv2d(Layer):
    type, TAKES, TORCH = "conv2d", "images", ("Conv2d",)
    OPTIONS = {"filters": None, "kernel": 3, "stride": 1, "padding": 1, "bias": False,
               "groups": 1}
    REQUIRED = ("filters",)
    ROLES = ("weight", "bias")

    def check(self, options):
        if options["filters"] % options["groups"]:
            raise ParameterError(f"A conv2d layer's filters ({options['filters']}) must be a "
                                 f"multiple of its groups ({options['groups']}).")
        return options

    def to_json(self):
        out = super().to_json()
        if out["groups"] == 1:  # files of earlier versions hold no groups
            del out["groups"]
        return out

    def describe(self):
        k, o = self["kernel"], self.options
        more = (f", stride {o['stride']}" if o["stride"] != 1 else "") + (
            f", groups {o['groups']}" if o["groups"] != 1 else "")
        return f"conv2d {k}x{k}, {o['filters']}{more}"

    def output_shape(self, shape, where):
        self.need(shape, where)
        k, s, p, g = self["kernel"], self["stride"], self["padding"], self["groups"]
        if shape[0] % g:
            raise ShapeError(f"{where} splits its {shape[0]} input channels into {g} groups: "
                             f"they must divide.")
        side = [(d + 2 * p - k) // s + 1 for d in shape[1:]]
        if min(side) < 1:
            raise ShapeError(f"{where}: its {k}x{k} window is larger than its "
                             f"{shape[1]}x{shape[2]} input.")
        return (self["filters"], *side)

    def tensor_shapes(self, shape):
        names, k = self.tensor_names(), self["kernel"]
        out = {names["weight"]: (self["filters"], shape[0] // self["groups"], k, k)}
        if self["bias"]:
            out[names["bias"]] = (self["filters"],)
        return out

    # ------------------------------------------------------------ NumPy
    def forward(self, tensors, x, training):
        t = self.own(tensors)
        W, g = t["weight"], self["groups"]
        if g == 1:
            out = conv2d(x, W, None, self["stride"], self["padding"])
        else:
            C, F = x.shape[-1] // g, W.shape[0] // g
            out = np.concatenate([conv2d(x[..., j * C:(j + 1) * C], W[j * F:(j + 1) * F], None,
                                         self["stride"], self["padding"]) for j in range(g)],
                                 axis=-1)
        return (out if "bias" not in t else out + t["bias"]), None

    def backward(self, tensors, x, kept, dy, need_dx):
        t, names, g = self.own(tensors), self.tensor_names(), self["groups"]
        W = t["weight"]
        C, F = x.shape[-1] // g, W.shape[0] // g
        parts = [conv2d_backward(x[..., j * C:(j + 1) * C], W[j * F:(j + 1) * F],
                                 dy[..., j * F:(j + 1) * F], self["stride"], self["padding"],
                                 need_dx) for j in range(g)]
        dx = np.concatenate([p[0] for p in parts], axis=-1) if need_dx else None
        grads = {names["weight"]: np.concatenate([p[1] for p in parts]) if g > 1
                 else parts[0][1]}
        if "bias" in t:
            grads[names["bias"]] = dy.reshape(-1, dy.shape[-1]).sum(axis=0)
        return dx, grads

    # ------------------------------------------------------------ bounds and memory
    def peak(self, tensors, bound, shape):
        W = tensors[self.tensor_names()["weight"]]
        g = self["groups"]
        C, F = len(bound) // g, W.shape[0] // g
        out = np.concatenate([W[j * F:(j + 1) * F].sum(axis=(2, 3)) @ bound[j * C:(j + 1) * C]
                              for j in range(g)])
        if self["bias"]:
            out = out + tensors[self.tensor_names()["bias"]]
        return out, float(out.max()), self.tensor_names()["weight"]

    def work_values(self, shape, rows):
        k, p = self["kernel"], self["padding"]
        out = self.output_shape(shape, self.type)
        patches = out[1] * out[2] * shape[0] * k * k * min(rows, CONV_BATCH)
        return rows * shape[0] * (shape[1] + 2 * p) * (shape[2] + 2 * p) + patches

    def kept_values(self, shape):
        k = self["kernel"]
        out = self.output_shape(shape, self.type)
        return out[1] * out[2] * shape[0] * k * k  # the im2col matrix

    # ------------------------------------------------------------ other engines
    def torch_module(self, shape):
        from torch import nn

        o = self.options
        return nn.Conv2d(shape[0], o["filters"], o["kernel"], stride=o["stride"],
                         padding=o["padding"], groups=o["groups"], bias=o["bias"])

    @classmethod
    def from_torch(cls, module, name):
        k, s, p = module.kernel_size, module.stride, module.padding
        if (isinstance(p, str) or k[0] != k[1] or s[0] != s[1] or p[0] != p[1]
                or module.dilation != (1, 1) or module.padding_mode != "zeros"):
            raise ParameterError("logicat's conv2d is square, undilated and "
                                 f"zero-padded. Got {module}.")
        return cls(module.out_channels, k[0], s[0], p[0], module.bias is not None,
                   module.groups, name=name)

    def autograd(self, A, tensors, ops, run):
        t = self.own(tensors)
        W, g = t["weight"], self["groups"]
        if g > 1:  # the grouped weight inside a full one, zeros between: W_full[f, c]
            F, Cg = W.shape[0], W.shape[1]
            pick = np.zeros((F, Cg, Cg * g, 1, 1))
            for f in range(F):
                j = f // (F // g)
                pick[f, np.arange(Cg), j * Cg + np.arange(Cg)] = 1
            W = (W.reshape(F, Cg, 1, W.shape[2], W.shape[3]) * pick).sum(axis=1)
        return ops.conv2d(A, W, t.get("bias"), self["stride"], self["padding"])

    def onnx_nodes(self, h, out, shape, names, helper):
        t = {r: names[n] for r, n in self.tensor_names().items()}
        k, p = self["kernel"], self["padding"]
        inputs = [h, t["weight"]] + ([t["bias"]] if self["bias"] else [])
        return {}, [helper.make_node("Conv", inputs, [out], kernel_shape=[k, k],
                                     pads=[p, p, p, p], strides=[self["stride"]] * 2,
                                     group=self["groups"])], out


def conv2d(x: np.ndarray, W: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
           padding: int = 1) -> np.ndarray:
    """Cross-correlation (PyTorch's Conv2d), channels last: (m, H, W, C) with W (F, C, k, k)
    -> (m, H', W', F), H' = (H + 2p - k) // s + 1. im2col over ``CONV_BATCH`` images at a time:
    each output pixel's k x k x C patch becomes one row of a matrix that multiplies W."""
    m, H, Wd, C = x.shape
    F, _, k, _ = W.shape
    Ho, Wo = (H + 2 * padding - k) // stride + 1, (Wd + 2 * padding - k) // stride + 1
    out = np.empty((m, Ho, Wo, F), dtype=np.result_type(x, W))
    kernel = W.reshape(F, -1).T  # (C k k, F), rows in (c, dy, dx) order
    for start in range(0, m, CONV_BATCH):
        padded = np.pad(x[start:start + CONV_BATCH],
                        ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        patches = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(1, 2))
        patches = patches[:, ::stride, ::stride][:, :Ho, :Wo]  # (b, Ho, Wo, C, k, k)
        out[start:start + CONV_BATCH] = (patches.reshape(-1, C * k * k) @ kernel).reshape(
            -1, Ho, Wo, F)
    return out if bias is None else out + bias


def conv2d_backward(x: np.ndarray, W: np.ndarray, dy: np.ndarray, stride: int, padding: int,
                    need_dx: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """(dx, dW) for x (m, H, W, C), W (F, C, k, k), dy (m, H', W', F): for each kernel offset
    (i, j), the input pixels it reads - x_pad[:, i::s, j::s] cut to (H', W') - are one column
    block of forward's im2col matrix: dW[:, :, i, j] is dy^T times them, and dy W[:, :, i, j]
    adds back onto them (the offsets' blocks overlap, an offset's own pixels do not)."""
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
    return (dpadded[:, p:p + H, p:p + Wd] if need_dx else None), dW
