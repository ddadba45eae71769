r"""The element-wise activations: g applied to each value, g' in the backward pass.

    relu        max(x, 0)               g' = [x > 0] (0 at x = 0, as PyTorch)
    leaky_relu  x (x > 0), slope x      g' = 1 (x > 0), slope (x <= 0, as PyTorch)
    tanh        tanh x                  g' = 1 - a^2, a = g(x)
    sigmoid     1 / (1 + e^-x)          g' = a (1 - a)

ReLU and leaky ReLU keep their input for the backward rule, tanh and sigmoid their output.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from logicat.nn.layer import Layer, register
from logicat.nn.loss import sigmoid


class Activation(Layer):
    """An element-wise g: subclasses give ``g``, ``slope_of`` (g' from the input x and the
    output a), their torch and ONNX names and the Tensor method of logicat's autograd."""

    ONNX: ClassVar[str] = ""
    #: whether g' is read from the output (tanh, sigmoid) rather than the input
    FROM_OUTPUT: ClassVar[bool] = False

    def g(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def slope_of(self, x: np.ndarray, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def infer(self, tensors, x):
        return self.g(x)

    def forward(self, tensors, x, training):
        out = self.g(x)
        return out, (out if self.FROM_OUTPUT else None)

    def backward(self, tensors, x, kept, dy, need_dx):
        return dy * self.slope_of(x, kept), {}

    def peak(self, tensors, bound, shape):
        return bound, float(bound.max()), self.type

    def torch_module(self, shape):
        from torch import nn

        return getattr(nn, self.TORCH[0])()

    @classmethod
    def from_torch(cls, module, name):
        return cls(name=name)

    def autograd(self, A, tensors, ops, run):
        return getattr(A, self.type)()

    def onnx_nodes(self, h, out, shape, names, helper):
        return {}, [helper.make_node(self.ONNX, [h], [out])], out


@register
class ReLU(Activation):
    type, TORCH, ONNX = "relu", ("ReLU",), "Relu"

    def g(self, x):
        return np.maximum(x, 0)

    def slope_of(self, x, a):
        return x > 0  # 0 at x = 0, as PyTorch

    def kinks(self, tensors, given, margin, after_relu, training):
        return int((np.abs(given) <= margin).sum())


@register
class LeakyReLU(Activation):
    type, TORCH, ONNX = "leaky_relu", ("LeakyReLU",), "LeakyRelu"
    OPTIONS = {"slope": 0.01}

    def g(self, x):
        return np.where(x > 0, x, x * x.dtype.type(self["slope"]))

    def slope_of(self, x, a):
        return np.where(x > 0, 1.0, self["slope"]).astype(x.dtype)

    def kinks(self, tensors, given, margin, after_relu, training):
        return int((np.abs(given) <= margin).sum())

    def peak(self, tensors, bound, shape):
        return bound, float(bound.max()), self.type  # |g(x)| <= |x|

    def describe(self):
        return f"leaky_relu {self['slope']:g}"

    def torch_module(self, shape):
        from torch import nn

        return nn.LeakyReLU(self["slope"])

    @classmethod
    def from_torch(cls, module, name):
        return cls(float(module.negative_slope), name=name)

    def autograd(self, A, tensors, ops, run):
        return A.relu() - (-A).relu() * self["slope"]

    def onnx_nodes(self, h, out, shape, names, helper):
        return {}, [helper.make_node("LeakyRelu", [h], [out], alpha=float(self["slope"]))], out


@register
class Tanh(Activation):
    type, TORCH, ONNX, FROM_OUTPUT = "tanh", ("Tanh",), "Tanh", True

    def g(self, x):
        return np.tanh(x)

    def slope_of(self, x, a):
        return 1 - a * a

    def peak(self, tensors, bound, shape):
        return np.minimum(bound, 1.0), float(bound.max()), self.type


@register
class Sigmoid(Activation):
    type, TORCH, ONNX, FROM_OUTPUT = "sigmoid", ("Sigmoid",), "Sigmoid", True

    def g(self, x):
        return sigmoid(x)

    def slope_of(self, x, a):
        return a * (1 - a)

    def peak(self, tensors, bound, shape):
        return sigmoid(bound), 1.0, self.type  # 0 < g(x) <= g(|x|): 1/2 at x = 0, not 0

