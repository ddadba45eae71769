"""The lesson's gradient descent, ``gradient_descent(objective, w, b)``, run by the one loop.

The lesson's loop, for ``max_iter`` iterations:

    cost, dw, db = objective(w, b)         forward and backward
    w <- w - alpha dw,  b <- b - alpha db   the update

Here it is a primal solver with plain gradient descent, driven by ``logicat.training.loop``, so
that it keeps the same books as every other run (callbacks, divergence, history).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from logicat.core.validation import as_vector
from logicat.nn.network import param_names
from logicat.training.loop import Callback, FitResult, Trainer
from logicat.training.optimizers import GD
from logicat.training.solvers import PrimalSolver

#: objective(w, b) -> (cost, dJ/dw of shape (n,), dJ/db)
Objective = Callable[[np.ndarray, float], tuple[float, np.ndarray, float]]


class _Whole:
    """The examples as one batch behind an (w, b) objective: each epoch is that one batch."""

    m = 1

    def __init__(self, objective: Objective) -> None:
        def full(params: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
            w, b = params
            cost, dw, db = objective(w, float(b[0]))
            return cost, [dw, np.array([db], dtype=b.dtype)]

        self._full = full

    def epoch(self, draws=None):
        yield self._full, self.m


def gradient_descent(
    objective: Objective,
    w: np.ndarray,
    b: float,
    *,
    learning_rate: float,
    max_iter: int,
    maximize: bool = False,
    callbacks: Sequence[Callback] = (),
) -> FitResult:
    """Full-batch gradient descent: theta <- theta - alpha * grad J, for ``max_iter`` iterations.

    With ``maximize=True`` the objective is maximized instead, theta <- theta + alpha * grad F
    (as ``torch.optim.SGD(maximize=True)``): gradient ascent on F = -J takes exactly the
    iterates of gradient descent on J.

    Parameters
    ----------
    objective : callable (w (n,), b) -> (cost, dw (n,), db)
    w : ndarray of shape (n,), initial weights (updated in place)
    b : float, initial bias
    learning_rate : alpha > 0
    max_iter : number of iterations (each one forward + backward + update)
    callbacks : called after each iteration with a TrainingState; returning True stops training

    Returns
    -------
    FitResult with the final parameters (``coef``, ``intercept``) and the cost of every
    iteration (before its update). A cost or parameters that become non-finite, or a cost that
    climbs far above where it started, raise ``DivergenceError`` naming the learning rate.
    """
    w = as_vector("w", w)
    bias = np.array([b], dtype=w.dtype if w.dtype.kind == "f" else np.float64)
    solver = PrimalSolver([w, bias], param_names(1), GD(maximize=maximize))
    trainer = Trainer.of({"max_iter": max_iter, "learning_rate": learning_rate}, callbacks,
                         maximize=maximize)
    return trainer.run(solver, data=_Whole(objective))
