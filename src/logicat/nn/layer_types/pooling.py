r"""The pooling layers: ``maxpool``, ``avgpool`` (k x k windows, stride s, as PyTorch's
``MaxPool2d`` / ``AvgPool2d``: the rows and columns that do not fill a window are dropped) and
``gap`` (the mean over all pixels, (m, C): ``AdaptiveAvgPool2d(1)`` then ``Flatten``).

    maxpool     forward: the max of each window; backward: dy goes to the max of its window -
                on a tie, to the first maximum in the window's row-major order (PyTorch's CPU
                choice); overlapping windows add up
    avgpool     forward: the mean of each window; backward: dy / k^2 to every pixel of it
    gap         forward: the mean over H W; backward: dx = dy / (H W) at every pixel

A max-pool has kinks: a window whose two largest values are tied has no derivative, and each
engine returns one valid subgradient (``logicat.nn.backward.kinks``).
"""

from __future__ import annotations

import numpy as np

from logicat.core.errors import ParameterError, ShapeError
from logicat.nn.layer import Layer, register


class _Window(Layer):
    """A k x k window moved by the stride over each channel."""

    TAKES = "images"
    OPTIONS = {"kernel": 2, "stride": None}

    def check(self, options):
        if options["stride"] is None:
            options["stride"] = options["kernel"]
        return options

    def describe(self):
        k, s = self["kernel"], self["stride"]
        return f"{self.type} {k}" + (f", stride {s}" if s != k else "")

    def output_shape(self, shape, where):
        self.need(shape, where)
        k, s = self["kernel"], self["stride"]
        side = [(d - k) // s + 1 for d in shape[1:]]
        if min(side) < 1:
            raise ShapeError(f"{where}: its {k}x{k} window is larger than its "
                             f"{shape[1]}x{shape[2]} input.")
        return (shape[0], *side)

    def corners(self, x: np.ndarray):
        """Each kernel offset (i, j) and the window pixels it reads, as index tuples."""
        k, s = self["kernel"], self["stride"]
        Ho, Wo = (x.shape[1] - k) // s + 1, (x.shape[2] - k) // s + 1
        for i in range(k):
            for j in range(k):
                yield (slice(None), slice(i, i + s * Ho, s), slice(j, j + s * Wo, s))

    @classmethod
    def from_torch(cls, module, name):
        k, s, p = (v if isinstance(v, int) else v[0] for v in
                   (module.kernel_size, module.stride, module.padding))
        sizes = [module.kernel_size, module.stride, module.padding]
        if p != 0 or getattr(module, "ceil_mode", False) or getattr(
                module, "return_indices", False) or any(
                not isinstance(v, int) and len(set(v)) > 1 for v in sizes) or getattr(
                module, "dilation", 1) not in (1, (1, 1)):
            raise ParameterError(f"logicat's {cls.type} has square windows, no padding, "
                                 f"no ceil mode and no indices. Got {module}.")
        return cls(k, s, name=name)


@register
class MaxPool(_Window):
    type, TORCH = "maxpool", ("MaxPool2d",)

    def infer(self, tensors, x):
        """Windows that tile the image (s = k) are element-wise maxima of their k^2 corners."""
        k, s = self["kernel"], self["stride"]
        if s == k:
            out = None
            for window in self.corners(x):
                out = x[window] if out is None else np.maximum(out, x[window])
            return out
        windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
        return windows[:, ::s, ::s].max(axis=(-2, -1))

    def forward(self, tensors, x, training):
        out = self.infer(tensors, x)
        return out, out

    def backward(self, tensors, x, out, dy, need_dx):
        dx = np.zeros(x.shape, dtype=np.result_type(x, dy))
        routed = np.zeros(out.shape, dtype=bool)  # windows whose max has had its gradient
        for window in self.corners(x):
            first = (x[window] == out) & ~routed
            dx[window] += np.where(first, dy, 0)
            routed |= first
        return dx, {}

    def kinks(self, tensors, given, margin, after_relu, training):
        k, s = self["kernel"], self["stride"]
        windows = np.lib.stride_tricks.sliding_window_view(given, (k, k), axis=(1, 2))
        windows = np.sort(windows[:, ::s, ::s].reshape(len(given), -1, k * k))
        top, gap = windows[..., -1], windows[..., -1] - windows[..., -2]
        return int(((gap <= margin) & ~(after_relu & (top == 0))).sum())

    def kept_values(self, shape):
        return int(np.prod(self.output_shape(shape, self.type)))  # the argmax

    def torch_module(self, shape):
        from torch import nn

        return nn.MaxPool2d(self["kernel"], self["stride"])

    def autograd(self, A, tensors, ops, run):
        return ops.max_pool2d(A, self["kernel"], self["stride"], 0)

    def onnx_nodes(self, h, out, shape, names, helper):
        return {}, [helper.make_node("MaxPool", [h], [out], kernel_shape=[self["kernel"]] * 2,
                                     strides=[self["stride"]] * 2)], out


@register
class AvgPool(_Window):
    type, TORCH = "avgpool", ("AvgPool2d",)

    def infer(self, tensors, x):
        total = None
        for window in self.corners(x):
            total = x[window] if total is None else total + x[window]
        return total / x.dtype.type(self["kernel"] ** 2)

    def forward(self, tensors, x, training):
        return self.infer(tensors, x), None

    def backward(self, tensors, x, kept, dy, need_dx):
        dx = np.zeros(x.shape, dtype=np.result_type(x, dy))
        share = dy / dx.dtype.type(self["kernel"] ** 2)
        for window in self.corners(x):
            dx[window] += share
        return dx, {}

    def torch_module(self, shape):
        from torch import nn

        return nn.AvgPool2d(self["kernel"], self["stride"])

    @classmethod
    def from_torch(cls, module, name):
        if module.divisor_override is not None:
            raise ParameterError("logicat's avgpool divides by the window's size. "
                                 f"Got {module}.")
        return super().from_torch(module, name)

    def autograd(self, A, tensors, ops, run):
        k, s = self["kernel"], self["stride"]
        Ho, Wo = (A.shape[2] - k) // s + 1, (A.shape[3] - k) // s + 1
        total = None
        for i in range(k):
            for j in range(k):
                part = A[:, :, i:i + s * Ho:s, j:j + s * Wo:s]
                total = part if total is None else total + part
        return total * (1.0 / k ** 2)

    def onnx_nodes(self, h, out, shape, names, helper):
        return {}, [helper.make_node("AveragePool", [h], [out],
                                     kernel_shape=[self["kernel"]] * 2,
                                     strides=[self["stride"]] * 2)], out


@register
class GlobalAvgPool(Layer):
    type, TAKES, TORCH = "gap", "images", ("AdaptiveAvgPool2d",)

    def output_shape(self, shape, where):
        self.need(shape, where)
        return (shape[0],)

    def infer(self, tensors, x):
        return x.mean(axis=(1, 2))

    def forward(self, tensors, x, training):
        return self.infer(tensors, x), None

    def backward(self, tensors, x, kept, dy, need_dx):
        m, H, W, C = x.shape
        return np.broadcast_to(dy[:, None, None, :] / (H * W), x.shape).copy(), {}

    def peak(self, tensors, bound, shape):
        return bound, float(bound.max()) * shape[1] * shape[2], self.type

    def torch_module(self, shape):
        from logicat.nn.torch_modules import GlobalAvgPool as Module

        return Module()

    @classmethod
    def from_torch(cls, module, name):
        if module.output_size not in (1, (1, 1)):
            raise ParameterError("logicat pools to one value per channel "
                                 f"(AdaptiveAvgPool2d(1)). Got {module}.")
        return cls(name=name)

    def autograd(self, A, tensors, ops, run):
        return A.mean(axis=(2, 3))

    def onnx_nodes(self, h, out, shape, names, helper):
        return {}, [helper.make_node("GlobalAveragePool", [h], [out + "_pooled"]),
                    helper.make_node("Flatten", [out + "_pooled"], [out])], out

