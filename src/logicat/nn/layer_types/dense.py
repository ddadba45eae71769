r"""``dense``: z = x W^T + b, PyTorch's ``Linear``, in one of three layouts of W:

    out_in      W (units, n), PyTorch's:    z = x W^T + b;  dW = dy^T x, dx = dy W
    in_out      W (n, units), the course's: z = x W + b;    dW = x^T dy, dx = dy W^T
    vector      w (n,), one unit:           z = x w + b;    dw = x^T dy, dx = dy w^T
    db = the sum over the examples of dy
"""

from __future__ import annotations

import numpy as np

from logicat.core.errors import ParameterError
from logicat.nn.layer import Layer, register

LAYOUTS = ("out_in", "in_out", "vector")


@register
class Dense(Layer):
    type, TAKES, TORCH = "dense", "vectors", ("Linear",)
    OPTIONS = {"units": None, "bias": True, "layout": "out_in"}
    REQUIRED = ("units",)
    ROLES = ("weight", "bias")

    def check(self, options):
        if options["layout"] not in LAYOUTS:
            raise ParameterError(f"A dense layer's layout must be one of {', '.join(LAYOUTS)}. "
                                 f"Got {options['layout']!r:.80} instead.")
        if options["layout"] == "vector" and options["units"] != 1:
            raise ParameterError("A dense layer laid out as a vector has 1 unit. Got "
                                 f"{options['units']} units.")
        return options

    def describe(self):
        return f"dense {self['units']}"

    def output_shape(self, shape, where):
        self.need(shape, where)
        return (self["units"],)

    def tensor_shapes(self, shape):
        names, n, units = self.tensor_names(), shape[0], self["units"]
        out = {names["weight"]: {"out_in": (units, n), "in_out": (n, units),
                                 "vector": (n,)}[self["layout"]]}
        if self["bias"]:
            out[names["bias"]] = (units,)
        return out

    def infer(self, tensors, x):
        t = self.own(tensors)
        W, layout = t["weight"], self["layout"]
        z = x @ W.T if layout == "out_in" else (x @ W if layout == "in_out" else (x @ W)[:, None])
        return z + t["bias"] if "bias" in t else z

    def forward(self, tensors, x, training):
        return self.infer(tensors, x), None

    def backward(self, tensors, x, kept, dy, need_dx):
        t, names = self.own(tensors), self.tensor_names()
        W, layout = t["weight"], self["layout"]
        if layout == "out_in":  # z = x W^T, W (units, n)
            dx, dW = (dy @ W if need_dx else None), dy.T @ x
        elif layout == "in_out":  # z = x W, W (n, units)
            dx, dW = (dy @ W.T if need_dx else None), x.T @ dy
        else:  # z = x w, w (n,)
            dx, dW = (dy[:, :1] * W if need_dx else None), x.T @ dy[:, 0]
        grads = {names["weight"]: dW}
        if "bias" in t:
            grads[names["bias"]] = dy.sum(axis=0)
        return dx, grads

    def peak(self, tensors, bound, shape):
        t = self.own(tensors)
        W, layout = t["weight"], self["layout"]
        out = W @ bound if layout == "out_in" else (W.T @ bound if layout == "in_out"
                                                     else np.atleast_1d(W @ bound))
        out = out + (t["bias"] if "bias" in t else 0)
        return out, float(out.max()), self.tensor_names()["weight"]

    def torch_module(self, shape):
        from torch import nn

        return nn.Linear(shape[0], self["units"], bias=self["bias"])

    @classmethod
    def from_torch(cls, module, name):
        return cls(module.out_features, module.bias is not None, name=name)

    def autograd(self, A, tensors, ops, run):
        t = self.own(tensors)
        W, layout = t["weight"], self["layout"]
        if layout == "out_in":
            A = A @ W.T  # (m, out): PyTorch's weight (out, in) needs no transposing copy
        else:
            A = A @ W if layout == "in_out" else (A @ W).reshape(-1, 1)
        return A if "bias" not in t else A + t["bias"]

    def onnx_nodes(self, h, out, shape, names, helper):
        make = helper.make_node
        t = {r: names[n] for r, n in self.tensor_names().items()}
        bias = [t["bias"]] if self["bias"] else []
        if self["layout"] == "out_in":
            return {}, [make("Gemm", [h, t["weight"], *bias], [out], transB=1)], out
        consts, nodes = {}, [make("MatMul", [h, t["weight"]], [out + "_xw"])]
        last = out + "_xw"
        if self["layout"] == "vector":  # back to one column (N, 1)
            consts["one_axis"] = np.array([1], np.int64)
            nodes.append(make("Unsqueeze", [last, "one_axis"], [out + "_col"]))
            last = out + "_col"
        if bias:
            nodes.append(make("Add", [last, bias[0]], [out]))
            last = out
        return consts, nodes, last
