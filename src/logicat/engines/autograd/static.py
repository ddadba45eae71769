"""Static graphs: define the computation once with placeholders, then run it with fed data.

This is TensorFlow 1.x's way (define-and-run): ``tf.placeholder``, build the graph, then
``session.run(fetches, feed_dict)`` many times. The dynamic engine is PyTorch's way
(define-by-run): the graph is recorded while the data flows through it, anew for every step.

Here the same expressions serve both. Written with ``placeholder`` tensors, an expression
records its graph once (each placeholder holds NaN until it is fed, so nothing meaningful is
computed yet); ``Graph`` fixes its topological order once; ``Graph.run`` feeds the
placeholders, replays each recorded op's forward rule in that order, and runs the very same
backward rules as the dynamic engine. Same ops, same order: exactly the same values and
gradients, bit for bit, without rebuilding the graph or re-sorting it at every step.

    X = placeholder("X", (None, n))
    w = placeholder("w", (n,), requires_grad=True)
    J = (X @ w).sigmoid().mean()           # the graph, defined once
    graph = Graph(J)
    J_value, (dw,) = graph.run({X: X_data, w: w_data}, grads=[w])   # run as often as needed
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import DTypeLike

from logicat.core.errors import ParameterError, ShapeError
from logicat.engines.autograd.tensor import Tensor, backpropagate, topological_order


class Placeholder(Tensor):
    """An input of a static graph whose value is fed at run time; NaN until then."""

    def __init__(
        self, name: str, shape: Sequence[int | None], dtype: DTypeLike, requires_grad: bool
    ) -> None:
        # NaN stand-ins: shapes check out while the graph is defined, no number means anything
        stand_in = np.full([1 if n is None else n for n in shape], np.nan, dtype=dtype)
        super().__init__(stand_in, requires_grad=requires_grad, name=name)
        self.declared_shape = tuple(shape)


def placeholder(
    name: str,
    shape: Sequence[int | None] = (),
    dtype: DTypeLike = np.float64,
    requires_grad: bool = False,
) -> Placeholder:
    """A named graph input of the given shape (None: any size) fed in ``Graph.run``.

    ``requires_grad=True`` for the inputs whose gradients ``run`` may return (the parameters).
    """
    return Placeholder(name, shape, dtype, requires_grad)


class Graph:
    """A computation defined once (ending at ``output``) and run many times with fed data."""

    def __init__(self, output: Tensor) -> None:
        self.output = output
        self.order = topological_order(output)  # fixed once, reused by every run
        self.placeholders = [n for n in self.order if isinstance(n, Placeholder)]
        self._computed = [n for n in self.order if n._forward is not None]

    def run(
        self,
        feed: Mapping[Placeholder | str, object],
        grads: Sequence[Placeholder] = (),
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Feed the placeholders, compute the output and the gradients of it by ``grads``.

        Parameters
        ----------
        feed : a value for every placeholder of the graph, keyed by placeholder or by name
        grads : placeholders with requires_grad whose gradients to return (none: forward only)

        Returns
        -------
        (the output's value, [d output / d g for g in grads])
        """
        # 1. feed: every placeholder gets its value (in the declared dtype, without a copy)
        by_name = {p.name: p for p in self.placeholders}
        unknown = [k for k in feed if isinstance(k, str) and k not in by_name]
        if unknown:
            raise ParameterError(
                f"The graph has no placeholder named {unknown[0]!r}. Its placeholders are "
                f"{', '.join(repr(p.name) for p in self.placeholders)}."
            )
        values = {by_name[k] if isinstance(k, str) else k: v for k, v in feed.items()}
        for p in self.placeholders:
            if p not in values:
                raise ParameterError(f"No value fed for the placeholder {p.name!r}.")
            value = np.asarray(values[p], dtype=p.dtype)
            if not _fits(value.shape, p.declared_shape):
                raise ShapeError(
                    f"The placeholder {p.name!r} has shape {p.declared_shape}. "
                    f"Got a value of shape {value.shape} instead."
                )
            p.data = value
        # 2. forward: each recorded op recomputes its value from its parents' new values
        for node in self._computed:
            node.data = node._forward()
        if not grads:
            return self.output.data, []
        for g in grads:
            if not g.requires_grad:
                raise ParameterError(
                    f"The placeholder {g.name!r} was not made with requires_grad.")
        for node in self.order:
            node.grad = None  # each run computes its gradients afresh
        # 3. backward: the dynamic engine's chain rule, over the order fixed at definition
        backpropagate(self.order, self.output, np.ones_like(self.output.data))
        grad_values = [np.zeros_like(g.data) if g.grad is None else g.grad for g in grads]
        return self.output.data, grad_values


def _fits(shape: tuple[int, ...], declared: tuple[int | None, ...]) -> bool:
    if len(shape) != len(declared):
        return False
    return all(d is None or d == n for n, d in zip(shape, declared, strict=True))
