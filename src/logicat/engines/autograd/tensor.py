"""A small reverse-mode autograd engine over NumPy arrays, in the spirit of micrograd.

A ``Tensor`` holds a value (``data``, an ndarray), its gradient (``grad``), the tensors it was made
from (``_prev``), the name of the op that made it (``_op``) and two closures side by side: the
op's forward rule and its local backward rule. Every op records itself as it executes
(define-by-run), so the graph is whatever the Python code did. ``backward()`` orders the graph
topologically and applies the chain rule from the output back to the inputs; gradients
accumulate with ``+=``, and where NumPy broadcast an operand, its gradient is summed back to the
operand's shape by ``_unbroadcast``. As in micrograd, subtraction, negation and division are
built from the primitives (a - b = a + (-1) b, a / b = a b^-1): fewer backward rules to check,
and no speed lost where the graphs spend their time (the matrix products).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np

from logicat.nn.loss import log_sigmoid as _log_sigmoid
from logicat.nn.loss import sigmoid as _sigmoid
from logicat.nn.loss import softplus as _softplus

_recording = True  # switched off inside ``no_grad()``


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Compute values only: ops inside record no graph, so nothing can backpropagate."""
    global _recording
    saved, _recording = _recording, False
    try:
        yield
    finally:
        _recording = saved


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes broadcasting added or stretched, giving an array of ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    stretched = tuple(extra + i for i, n in enumerate(shape) if n == 1)
    return grad.sum(axis=tuple(range(extra)) + stretched).reshape(shape)


