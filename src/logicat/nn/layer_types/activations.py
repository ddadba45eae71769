r"""The element-wise activations: g applied to each value, g' in the backward pass.

    relu        max(x, 0)               g' = [x > 0] (0 at x = 0, as PyTorch)
    leaky_relu  x (x > 0), slope x      g' = 1 (x > 0), slope (x <= 0, as PyTorch)
    tanh        tanh x                  g' = 1 - a^2, a = g(x)
    sigmoid     1 / (1 + e^-x)          g' = a (1 - a)
    gelu        x Phi(x), Phi the standard normal's distribution function,
                Phi(x) = (1 + erf(x / sqrt 2)) / 2      g' = Phi(x) + x phi(x),
                phi(x) = e^(-x^2 / 2) / sqrt(2 pi) its density; with approximate "tanh",
                Phi(x) ~ (1 + tanh(u)) / 2, u = sqrt(2 / pi) (x + 0.044715 x^3), as PyTorch's
                GELU(approximate="tanh"): g' = (1 + t) / 2 + x (1 - t^2) u' / 2, t = tanh u

ReLU and leaky ReLU keep their input for the backward rule, tanh and sigmoid their output, GELU
its input.
"""

from __future__ import annotations

import math
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


#: erf of each value: NumPy has none, so Python's ``math.erf`` (the C library's) per value
_erf = np.frompyfunc(math.erf, 1, 1)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


@register
class GELU(Activation):
    """The Gaussian error linear unit (Hendrycks and Gimpel, 2016): each value weighed by the
    chance that a standard normal is below it."""

    type, TORCH = "gelu", ("GELU",)
    OPTIONS = {"approximate": "none"}

    def check(self, options):
        if options["approximate"] not in ("none", "tanh"):
            from logicat.core.errors import ParameterError

            raise ParameterError(f"A gelu layer's approximate must be 'none' or 'tanh'. Got "
                                 f"{options['approximate']!r:.80} instead.")
        return options

    def describe(self):
        return "gelu" + (" (tanh)" if self["approximate"] == "tanh" else "")

    def _phi_and_slope(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Phi(x), g'(x))."""
        if self["approximate"] == "tanh":
            u = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
            t = np.tanh(u)
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return 0.5 * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
        phi = 0.5 * (1 + _erf(x / math.sqrt(2)).astype(x.dtype))
        density = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return phi, phi + x * density

    def g(self, x):
        return x * self._phi_and_slope(x)[0]

    def slope_of(self, x, a):
        return self._phi_and_slope(x)[1]

    def peak(self, tensors, bound, shape):
        return bound, float(bound.max()), self.type  # |x Phi(x)| <= |x|

    def torch_module(self, shape):
        from torch import nn

        return nn.GELU(approximate=self["approximate"])

    @classmethod
    def from_torch(cls, module, name):
        return cls(module.approximate, name=name)

    def autograd(self, A, tensors, ops, run):
        """One node of the engine's graph, with the derivative above as its backward rule."""
        out = type(A)._node(lambda: self.g(A.data), (A,), "gelu")

        def backward():
            A.grad += self.slope_of(A.data, out.data) * out.grad

        out._backward = backward
        return out

    def onnx_nodes(self, h, out, shape, names, helper):
        """Opset 17 has no Gelu: Erf (or Tanh of the cubic) and the arithmetic around it, its
        constants cast to the value's type (``CastLike``: float32 or float64 models alike);
        onnxruntime computes Erf in float32 only, so a float64 model's exact GELU is float32's
        there (a relative 1e-7)."""
        make = helper.make_node
        values = {"half": 0.5, "one": 1.0}
        if self["approximate"] == "tanh":
            values.update(c=0.044715, k=_SQRT_2_OVER_PI, three=3.0)
        else:
            values["sqrt2"] = math.sqrt(2)
        consts = {f"gelu_{k}": np.array(v, np.float64) for k, v in values.items()}
        nodes = [make("CastLike", [f"gelu_{k}", h], [f"{out}_{k}"]) for k in values]
        if self["approximate"] == "tanh":
            nodes += [make("Pow", [h, out + "_three"], [out + "_x3"]),
                      make("Mul", [out + "_x3", out + "_c"], [out + "_cx3"]),
                      make("Add", [h, out + "_cx3"], [out + "_inner"]),
                      make("Mul", [out + "_inner", out + "_k"], [out + "_u"]),
                      make("Tanh", [out + "_u"], [out + "_s"])]
        else:
            from onnx import TensorProto  # onnxruntime has Erf in float32 only

            nodes += [make("Div", [h, out + "_sqrt2"], [out + "_u"]),
                      make("Cast", [out + "_u"], [out + "_u32"], to=TensorProto.FLOAT),
                      make("Erf", [out + "_u32"], [out + "_s32"]),
                      make("CastLike", [out + "_s32", h], [out + "_s"])]
        return consts, nodes + [make("Add", [out + "_s", out + "_one"], [out + "_1s"]),
                                make("Mul", [h, out + "_1s"], [out + "_x1s"]),
                                make("Mul", [out + "_x1s", out + "_half"], [out])], out
