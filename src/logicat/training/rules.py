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

from logicat.core.errors import DivergenceError
from logicat.core.validation import Options, check_param


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
                f"it climbed to more than {self.FACTOR:g} times where it started "
                f"({self.start:.6g})",
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

    ``warmup`` (early stopping): watch the value only once training is steady. The lesson's
    step size overshoots at first - the training cost (``update``'s ``cost``) rises and falls
    with a period of 3 - and the parameters it passes through then are not a model to keep.
    So, until the training cost has fallen ``patience`` times in a row and is below where it
    started, every rise of the training cost starts the watch afresh (``best`` forgets the
    values before it) and no stop is made; from then on the rule above applies. A run whose
    training cost falls from its first step keeps its whole history: one that overfits at once
    (the validation cost rising from the start) is stopped ``patience`` epochs in, with its
    first parameters.

    ``best``, ``best_epoch`` and ``improved`` (this value is a new best) let early stopping keep
    the best parameters; ``steady_since`` is the epoch the watch started, once it has.
    """

    def __init__(self, tol: float, patience: int, mode: str = "best", warmup: bool = False
                 ) -> None:
        check_param("mode", mode, [Options(("best", "change"))])
        self.tol = tol
        self.patience = patience
        self.mode = mode
        self.warmup = warmup
        self.first = math.nan  # the training cost at epoch 0
        self.previous = math.nan  # the training cost of the last epoch
        self.falls = 0  # its decreases in a row
        self.window = 0  # the epoch the watch (re)started
        self.steady_since: int | None = None if warmup else 0
        self.last = math.nan
        self.best = math.inf
        self.best_epoch = -1
        self.epoch = -1
        self.bad_epochs = 0
        self.improved = False

    def update(self, value: float, cost: float | None = None) -> bool:
        """Record epoch t's value (and its training cost, for the warm-up); True: stop."""
        self.epoch += 1
        cost = value if cost is None else cost
        if self.steady_since is None:
            if self.epoch == 0:
                self.first = cost
            elif cost < self.previous:
                self.falls += 1
            else:  # the training cost rose: what came before is no model to keep
                self.falls, self.window = 0, self.epoch
                self.best, self.bad_epochs = math.inf, 0
            if self.falls >= self.patience and cost < self.first:
                self.steady_since = self.window
        self.previous = cost
        if self.mode == "change":
            stalled = abs(value - self.last) < self.tol  # False for the first value (NaN)
        else:
            stalled = value > self.best - self.tol
        self.bad_epochs = self.bad_epochs + 1 if stalled else 0
        self.improved = value < self.best
        if self.improved:
            self.best, self.best_epoch = value, self.epoch
        self.last = value
        return self.steady_since is not None and self.bad_epochs >= self.patience

    _FLOATS = ("first", "previous", "last", "best")
    _INTS = ("falls", "window", "best_epoch", "epoch", "bad_epochs")

    def state(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in (*self._FLOATS, *self._INTS, "steady_since")}

    def load_state(self, state: dict[str, Any]) -> None:
        for key in self._FLOATS:
            setattr(self, key, float(state[key]))
        for key in self._INTS:
            setattr(self, key, int(state[key]))
        steady = state["steady_since"]
        self.steady_since = None if steady is None else int(steady)
