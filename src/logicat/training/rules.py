"""The rules that end training early: divergence (an error) and a plateau (convergence).

``Divergence`` is the one divergence rule of every solver and engine; ``Plateau`` is the
``tol`` rule on the training cost and the early-stopping rule on the validation cost (and the
``EarlyStopping`` callback's). The loop (``logicat.training.loop``) applies both after every
iteration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from logicat.errors import DivergenceError
from logicat.validation import Options, check_param


class Divergence:
    """The one divergence rule, for every solver and engine.

    Training has diverged when, after iteration i,

    - the cost is no longer finite, or the parameters are not (one-iteration solvers check them
      after every update), or
    - the cost has climbed to more than ``FACTOR`` times where it started (its first value in
      this run, or 1 if that was smaller): far beyond anything a converging run goes through.

    The lesson's run rises from 0.693 to 0.897 in its first iterations and settles; its
    learning-rate sweep (0.01, 0.001, 0.0001) peaks at 3.2; Adam at the lesson's rate jumps
    to 8.8 at iteration 1 and then converges. ``--learning-rate 50`` sends the cost to 14562 at
    iteration 1: that is divergence. With ``maximize``, the value watched is the objective's
    negative. The error names the learning rate.
    """

    FACTOR = 100.0

    def __init__(self, maximize: bool = False) -> None:
        self.sign = -1.0 if maximize else 1.0
        self.start: float | None = None

    def check(self, i: int, value: float, lr: float,
              params_finite: Callable[[], bool] | None = None) -> None:
        """Raise ``DivergenceError`` if iteration i's cost (``value``) or, when
        ``params_finite`` is given, its parameters say training diverged."""
        cost = self.sign * value
        if not math.isfinite(cost):
            raise diverged(i, value, lr, "the cost is no longer finite")
        if self.start is None:
            self.start = cost
        if cost > self.FACTOR * max(self.start, 1.0):
            raise diverged(
                i, value, lr,
                f"the cost climbed from {self.start:.6g} to over {self.FACTOR:g} times that",
            )
        if params_finite is not None and not params_finite():
            raise diverged(i, value, lr, "the parameters overflowed")


def diverged(i: int, cost: float, learning_rate: float, why: str) -> DivergenceError:
    return DivergenceError(
        f"Gradient descent diverged at iteration {i} (cost {cost:.6g}): {why}. "
        f"The learning rate {learning_rate:g} is too large; try a smaller one."
    )


class Plateau:
    """Counts epochs without progress; ``update(value)`` is True after ``patience`` in a row.

    Two meanings of "no progress" by at least ``tol``:

    ``mode="change"`` (the ``tol`` rule on the training cost): |v_t - v_{t-1}| < tol - the cost
        has stopped moving. The lesson's run *rises* for its first iterations (0.693, 0.741,
        0.753, 0.867, 0.769, 0.897, ...: the cost oscillates for 33 iterations before it first
        goes below log 2), so a rule that waits for a new best, as scikit-learn's
        ``SGDClassifier`` does, would stop it at iteration 6; this one stops it only once it
        has settled.
    ``mode="best"`` (early stopping on the validation cost, and ``callbacks.EarlyStopping``):
        v_t > best - tol, best = the lowest value so far - the value has stopped improving.
        With ``warmup``, epochs count only once the *training* cost (``update``'s ``cost``,
        the value itself by default) has gone below its first value: while training has not
        even improved on its start - the lesson's first 33 iterations - a rising validation
        cost says nothing about overfitting. A run that overfits from its first step (the
        training cost falls, the validation cost rises) is stopped ``patience`` epochs in.

    ``best``, ``best_epoch`` and ``improved`` (this value is a new best) let early stopping keep
    the best parameters.
    """

    def __init__(self, tol: float, patience: int, mode: str = "best", warmup: bool = False
                 ) -> None:
        check_param("mode", mode, [Options(("best", "change"))])
        self.tol = tol
        self.patience = patience
        self.mode = mode
        self.warmup = warmup
        self.first = math.nan
        self.started = not warmup
        self.last = math.nan
        self.best = math.inf
        self.best_epoch = -1
        self.epoch = -1
        self.bad_epochs = 0
        self.improved = False

    def update(self, value: float, cost: float | None = None) -> bool:
        """Record epoch t's value (and its training cost, for the warm-up); True: stop."""
        self.epoch += 1
        progress = value if cost is None else cost
        if self.epoch == 0:
            self.first = progress
        elif progress < self.first:
            self.started = True
        if self.mode == "change":
            stalled = abs(value - self.last) < self.tol  # False for the first value (NaN)
        else:
            stalled = self.started and value > self.best - self.tol
        self.bad_epochs = self.bad_epochs + 1 if stalled else 0
        self.improved = value < self.best
        if self.improved:
            self.best, self.best_epoch = value, self.epoch
        self.last = value
        return self.bad_epochs >= self.patience

    _STATE = ("first", "started", "last", "best", "best_epoch", "epoch", "bad_epochs")

    def state(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self._STATE}

    def load_state(self, state: dict[str, Any]) -> None:
        for key in self._STATE:
            kind = bool if key == "started" else int if key in ("best_epoch", "epoch",
                                                                "bad_epochs") else float
            setattr(self, key, kind(state[key]))
