r"""The layers that rescale each channel: ``normalize`` (fixed statistics of the training set)
and ``batchnorm`` (learned, PyTorch's ``BatchNorm2d`` / ``BatchNorm1d``).

    normalize   (x - mean_c) / std_c; its mean and std are statistics, not trained:
                dx = dy / std
    batchnorm   inference: one scale and shift per channel, gamma / sqrt(var + eps) and
                beta - mean * scale, with the running statistics: dx = dy scale;
                training: x_hat = (x - mu_B) / sqrt(var_B + eps) with the batch's mean and
                biased variance (as PyTorch) and, over the N values per channel,
                dx = gamma / (N sqrt(var_B + eps)) (N dy - sum dy - x_hat sum dy x_hat);
                dgamma = sum dy x_hat, dbeta = sum dy. Nothing here updates the running
                statistics (the engines that train do).
"""

from __future__ import annotations

import numpy as np

from logicat.nn.layer import Layer, register


def _below(values: np.ndarray, name: str, low: float, what: str, *, strict: bool) -> str | None:
    bad = np.flatnonzero(values <= low if strict else values < low)
    if bad.size == 0:
        return None
    i = int(bad[0])
    return f"the tensor {name!r} must be {what}. Got {float(values.flat[i]):.6g} at index {i}."


@register
class Normalize(Layer):
    type = "normalize"
    ROLES = ("mean", "std")

    def tensor_shapes(self, shape):
        return {name: (shape[0],) for name in self.tensor_names().values()}

    def infer(self, tensors, x):
        t = self.own(tensors)
        return (x - t["mean"]) / t["std"]

    def forward(self, tensors, x, training):
        return self.infer(tensors, x), None

    def backward(self, tensors, x, kept, dy, need_dx):
        return dy / self.own(tensors)["std"], {}

    def peak(self, tensors, bound, shape):
        t = self.own(tensors)
        out = (bound + t["mean"]) / t["std"]  # |x - mu| <= |x| + |mu|
        return out, float(out.max()), self.tensor_names()["std"]

    def check_values(self, tensors):
        name = self.tensor_names()["std"]
        return _below(tensors[name], name, 0.0, "a standard deviation: > 0", strict=True)

    def torch_module(self, shape):
        from logicat.nn.torch_modules import Normalize as Module

        return Module(shape[0])

    def autograd(self, A, tensors, ops, run):
        """(A - mean) / std with the statistics as named constants of the graph (its pictures
        show ``input.mean``, not an anonymous node)."""
        view = (1, -1, 1, 1) if A.ndim == 4 else (1, -1)
        mean, std = (type(A)(np.asarray(tensors[name]).reshape(view), name=name)
                     for name in self.tensor_names().values())
        return (A - mean) / std

    def onnx_nodes(self, h, out, shape, names, helper):
        make = helper.make_node
        mean, std = (names[n] for n in self.tensor_names().values())
        consts, nodes = {}, []
        if len(shape) == 3:  # images: the statistics as (1, C, 1, 1)
            consts["channel_shape"] = np.array([1, -1, 1, 1], np.int64)
            nodes += [make("Reshape", [mean, "channel_shape"], [out + "_mean"]),
                      make("Reshape", [std, "channel_shape"], [out + "_std"])]
            mean, std = out + "_mean", out + "_std"
        return consts, nodes + [make("Sub", [h, mean], [out + "_centered"]),
                                make("Div", [out + "_centered", std], [out])], out


@register
class BatchNorm(Layer):
    type, TORCH = "batchnorm", ("BatchNorm2d", "BatchNorm1d")
    OPTIONS = {"eps": 1e-5, "momentum": 0.1}
    ROLES = ("weight", "bias", "running_mean", "running_var")

    def tensor_shapes(self, shape):
        return {name: (shape[0],) for name in self.tensor_names().values()}

    def infer(self, tensors, x):  # one scale and shift per channel
        t = self.own(tensors)
        scale = t["weight"] / np.sqrt(t["running_var"] + self["eps"])
        return x * scale + (t["bias"] - t["running_mean"] * scale)

    def forward(self, tensors, x, training):
        t = self.own(tensors)
        axes = tuple(range(x.ndim - 1))
        if training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)  # biased, as PyTorch's training
        else:
            mean, var = t["running_mean"], t["running_var"]
        inv_std = 1.0 / np.sqrt(var + self["eps"])
        x_hat = (x - mean) * inv_std
        return x_hat * t["weight"] + t["bias"], (x_hat, inv_std, training)

    def backward(self, tensors, x, kept, dy, need_dx):
        t, names = self.own(tensors), self.tensor_names()
        x_hat, inv_std, training = kept
        axes = tuple(range(x.ndim - 1))
        dgamma, dbeta = (dy * x_hat).sum(axis=axes), dy.sum(axis=axes)
        grads = {names["weight"]: dgamma, names["bias"]: dbeta}
        scale = t["weight"] * inv_std
        if not training:  # the running statistics are constants
            return dy * scale, grads
        n = x.size // x.shape[-1]  # values per channel: m (vectors) or m H W (images)
        return scale / n * (n * dy - dbeta - x_hat * dgamma), grads

    def peak(self, tensors, bound, shape):
        t = self.own(tensors)
        inverse = 1 / np.sqrt(np.maximum(t["running_var"], 0) + self["eps"])
        scale = t["weight"] * inverse
        out = scale * (bound + t["running_mean"]) + t["bias"]
        c = int(np.argmax(np.maximum(out, scale)))
        blame = "weight" if t["weight"][c] >= inverse[c] else "running_var"
        return out, float(max(out.max(), scale.max())), self.tensor_names()[blame]

    def check_values(self, tensors):
        name = self.tensor_names()["running_var"]
        return _below(tensors[name], name, 0.0, "a variance: >= 0", strict=False)

    def kept_values(self, shape):
        return int(np.prod(shape))  # the normalised input

    def torch_module(self, shape):
        from torch import nn

        norm = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
        return norm(shape[0], eps=self["eps"], momentum=self["momentum"])

    @classmethod
    def from_torch(cls, module, name):
        from logicat.core.errors import ParameterError

        if not module.affine or not module.track_running_stats or module.momentum is None:
            raise ParameterError("logicat's batchnorm is affine with running "
                                 f"statistics and a momentum. Got {module}.")
        return cls(float(module.eps), float(module.momentum), name=name)

    def autograd(self, A, tensors, ops, run):
        t = self.own(tensors)
        if run.training:
            run.batchnorm_inputs.append((self, A))
            return ops.batch_norm(A, t["weight"], t["bias"], self["eps"])
        return ops.batch_norm_eval(A, run.statistic(t["running_mean"]),
                                   run.statistic(t["running_var"]), t["weight"], t["bias"],
                                   self["eps"])

    def onnx_nodes(self, h, out, shape, names, helper):
        inputs = [h] + [names[n] for n in self.tensor_names().values()]
        return {}, [helper.make_node("BatchNormalization", inputs, [out],
                                     epsilon=float(self["eps"]))], out