class Tensor:
    """A node of the computation graph: an ndarray value and the gradient of the output by it."""

    __array_ufunc__ = None  # ndarray (op) Tensor calls Tensor's reflected op, not NumPy's

    def __init__(self, data, requires_grad: bool = False, name: str | None = None) -> None:
        data = np.asarray(data)
        self.data = data if data.dtype.kind == "f" else data.astype(np.float64)  # floats only
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self.name = name
        self._prev: tuple[Tensor, ...] = ()
        self._op = ""
        self._forward: Callable[[], np.ndarray] | None = None
        self._backward: Callable[[], None] = lambda: None

    @staticmethod
    def _node(forward: Callable[[], np.ndarray], parents: tuple[Tensor, ...], op: str) -> Tensor:
        """Run ``forward`` and, unless in ``no_grad``, record how the result was made."""
        out = Tensor(forward())
        if _recording:
            out._prev, out._op, out._forward = parents, op, forward
            out.requires_grad = any(p.requires_grad for p in parents)
        return out

    def _lift(self, other) -> Tensor:
        """A constant operand as a Tensor; a Python number takes this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float)):
            return Tensor(np.asarray(other, dtype=self.data.dtype))
        return Tensor(other)

    # ---- arithmetic, with NumPy broadcasting
    def __add__(self, other) -> Tensor:
        other = self._lift(other)
        out = Tensor._node(lambda: self.data + other.data, (self, other), "+")

        def _backward():  # d(a + b) = da + db
            if self.requires_grad:
                self.grad += _unbroadcast(out.grad, self.shape)
            if other.requires_grad:
                other.grad += _unbroadcast(out.grad, other.shape)

        out._backward = _backward
        return out

    def __sub__(self, other) -> Tensor:  # a - b = a + (-b)
        return self + (-self._lift(other))

    def __mul__(self, other) -> Tensor:
        other = self._lift(other)
        out = Tensor._node(lambda: self.data * other.data, (self, other), "*")

        def _backward():  # d(ab) = b da + a db
            if self.requires_grad:
                self.grad += _unbroadcast(other.data * out.grad, self.shape)
            if other.requires_grad:
                other.grad += _unbroadcast(self.data * out.grad, other.shape)

        out._backward = _backward
        return out

    def __truediv__(self, other) -> Tensor:  # a / b = a b^-1
        return self * self._lift(other) ** -1

    def __neg__(self) -> Tensor:  # -a = (-1) a
        return self * -1.0

    def __pow__(self, p: float) -> Tensor:
        assert isinstance(p, (int, float, np.number)), "only constant exponents are supported"
        out = Tensor._node(lambda: self.data**p, (self,), f"**{p}")

        def _backward():  # d(a^p) = p a^(p-1) da
            self.grad += p * self.data ** (p - 1) * out.grad

        out._backward = _backward
        return out

    def __matmul__(self, other) -> Tensor:
        other = self._lift(other)
        out = Tensor._node(lambda: self.data @ other.data, (self, other), "@")

        def _backward():  # d(AB) = dA B + A dB; a 1-d operand is a row (left) or column (right)
            A = self.data[None, :] if self.ndim == 1 else self.data  # (..., m, n)
            B = other.data[:, None] if other.ndim == 1 else other.data  # (..., n, k)
            g = out.grad[..., None] if other.ndim == 1 else out.grad
            g = np.expand_dims(g, -2) if self.ndim == 1 else g  # (..., m, k)
            if self.requires_grad:
                dA = g @ B.swapaxes(-1, -2)  # (..., m, n)
                self.grad += _unbroadcast(dA[..., 0, :] if self.ndim == 1 else dA, self.shape)
            if other.requires_grad:
                dB = A.swapaxes(-1, -2) @ g  # (..., n, k)
                other.grad += _unbroadcast(dB[..., 0] if other.ndim == 1 else dB, other.shape)

        out._backward = _backward
        return out

    def __radd__(self, other) -> Tensor:
        return self._lift(other) + self

    def __rsub__(self, other) -> Tensor:
        return self._lift(other) - self

    def __rmul__(self, other) -> Tensor:
        return self._lift(other) * self

    def __rtruediv__(self, other) -> Tensor:
        return self._lift(other) / self

    def __rmatmul__(self, other) -> Tensor:
        return self._lift(other) @ self

    # ---- reductions
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        out = Tensor._node(
            lambda: self.data.sum(axis=axis, keepdims=keepdims), (self,), _reduction("sum", axis)
        )

        def _backward():  # each summed element gets the sum's gradient
            g = out.grad if keepdims or axis is None else np.expand_dims(out.grad, axis)
            self.grad += g

        out._backward = _backward
        return out

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        out = Tensor._node(
            lambda: self.data.mean(axis=axis, keepdims=keepdims), (self,), _reduction("mean", axis)
        )

        def _backward():  # each of the k averaged elements gets 1/k of the mean's gradient
            g = out.grad if keepdims or axis is None else np.expand_dims(out.grad, axis)
            self.grad += g / (self.data.size // max(out.data.size, 1))

        out._backward = _backward
        return out

    # ---- elementwise functions
    def exp(self) -> Tensor:
        out = Tensor._node(lambda: np.exp(self.data), (self,), "exp")

        def _backward():  # d(e^a) = e^a da
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Tensor:
        out = Tensor._node(lambda: np.log(self.data), (self,), "log")

        def _backward():  # d(log a) = da / a
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def sigmoid(self) -> Tensor:
        out = Tensor._node(lambda: _sigmoid(self.data), (self,), "sigmoid")

        def _backward():  # d(sigma(a)) = sigma(a) (1 - sigma(a)) da
            self.grad += out.data * (1 - out.data) * out.grad

        out._backward = _backward
        return out

    def softplus(self) -> Tensor:
        out = Tensor._node(lambda: _softplus(self.data), (self,), "softplus")

        def _backward():  # d(log(1 + e^a)) = sigma(a) da
            self.grad += _sigmoid(self.data) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Tensor:
        out = Tensor._node(lambda: np.maximum(self.data, 0), (self,), "relu")

        def _backward():  # d(max(a, 0)) = [a > 0] da
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def tanh(self) -> Tensor:
        out = Tensor._node(lambda: np.tanh(self.data), (self,), "tanh")

        def _backward():  # d(tanh a) = (1 - tanh^2 a) da
            self.grad += (1 - out.data * out.data) * out.grad

        out._backward = _backward
        return out

    def log_sigmoid(self) -> Tensor:
        out = Tensor._node(lambda: _log_sigmoid(self.data), (self,), "log_sigmoid")

        def _backward():  # d(log sigma(a)) = (1 - sigma(a)) da = sigma(-a) da
            self.grad += _sigmoid(-self.data) * out.grad

        out._backward = _backward
        return out

    # ---- shapes and indexing
    def reshape(self, *shape) -> Tensor:
        out = Tensor._node(lambda: self.data.reshape(*shape), (self,), "reshape")

        def _backward():  # the same numbers, back in the input's shape
            self.grad += out.grad.reshape(self.shape)

        out._backward = _backward
        return out

    def transpose(self, *axes: int) -> Tensor:
        order = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        out = Tensor._node(lambda: self.data.transpose(*order), (self,), "transpose")

        def _backward():  # transpose back: the inverse permutation
            self.grad += out.grad.transpose(*np.argsort(order)) if order else out.grad.T

        out._backward = _backward
        return out

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __getitem__(self, index) -> Tensor:
        out = Tensor._node(lambda: self.data[index], (self,), "[]")

        def _backward():  # scatter back; an element picked twice gets both gradients
            np.add.at(self.grad, index, out.grad)

        out._backward = _backward
        return out

    # ---- backpropagation
    def backward(self, grad: np.ndarray | None = None) -> None:
        """Fill ``.grad`` of every tensor this one depends on with d(self)/d(tensor).

        ``grad`` is the gradient of some final scalar by this tensor (default 1: this tensor is
        that scalar). Leaves accumulate gradients over calls until ``zero_grad``; the gradients
        of intermediate tensors are those of the last call.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() needs a tensor computed from one with requires_grad.")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward() of a non-scalar {self.shape} needs grad=.")
            grad = np.ones_like(self.data)
        backpropagate(topological_order(self), self, grad)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (the next backward starts from zero)."""
        self.grad = None

    def detach(self) -> Tensor:
        """The same value as a new leaf, outside the graph (shares memory with ``data``)."""
        return Tensor(self.data, name=self.name)

    # ---- conveniences
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)

    def item(self) -> float:
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = "" if self.grad is None else f", grad={self.grad!r}"
        return f"Tensor({self.data!r}{grad}{f', op={self._op!r}' if self._op else ''})"


def _reduction(op: str, axis) -> str:
    return op if axis is None else f"{op}(axis={axis})"


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` depends on, each after all of its parents, ``root`` last.

    An iterative depth-first search, so graphs of any depth fit (no recursion limit).
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node._prev) if id(p) not in visited)
    return order


def backpropagate(order: list[Tensor], root: Tensor, grad: np.ndarray) -> None:
    """The chain rule over ``order`` (a topological order ending at ``root``), output first."""
    # fresh zero gradients for the intermediate tensors; leaves keep accumulating
    for node in order:
        if node.requires_grad and (node._prev or node.grad is None):
            node.grad = np.zeros_like(node.data)
    root.grad += grad
    # from the output back to the inputs, each op passes its gradient on to its parents
    for node in reversed(order):
        if node.requires_grad and node._prev:
            node._backward()
