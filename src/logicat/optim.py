"""Gradient descent over (w, b), driven by an objective callable.

An objective maps parameters to ``(cost, dw, db)``; which engine computes it (hand-derived NumPy,
the autograd graph, ...) is not the optimizer's business. Progress is reported to callbacks, so
printing, progress bars and checkpoints stay out of the math.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from logicat.errors import DivergenceError

#: objective(w, b) -> (cost, dJ/dw of shape (n,), dJ/db)
Objective = Callable[[np.ndarray, float], tuple[float, np.ndarray, float]]


@dataclass
class TrainingState:
    """What a callback sees after each iteration.

    ``cost`` is J at the parameters *before* this iteration's update (the forward pass of the
    iteration); ``coef`` and ``intercept`` are the parameters *after* it.
    """

    iteration: int
    cost: float
    coef: np.ndarray
    intercept: float
    max_iter: int


#: A callback returns True to stop training early.
Callback = Callable[[TrainingState], "bool | None"]


@dataclass
class GDResult:
    coef: np.ndarray
    intercept: float
    cost_history: np.ndarray  # (n_iter,)
    n_iter: int


def gradient_descent(
    objective: Objective,
    w: np.ndarray,
    b: float,
    *,
    learning_rate: float,
    max_iter: int,
    maximize: bool = False,
    callbacks: Sequence[Callback] = (),
    divergence_patience: int = 50,
) -> GDResult:
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
    divergence_patience : stop with DivergenceError if the cost worsens this many iterations in a
        row (or becomes NaN/inf at any time)

    Returns
    -------
    GDResult with the final parameters and the cost of every iteration (before its update).
    """
    sign = 1.0 if maximize else -1.0
    step = sign * learning_rate
    history = np.empty(max_iter)
    worse_in_a_row = 0
    n_iter = max_iter
    for i in range(max_iter):
        cost, dw, db = objective(w, b)
        history[i] = cost
        if not math.isfinite(cost):
            raise _diverged(i, cost, learning_rate, "the cost is no longer finite")
        # "Worse" is a lower objective when maximizing, a higher cost otherwise.
        worse_in_a_row = worse_in_a_row + 1 if i and sign * (cost - history[i - 1]) < 0 else 0
        if worse_in_a_row >= divergence_patience:
            why = f"the cost grew {worse_in_a_row} times in a row"
            raise _diverged(i, cost, learning_rate, why)
        w += step * dw
        b += step * db
        if callbacks:
            state = TrainingState(i, cost, w, b, max_iter)
            if any([cb(state) for cb in callbacks]):
                n_iter = i + 1
                break
    return GDResult(w, b, history[:n_iter], n_iter)


def _diverged(i: int, cost: float, learning_rate: float, why: str) -> DivergenceError:
    return DivergenceError(
        f"Gradient descent diverged at iteration {i} (cost {cost:.6g}): {why}. "
        f"The learning rate {learning_rate:g} is too large; try a smaller one."
    )
