r"""The layers that reshape or pass values on: ``flatten`` and ``dropout``.

    flatten     (m, C H W) in PyTorch's (C, H, W) order; backward reads dy back in that order
    dropout     the identity in inference (and in this NumPy engine's training: no random
                mask here; torch and logicat's autograd drop with a mask)
"""

from __future__ import annotations

from logicat.core.errors import ParameterError
from logicat.nn.layer import Layer, prod, register


@register
class Flatten(Layer):
    type, TORCH = "flatten", ("Flatten",)

    def output_shape(self, shape, where):
        return (prod(shape),)

    def infer(self, tensors, x):
        return (x.transpose(0, 3, 1, 2) if x.ndim == 4 else x).reshape(len(x), -1)

    def forward(self, tensors, x, training):
        return self.infer(tensors, x), None

    def backward(self, tensors, x, kept, dy, need_dx):
        if x.ndim == 4:
            m, H, W, C = x.shape
            return dy.reshape(m, C, H, W).transpose(0, 2, 3, 1), {}
        return dy.reshape(x.shape), {}

    def peak(self, tensors, bound, shape):
        per = prod(shape[1:]) if len(shape) > 1 else 1
        return bound.repeat(per), float(bound.max()), self.type

    def torch_module(self, shape):
        from torch import nn

        return nn.Flatten()

    @classmethod
    def from_torch(cls, module, name):
        if (module.start_dim, module.end_dim) != (1, -1):
            raise ParameterError("logicat's flatten keeps the batch axis and flattens the rest "
                                 f"(start_dim=1, end_dim=-1). Got {module}.")
        return cls(name=name)

    def autograd(self, A, tensors, ops, run):  # -1: the batch size is free (a placeholder's)
        return A.reshape(-1, prod(A.shape[1:]))

    def onnx_nodes(self, h, out, shape, names, helper):
        return {}, [helper.make_node("Flatten", [h], [out])], out


@register
class Dropout(Layer):
    type, TORCH = "dropout", ("Dropout",)
    OPTIONS = {"rate": 0.0}

    def describe(self):
        return f"dropout {self['rate']:g}"

    def infer(self, tensors, x):
        return x

    def forward(self, tensors, x, training):
        return x, None

    def backward(self, tensors, x, kept, dy, need_dx):
        return dy, {}

    def torch_module(self, shape):
        from torch import nn

        return nn.Dropout(self["rate"])

    @classmethod
    def from_torch(cls, module, name):
        return cls(float(module.p), name=name)

    def autograd(self, A, tensors, ops, run):
        p = float(self["rate"])
        if not run.training or p == 0.0:
            return A
        return ops.dropout(A, run.mask(self, A), p)

    def onnx_nodes(self, h, out, shape, names, helper):
        return {}, [], h
