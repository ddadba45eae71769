r"""``residual``: a block of layers whose output is added to its input, y = body(x) + shortcut(x)
(He et al., 2016). The shortcut is the identity, or - where the body changes the shape - a 1x1
convolution with the body's stride and width, and its batch norm (``resolved``).

Each engine runs the two lists with the loops it runs the whole model with, so nothing else
changes: NumPy adds the two outputs, and in the backward pass dy flows into both lists and
their input gradients add up (dx = dx_body + dx_shortcut; dy itself for an identity). Its
layers' tensors are named under the block's name, as PyTorch's ``state_dict`` of the module
``Residual(body=Sequential(...), shortcut=Sequential(...))`` names them:
``net.4.body.0.weight``, ``net.4.shortcut.1.running_var``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from logicat.core.errors import ParameterError, ShapeError
from logicat.nn.layer import (
    Layer,
    output_shape,
    prod,
    propagate,
    register,
    run,
    run_backward,
    run_train,
    where,
)


@register
class Residual(Layer):
    type, TAKES = "residual", "images"

    def __init__(self, body: Sequence[Layer] = (), shortcut: Sequence[Layer] | None = None, *,
                 name: str | None = None, tensors=None) -> None:
        body = list(body)
        if not body or not all(isinstance(lay, Layer) for lay in body):
            raise ParameterError("A residual block's body must be a list of 1 or more layers. "
                                 f"Got {str(body)[:80]}.")
        if shortcut is not None and not all(isinstance(lay, Layer) for lay in shortcut):
            raise ParameterError("A residual block's shortcut must be a list of layers. Got "
                                 f"{str(shortcut)[:80]}.")
        super().__init__(name=name)
        self.body = body
        self.shortcut = None if shortcut is None else list(shortcut)

    @property
    def children(self):
        return (*self.body, *(self.shortcut or ()))

    def renamed(self, name):
        """This block named ``name``, its layers ``name.body.j`` and ``name.shortcut.j``."""
        return Residual([lay.renamed(f"{name}.body.{j}") for j, lay in enumerate(self.body)],
                        None if self.shortcut is None else
                        [lay.renamed(f"{name}.shortcut.{j}")
                         for j, lay in enumerate(self.shortcut)], name=name)

    def resolved(self, shape: tuple[int, ...], where: str = "a residual block") -> Residual:
        """This block with its shortcut decided for inputs of ``shape``: the identity where the
        body keeps the shape, else a 1x1 convolution to the body's width with the body's
        stride, and its batch norm."""
        if self.shortcut is not None:
            return self
        inner = f"{where}: body "
        body = [lay.resolved(s, f"{inner}layer {j} (residual)") if isinstance(lay, Residual)
                else lay for j, (lay, s) in enumerate(zip(
                    self.body, _shapes_into(self.body, shape, inner), strict=True))]
        out = output_shape(body, shape, inner)
        if out == shape:
            return Residual(body, [], name=self.name)  # the identity
        if len(out) != 3 or shape[1] % out[1] or shape[1] // out[1] != shape[2] // out[2]:
            raise ShapeError(f"{where} turns {shape} into {out}: a 1x1 convolution cannot take "
                             "its input to that shape.")
        from logicat.nn.layer_types.conv import Conv2d
        from logicat.nn.layer_types.normalization import BatchNorm

        stride = shape[1] // out[1]
        if stride > 8:
            raise ShapeError(f"{where} shrinks its input {stride} times: a shortcut strides at "
                             "most 8.")
        block = Residual(body, [Conv2d(out[0], 1, stride, 0), BatchNorm()], name=self.name)
        return block if self.name is None else block.renamed(self.name)

    def to_json(self):
        out = super().to_json()
        out["body"] = [lay.to_json() for lay in self.body]
        if self.shortcut is not None:
            out["shortcut"] = [lay.to_json() for lay in self.shortcut]
        return out

    def describe(self):
        return "residual" + (", 1x1 shortcut" if self.shortcut else "")

    # ------------------------------------------------------------ shapes
    def output_shape(self, shape, here):
        self.need(shape, here)
        out = output_shape(self.body, shape, f"{here}: body ")
        cut = output_shape(self.shortcut or [], shape, f"{here}: shortcut ")
        if out != cut:
            raise ShapeError(f"{here}: its body gives {out} and its shortcut {cut}: they must "
                             "match to be added (leave the shortcut out to have one chosen).")
        return out

    def tensor_shapes(self, shape):
        found = {}
        for part in (self.body, self.shortcut or []):
            for lay, s in zip(part, _shapes_into(part, shape), strict=True):
                found.update(lay.tensor_shapes(s))
        return found

    def inner_values(self, shape):
        """Values per example its layers' outputs hold before the sum."""
        total = 0
        for part in (self.body, self.shortcut or []):
            for lay, s in zip(part, _shapes_into(part, shape), strict=True):
                total += prod(lay.output_shape(s, lay.type)) + lay.inner_values(s)
        return total

    # ------------------------------------------------------------ NumPy
    def infer(self, tensors, x):
        return run(self.body, tensors, x) + run(self.shortcut or [], tensors, x)

    def forward(self, tensors, x, training):
        y, body = run_train(self.body, tensors, x, training)
        cut, shortcut = run_train(self.shortcut or [], tensors, x, training)
        return y + cut, (body, shortcut)

    def backward(self, tensors, x, kept, dy, need_dx):
        body, shortcut = kept
        grads, dx = run_backward(self.body, tensors, body, dy, need_dx)
        more, dx_cut = run_backward(self.shortcut or [], tensors, shortcut, dy, need_dx)
        grads.update(more)
        return (dx + dx_cut if need_dx else None), grads

    def kinks(self, tensors, given, margin, after_relu, training):
        from logicat.nn.layer import count_kinks

        return sum(sum(count_kinks(part, tensors, given, margin, training).values())
                   for part in (self.body, self.shortcut or []))

    # ------------------------------------------------------------ bounds and memory
    def peak(self, tensors, bound, shape):
        out, peaks = propagate(self.body, tensors, bound, shape)
        cut, more = propagate(self.shortcut or [], tensors, bound, shape)
        total = out + cut
        peaks += more + [(float(total.max()), self.type)]
        worst = max(peaks, key=lambda p: p[0] if np.isfinite(p[0]) else np.inf)
        return total, worst[0], worst[1]

    def check_values(self, tensors):
        return next((p for lay in self.children if (p := lay.check_values(tensors))), None)

    def work_values(self, shape, rows):
        return rows * self.inner_values(shape) + max(
            (lay.work_values(s, rows) for part in (self.body, self.shortcut or [])
             for lay, s in zip(part, _shapes_into(part, shape), strict=True)), default=0)

    def kept_values(self, shape):
        return self.inner_values(shape) + sum(
            lay.kept_values(s) for part in (self.body, self.shortcut or [])
            for lay, s in zip(part, _shapes_into(part, shape), strict=True))

    # ------------------------------------------------------------ other engines
    def torch_module(self, shape):
        from logicat.nn.torch_modules import Residual as Module

        return Module([lay.torch_module(s) for lay, s in
                       zip(self.body, _shapes_into(self.body, shape), strict=True)],
                      [lay.torch_module(s) for lay, s in
                       zip(self.shortcut or [], _shapes_into(self.shortcut or [], shape),
                           strict=True)])

    def autograd(self, A, tensors, ops, run_):
        y = A
        for lay in self.body:
            y = lay.autograd(y, tensors, ops, run_)
        cut = A
        for lay in self.shortcut or []:
            cut = lay.autograd(cut, tensors, ops, run_)
        return y + cut

    def onnx_nodes(self, h, out, shape, names, helper):
        consts, nodes, ends = {}, [], []
        for tag, part in (("b", self.body), ("s", self.shortcut or [])):
            value = h
            for j, (lay, s) in enumerate(zip(part, _shapes_into(part, shape), strict=True)):
                more, extra, value = lay.onnx_nodes(value, f"{out}_{tag}{j}", s, names, helper)
                consts.update(more)
                nodes += extra
            ends.append(value)
        return consts, nodes + [helper.make_node("Add", ends, [out])], out


def _shapes_into(layers: Sequence[Layer], shape: tuple[int, ...], prefix: str = ""
                 ) -> list[tuple[int, ...]]:
    """The input shape of each of ``layers`` (``prefix`` names the list in messages)."""
    found = []
    for i, lay in enumerate(layers):
        found.append(shape)
        shape = lay.output_shape(shape, where(i, lay, prefix))
    return found
