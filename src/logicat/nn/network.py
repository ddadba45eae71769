r"""The dense family's parameters as one flat list, run by the NumPy engine's layers.

A network is hidden dense layers, each Z = A_prev W + b followed by an activation g, and one
output unit whose value is the logit z of each example: the list of layers
``logicat.nn.families.dense_layers`` builds, ``[dense(n_1), g, ..., dense(1), sigmoid]``
(the sigmoid belongs to the loss, ``logicat.nn.loss``, computed stably from z). The examples are
rows (as everywhere in logicat), so a hidden layer's W has shape (n_in, n_out) - the course's
W[l] transposed - and its bias b (n_out,); the output unit has a weight vector w (n_in,) and a
bias b (1,). **Logistic regression is the network with no hidden layer**: just the output unit,
z = X w + b, with ``coef_`` = w.

The forward and backward passes are those of every list of layers (``logicat.nn.forward``,
``logicat.nn.backward``, each layer's rule derived by hand there). For these layers:

    Z_l = A_{l-1} W_l + b_l          (m, n_l)      hidden layers, A_l = g(Z_l): relu, tanh, sigmoid
    z   = A_{L-1} w + b              (m,)          the output unit

and, from dJ/dz (``logicat.nn.loss.mean_cost_and_dz``, which holds the 1/m or 1/S):

    dw = A_{L-1}^T dz (n_{L-1},)    db = sum_i dz_i       dA_{L-1} = dz w^T   (m, n_{L-1})
    dZ_l     = dA_l * g'(Z_l)        (m, n_l)
    dW_l     = A_{l-1}^T dZ_l        (n_{l-1}, n_l)
    db_l     = sum over the rows of dZ_l     (n_l,)
    dA_{l-1} = dZ_l W_l^T            (m, n_{l-1})  (not computed for l = 1 in training)

Parameters travel as one flat list [W_1, b_1, ..., w, b] (what optimizers update in place);
``Network.from_params`` names them as model files do (``param_names``) without copying. Their
initial values are ``logicat.nn.init``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from logicat.core.errors import ShapeError
from logicat.core.validation import as_matrix, check_rows
from logicat.nn import backward, forward
from logicat.nn.families import dense_layers
from logicat.nn.layers import Layer, logit_layers
from logicat.nn.loss import Loss, l2_penalty


@lru_cache(maxsize=64)
def _layers(hidden: tuple[int, ...], activation: str) -> tuple[Layer, ...]:
    """The layers up to the logit (built once per architecture: ``from_params`` runs at every
    step of training)."""
    return tuple(logit_layers(dense_layers(hidden, activation)))


class Network:
    """The dense layers up to the logit and their tensors, in the flat order [W_1, b_1, ..., w, b].
    Logistic regression has no hidden layer."""

    def __init__(self, params: Sequence[np.ndarray], activation: str = "relu") -> None:
        check_params_chain(params)
        hidden = tuple(int(np.shape(W)[1]) for W in params[:-2:2])
        self.layers = _layers(hidden, activation)
        self.names = param_names(len(params) // 2)
        self.tensors = dict(zip(self.names, params, strict=True))
        self.activation = activation

    @classmethod
    def from_params(cls, params: Sequence[np.ndarray], activation: str = "relu") -> Network:
        """The network of [W_1, b_1, ..., w, b] (no copies), ``activation`` on the hidden layers."""
        return cls(params, activation)

    @property
    def params(self) -> list[np.ndarray]:
        return [self.tensors[name] for name in self.names]

    @property
    def n_features(self) -> int:
        return int(np.shape(self.tensors[self.names[0]])[0])

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The logits z, shape (m,), of X (m, n)."""
        return forward.run(self.layers, self.tensors, X)[:, 0]

    def logits_and_input_gradient(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The logits z (m,) and each example's gradient of its own logit by its input,
        dz_i/dx_i, shape (m, n): the backward pass started from dz = 1 (example i's logit
        depends on row i only, so one pass gives every row's gradient)."""
        X = as_matrix("X", X, n_features=self.n_features)
        z, records = backward.forward_cache(self.layers, self.tensors, X)
        _, dX = backward.run_backward(self.layers, self.tensors, records, np.ones_like(z))
        return z[:, 0], dX

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
        """J (with weights and L2 as ``logicat.nn.loss``'s docstring says) and the gradients
        [dW_1, db_1, ..., dw, db], each of its parameter's shape; with ``input_grad``, also
        dJ/dX (m, n), for a caller that computed X itself.

        X : (m, n); y : (m,) labels in {0, 1}; sample_weight : (m,) or None. The L2 term
        penalises every weight matrix and the output weights, no bias.
        """
        X = as_matrix("X", X, n_features=self.n_features)
        y = check_rows("y", y, X.shape[0])
        cost, (by_name, dX) = backward.logit_and_gradients(
            self.layers, self.tensors, X, y, sample_weight, loss=loss, input_grad=input_grad)
        grads = [by_name[name] for name in self.names]
        if alpha:
            total = total_weight or (float(sample_weight.sum()) if sample_weight is not None
                                     else X.shape[0])
            penalty, extra = l2_penalty(self.params[0::2], alpha, total)
            cost += penalty
            for k, dW_penalty in enumerate(extra):
                grads[2 * k] = grads[2 * k] + dW_penalty
        return (cost, grads, dX) if input_grad else (cost, grads)


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
