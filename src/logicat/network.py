r"""A model of layers: each layer's forward and backward pass side by side, for any depth.

A network is a list of dense hidden layers, each Z = A_prev W + b followed by an activation g,
and one output unit whose value is the logit z of each example (the sigmoid belongs to the loss,
``logicat.loss``, computed stably from z). The examples are rows (as everywhere in logicat), so a
hidden layer's W has shape (n_in, n_out) - the course's W[l] transposed - and its bias b has shape
(n_out,); the output unit has a weight vector w of shape (n_in,) and a bias b of shape (1,).
**Logistic regression is the network with no hidden layer**: just the output unit, z = X w + b,
with ``coef_`` = w.

Forward, layer l = 1..L (A_0 = X, shape (m, n)):

    Z_l = A_{l-1} W_l + b_l          (m, n_l)      hidden layers, A_l = g(Z_l): relu, tanh, sigmoid
    z   = A_{L-1} w + b              (m,)          the output unit

Backward, from dJ/dz (``logicat.loss.mean_cost_and_dz``, which holds the 1/m or 1/S):

    dw = A_{L-1}^T dz (n_{L-1},)    db = sum_i dz_i       dA_{L-1} = dz w^T   (m, n_{L-1})
    dZ_l     = dA_l * g'(Z_l)        (m, n_l)
    dW_l     = A_{l-1}^T dZ_l        (n_{l-1}, n_l)
    db_l     = sum over the rows of dZ_l     (n_l,)
    dA_{l-1} = dZ_l W_l^T            (m, n_{l-1})  (not needed for l = 1)

Parameters travel as one flat list [W_1, b_1, ..., w, b] (what optimizers update in place);
``Network.from_params`` puts layers around them without copying.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from logicat.errors import ShapeError
from logicat.loss import Loss, l2_penalty, mean_cost_and_dz, sigmoid
from logicat.validation import as_matrix, check_rows

#: Activations of the hidden layers: name -> (g(Z), g'(Z) from Z and A = g(Z)).
ACTIVATIONS = {
    "relu": (lambda Z: np.maximum(Z, 0), lambda Z, A: (Z > 0).astype(Z.dtype)),
    "tanh": (np.tanh, lambda Z, A: 1 - A * A),
    "sigmoid": (sigmoid, lambda Z, A: A * (1 - A)),
}


@dataclass
class Dense:
    """A hidden layer: Z = A_prev W + b, A = g(Z). ``W`` (n_in, n_out), ``b`` (n_out,)."""

    W: np.ndarray
    b: np.ndarray
    activation: str = "relu"

    def forward(self, A_prev: np.ndarray) -> tuple[np.ndarray, tuple]:
        """A = g(A_prev W + b), shape (m, n_out), and what ``backward`` needs."""
        Z = A_prev @ self.W + self.b  # (m, n_out)
        A = ACTIVATIONS[self.activation][0](Z)
        return A, (A_prev, Z, A)

    def backward(self, dA: np.ndarray, cache: tuple, input_grad: bool = True
                 ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """(dA_prev (m, n_in) or None, dW (n_in, n_out), db (n_out,)) from dA (m, n_out)."""
        A_prev, Z, A = cache
        dZ = dA * ACTIVATIONS[self.activation][1](Z, A)  # (m, n_out)
        return (dZ @ self.W.T if input_grad else None), A_prev.T @ dZ, dZ.sum(axis=0)


@dataclass
class Output:
    """The output unit: the logit z = A_prev w + b. ``w`` (n_in,), ``b`` (1,)."""

    w: np.ndarray
    b: np.ndarray

    def forward(self, A_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """z (m,), and what ``backward`` needs."""
        return A_prev @ self.w + self.b, A_prev

    def backward(self, dz: np.ndarray, A_prev: np.ndarray, input_grad: bool = True
                 ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """(dA_prev (m, n_in) or None, dw (n_in,), db (1,)) from dJ/dz (m,)."""
        dA = np.multiply.outer(dz, self.w) if input_grad else None
        return dA, A_prev.T @ dz, np.array([dz.sum()], dtype=dz.dtype)


class Network:
    """Hidden dense layers, then the output unit; logistic regression has no hidden layer."""

    def __init__(self, hidden: Sequence[Dense], output: Output) -> None:
        self.hidden = list(hidden)
        self.output = output

    @classmethod
    def from_params(cls, params: Sequence[np.ndarray], activation: str = "relu") -> Network:
        """Layers around [W_1, b_1, ..., w, b] (no copies), ``activation`` on the hidden layers."""
        check_params_chain(params)
        pairs = [(params[i], params[i + 1]) for i in range(0, len(params), 2)]
        return cls([Dense(W, b, activation) for W, b in pairs[:-1]], Output(*pairs[-1]))

    @property
    def params(self) -> list[np.ndarray]:
        return [p for layer in self.hidden for p in (layer.W, layer.b)] + [
            self.output.w, self.output.b]

    @property
    def n_features(self) -> int:
        return (self.hidden[0].W if self.hidden else self.output.w).shape[0]

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The logits z, shape (m,), of X (m, n)."""
        A = X
        for layer in self.hidden:
            A, _ = layer.forward(A)
        return self.output.forward(A)[0]

    def logits_and_input_gradient(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The logits z (m,) and each example's gradient of its own logit by its input,
        dz_i/dx_i, shape (m, n): the backward pass above started from dz = 1 (example i's
        logit depends on row i only, so one pass gives every row's gradient)."""
        X = as_matrix("X", X, n_features=self.n_features)
        caches, A = [], X
        for layer in self.hidden:
            A, cache = layer.forward(A)
            caches.append(cache)
        z, A_last = self.output.forward(A)
        dA, _, _ = self.output.backward(np.ones_like(z), A_last)
        for layer, cache in zip(reversed(self.hidden), reversed(caches), strict=True):
            dA, _, _ = layer.backward(dA, cache)
        return z, dA

    def cost_and_gradients(
        self,
        X: np.ndarray,
        y: np.ndarray,
        loss: Loss = "cross_entropy",
        *,
        sample_weight: np.ndarray | None = None,
        alpha: float = 0.0,
        total_weight: float | None = None,
        input_grad: bool = False,
    ) -> tuple:
        """J (with weights and L2 as ``logicat.loss``'s docstring says) and the gradients
        [dW_1, db_1, ..., dw, db], each of its parameter's shape; with ``input_grad``, also
        dJ/dX (m, n), for a caller that computed X itself.

        X : (m, n); y : (m,) labels in {0, 1}; sample_weight : (m,) or None. The L2 term
        penalises every weight matrix and the output weights, no bias.
        """
        X = as_matrix("X", X, n_features=self.n_features)
        y = check_rows("y", y, X.shape[0])
        caches = []
        A = X
        for layer in self.hidden:  # forward, keeping each layer's values
            A, cache = layer.forward(A)
            caches.append(cache)
        z, A_last = self.output.forward(A)
        cost, dz = mean_cost_and_dz(z, y, loss, sample_weight)  # dJ/dz: (m,)
        dA, dw, db = self.output.backward(dz, A_last, input_grad=bool(self.hidden) or input_grad)
        grads = [dw, db]
        for i in range(len(self.hidden) - 1, -1, -1):  # backward, last hidden layer first
            dA, dW, db_i = self.hidden[i].backward(dA, caches[i], input_grad=i > 0 or input_grad)
            grads[:0] = [dW, db_i]
        if alpha:
            total = total_weight or (float(sample_weight.sum()) if sample_weight is not None
                                     else X.shape[0])
            weights = self.params[0::2]
            penalty, extra = l2_penalty(weights, alpha, total)
            cost += penalty
            for k, dW_penalty in enumerate(extra):
                grads[2 * k] = grads[2 * k] + dW_penalty
        return (cost, grads, dA) if input_grad else (cost, grads)


def layer_shapes(n_features: int, hidden: Sequence[int] = ()) -> list[tuple[int, ...]]:
    """The weights' shapes: (n_in, n_out) per hidden layer, then (n_in,) for the output unit."""
    sizes = [int(n_features), *(int(h) for h in hidden)]
    return [*zip(sizes[:-1], sizes[1:], strict=True), (sizes[-1],)]


def zero_params(shapes: Sequence[tuple[int, ...]], dtype=np.float64) -> list[np.ndarray]:
    """[W_1, b_1, ..., w, b] all zero (the lesson's initialisation of logistic regression)."""
    return [a for shape in shapes
            for a in (np.zeros(shape, dtype), np.zeros(shape[-1] if len(shape) == 2 else 1, dtype))]


#: Initial weights (biases start at zero). "zeros" and "random" (N(0, 0.01^2) from a numpy
#: Generator) are logistic regression's; the others draw W[l] in the course's shape
#: (n_l, n_{l-1}), layer after layer, from ``numpy.random.RandomState(random_state)``:
#:   small_normal    randn * 0.01                    (the course's two-layer model)
#:   lecun_normal    randn / sqrt(n_{l-1})           (the course's deep model)
#:   he_normal       randn * sqrt(2 / n_{l-1})
#:   glorot_uniform  uniform(-a, a), a = sqrt(6 / (n_{l-1} + n_l))
INITS = ("zeros", "random", "small_normal", "lecun_normal", "he_normal", "glorot_uniform")


def initial_params(init: str, n_features: int, hidden: Sequence[int] = (), dtype=np.float64,
                   random_state=None, rng: np.random.Generator | None = None
                   ) -> list[np.ndarray]:
    """[W_1, b_1, ..., w, b] for the network n -> hidden... -> 1 by the scheme ``init``.

    With an int ``random_state`` the numbers are exactly those of the course's
    ``np.random.seed(random_state)`` and ``initialize_parameters(_deep)``: W[1] first, then
    W[2], ..., each drawn as (n_l, n_{l-1}) and stored transposed (examples are rows here).
    ``rng`` is the Generator of "random" (default: one seeded with ``random_state``).
    """
    shapes = layer_shapes(n_features, hidden)
    params = zero_params(shapes, dtype)
    if init == "zeros":
        return params
    if init == "random":
        rng = np.random.default_rng(random_state) if rng is None else rng
        for i, shape in enumerate(shapes):
            params[2 * i][...] = rng.normal(0.0, 0.01, size=shape)
        return params
    draw = (random_state if isinstance(random_state, np.random.Generator)
            else np.random.RandomState(random_state))
    normal = getattr(draw, "randn", None) or (lambda *size: draw.standard_normal(size))
    for i, shape in enumerate(shapes):
        n_in, n_out = shape[0], shape[1] if len(shape) == 2 else 1
        if init == "glorot_uniform":
            bound = np.sqrt(6.0 / (n_in + n_out))
            W = draw.uniform(-bound, bound, size=(n_out, n_in))
        elif init == "small_normal":
            W = normal(n_out, n_in) * 0.01
        elif init == "lecun_normal":
            W = normal(n_out, n_in) / np.sqrt(n_in)
        else:  # he_normal
            W = normal(n_out, n_in) * np.sqrt(2.0 / n_in)
        params[2 * i][...] = W.T if len(shape) == 2 else W[0]
    return params


def param_names(n_layers: int) -> tuple[str, ...]:
    """How parameters are named in files: ("coef", "intercept") for logistic regression;
    ("coefs.0", "intercepts.0", ..., "coefs.L", "intercepts.L") for a network."""
    if n_layers == 1:
        return ("coef", "intercept")
    return tuple(f"{kind}.{i}" for i in range(n_layers) for kind in ("coefs", "intercepts"))


def check_params_chain(params: Sequence[np.ndarray]) -> None:
    """[W_1, b_1, ..., w, b]: W (n_in, n_out) and b (n_out,) whose shapes chain, then w (n_in,)
    and b (1,)."""
    if len(params) == 0 or len(params) % 2:
        raise ShapeError(
            f"params must be [W_1, b_1, ..., w, b], an even number of arrays. Got "
            f"{len(params)} instead."
        )
    n_prev = None
    for i in range(len(params) // 2):
        W, b = np.asarray(params[2 * i]), np.asarray(params[2 * i + 1])
        last = 2 * i + 2 == len(params)
        n_out = 1 if last else (W.shape[1] if W.ndim == 2 else -1)
        ok = (W.ndim == (1 if last else 2) and b.shape == (n_out,)
              and (n_prev is None or W.shape[0] == n_prev))
        if not ok:
            expected = (f"w of shape ({n_prev or 'n_in'},) and b of shape (1,)" if last else
                        f"W of shape ({n_prev or 'n_in'}, n_out) and b of shape (n_out,)")
            raise ShapeError(
                f"layer {i + 1} of {len(params) // 2}: expected {expected}. Got shapes {W.shape} "
                f"and {b.shape} instead."
            )
        n_prev = n_out
