"""The lesson's computation graphs, built with the engine.

``network_cost`` writes the cost of any network of ``logicat.nn.network`` (logistic regression
included), layer by layer of its list, as a graph of engine ops, forward only: the "autograd" engine
(``logicat.training.objectives``) lets ``backward()`` find the gradients. The other functions
return the lesson's small graphs after ``backward()``: every node holds its value (``data``) and
the derivative of the output by it (``grad``), ready to be drawn with
``logicat.engines.autograd.draw``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from logicat.engines.autograd.tensor import Tensor
from logicat.nn.families import dense_layers
from logicat.nn.layers import logit_layers
from logicat.nn.loss import check_loss
from logicat.nn.network import param_names


def _named(tensor: Tensor, name: str) -> Tensor:
    tensor.name = name
    return tensor


def network_logits(X: Tensor, params: Sequence[Tensor], activation: str = "relu") -> Tensor:
    """The logits z (m,) of a network [W_1, b_1, ..., w, b] on X (m, n), as a graph of engine
    ops read from the dense family's layers (``logicat.nn.families.dense_layers``): each hidden
    dense layer Z_l = A_{l-1} W_l + b_l and its activation A_l = g(Z_l), then the output unit
    z = A w + b."""
    hidden = [int(W.shape[1]) for W in params[:-2:2]]
    tensors = dict(zip(param_names(len(params) // 2), params, strict=True))
    A, k = X, 0
    for lay in logit_layers(dense_layers(hidden, activation)):
        if lay.type == "dense":  # "in_out" (A W + b) or "vector" (A w + b): the same op here
            names = lay.tensor_names()
            A = A @ tensors[names["weight"]] + tensors[names["bias"]]
        else:
            k += 1
            A = _named(getattr(A, lay.type)(), f"A{k}")
    return _named(A, "z")  # (m,) one logit per example


def cross_entropy_from_logit(z: Tensor, y: Tensor | np.ndarray) -> Tensor:
    """The cross-entropy of each example from its logit z, stably:
    L = softplus(z) - y z (= -[y log sigma(z) + (1 - y) log(1 - sigma(z))]), of z's shape."""
    return z.softplus() - y * z


def network_cost(
    X: Tensor,
    y: Tensor,
    params: Sequence[Tensor],
    loss: str = "cross_entropy",
    activation: str = "relu",
    sample_weight: Tensor | None = None,
    alpha: float = 0.0,
    total_weight: float | None = None,
) -> Tensor:
    """J of a network [W_1, b_1, ..., w, b] (see ``logicat.nn.network``) as a graph of engine ops.

    Z_l = A_{l-1} W_l + b_l, A_l = g(Z_l) for the hidden layers; z = A w + b (m,) logits;
    cross-entropy L = softplus(z) - y z (= -[y log sigma(z) + (1 - y) log(1 - sigma(z))]),
    squared error L = 1/2 (sigma(z) - y)^2; J = sum s L / S (the mean without weights), plus
    alpha / (2 S) times the squared norm of every weight matrix. Returns J, a Tensor of shape ().
    """
    check_loss(loss)
    z = network_logits(X, params, activation)
    if loss == "cross_entropy":
        losses = cross_entropy_from_logit(z, y)
    else:
        losses = 0.5 * (z.sigmoid() - y) ** 2
    losses.name = "L"
    if sample_weight is None:
        J = losses.mean()
        total = float(X.shape[0])
    else:
        total = float(sample_weight.data.sum()) or 1.0
        J = (sample_weight * losses).sum() / total
    if alpha:
        J.name = "cost"
        k = alpha / (total_weight or total)
        for W in params[0::2]:
            J = J + (0.5 * k) * (W * W).sum()
    J.name = "J"
    return J


def logistic_cost(
    X: Tensor, y: Tensor, w: Tensor, b: Tensor, loss: str = "cross_entropy"
) -> Tensor:
    """J(w, b) of logistic regression, the mean loss over the examples, as a graph of engine ops.

    X (m, n), y (m,) labels in {0, 1}, w (n,), b (1,) or (): the network with no hidden layer.
    """
    return network_cost(X, y, [w, b], loss)


def abc() -> Tensor:
    """J = 3(a + bc) at a = 5, b = 3, c = 2.

    forward:  u = bc = 6,  v = a + u = 11,  J = 3v = 33
    backward: dJ/dv = 3,  dJ/da = 3,  dJ/du = 3,  dJ/db = 3c = 6,  dJ/dc = 3b = 9
    """
    a = Tensor(5.0, requires_grad=True, name="a")
    b = Tensor(3.0, requires_grad=True, name="b")
    c = Tensor(2.0, requires_grad=True, name="c")
    u = _named(b * c, "u")
    v = _named(a + u, "v")
    J = _named(3 * v, "J")
    J.backward()
    return J


def cross_entropy_of(a: Tensor, y: Tensor) -> Tensor:
    """The lesson's L(a, y) = -(y log a + (1 - y) log(1 - a)), op by op (for pictures only:
    training uses the stable form from the logit, see ``logistic_cost``)."""
    return -(y * a.log() + (1 - y) * (1 - a).log())


def logistic(
    x: tuple[float, float] = (1.0, 2.0),
    w: tuple[float, float] = (0.5, -0.25),
    b: float = 0.1,
    y: float = 1.0,
) -> Tensor:
    """One example: z = w1 x1 + w2 x2 + b -> a = sigma(z) -> L(a, y).

    backward: da = -y/a + (1 - y)/(1 - a),  dz = a - y,  dw1 = x1 dz,  dw2 = x2 dz,  db = dz
    """
    x1, x2 = Tensor(x[0], name="x1"), Tensor(x[1], name="x2")
    w1 = Tensor(w[0], requires_grad=True, name="w1")
    w2 = Tensor(w[1], requires_grad=True, name="w2")
    b_ = Tensor(b, requires_grad=True, name="b")
    y_ = Tensor(y, name="y")
    z = _named(_named(w1 * x1, "w1x1") + _named(w2 * x2, "w2x2") + b_, "z")
    a = _named(z.sigmoid(), "a")
    L = _named(cross_entropy_of(a, y_), "L")
    L.backward()
    return L


def vectorized(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, b: float = 0.0) -> Tensor:
    """All m examples at once: Z = Xw + b -> A = sigma(Z) -> J = mean L(A, Y).

    X : (m, n) one example per row; y : (m,) in {0, 1}; w : (n,), zeros by default (the first
    step of the lesson's training). backward: dZ = (A - Y)/m, dw = X^T dZ, db = sum(dZ).
    """
    X_ = Tensor(X, name="X")
    Y = Tensor(y, name="Y")
    w_ = Tensor(np.zeros(X.shape[1], X_.dtype) if w is None else w, requires_grad=True, name="w")
    b_ = Tensor(np.asarray(b, X_.dtype), requires_grad=True, name="b")
    Z = _named(_named(X_ @ w_, "Xw") + b_, "Z")
    A = _named(Z.sigmoid(), "A")
    J = _named(cross_entropy_of(A, Y).mean(), "J")
    J.backward()
    return J


def training_step(
    coef: np.ndarray,
    intercept: float,
    X: np.ndarray,
    y: np.ndarray,
    loss: str = "cross_entropy",
    alpha: float = 0.0,
) -> Tensor:
    """The graph the "autograd" engine builds for one training step at (coef, intercept).

    With ``alpha`` > 0, the L2 penalty alpha/(2m) ||w||^2 is added to the cost, as in training.
    """
    w = Tensor(coef, requires_grad=True, name="w")
    b = Tensor(np.asarray(intercept, dtype=w.dtype), requires_grad=True, name="b")
    J = network_cost(Tensor(X, name="X"), Tensor(y, name="y"), [w, b], loss, alpha=alpha)
    J.backward()
    return J
