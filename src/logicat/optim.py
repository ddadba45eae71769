"""Gradient descent over (w, b), driven by an objective callable.

An objective maps parameters to ``(cost, dw, db)``; which engine computes it (hand-derived NumPy,
the autograd graph, ...) is not the optimizer's business. Progress is reported to callbacks, so
printing, progress bars and checkpoints stay out of the math.

Two loops live here: ``gradient_descent``, the lesson's full-batch loop, and ``Trainer``, the
general one (mini-batches, an update rule from ``logicat.optimizers``, a learning-rate schedule,
``tol``/early stopping, and a snapshot of its whole state for exact resumption).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    #: the step size used in this iteration (``Trainer`` only)
    learning_rate: float | None = None
    #: J on the validation set after this iteration's update (with ``early_stopping`` only)
    val_cost: float | None = None
    #: returns the whole state of the loop after this iteration, for a checkpoint
    snapshot: Callable[[], Snapshot] | None = None


#: A callback returns True to stop training early.
Callback = Callable[[TrainingState], "bool | None"]


@dataclass
class GDResult:
    coef: np.ndarray
    intercept: float
    cost_history: np.ndarray  # (n_iter,)
    n_iter: int
    #: why training ended: "max_iter", "converged" (tol / early stopping) or "callback"
    stopped: str = "max_iter"
    #: validation cost after each iteration, with early stopping; else None
    val_cost_history: np.ndarray | None = None


@dataclass
class Snapshot:
    """The whole state of a ``Trainer`` between two epochs: arrays, and JSON-able values."""

    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


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
    divergence_patience : stop with DivergenceError if the cost grows this many iterations in a
        row (and at once if it becomes NaN or infinite)

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
        # Diverging: the cost keeps getting worse ("worse" is a lower objective when maximizing,
        # a higher cost otherwise). A cost that oscillates while it settles is not divergence.
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

    ``best`` and ``improved`` (this value is a new best) let early stopping keep the best
    parameters.
    """

    def __init__(self, tol: float, patience: int, mode: str = "best") -> None:
        if mode not in ("best", "change"):
            raise ValueError(f"The 'mode' parameter must be 'best' or 'change'. Got {mode!r}.")
        self.tol = tol
        self.patience = patience
        self.mode = mode
        self.last = math.nan
        self.best = math.inf
        self.bad_epochs = 0
        self.improved = False

    def update(self, value: float) -> bool:
        if self.mode == "change":
            stalled = abs(value - self.last) < self.tol  # False for the first value (NaN)
        else:
            stalled = value > self.best - self.tol
        self.bad_epochs = self.bad_epochs + 1 if stalled else 0
        self.improved = value < self.best
        self.best = min(self.best, value)
        self.last = value
        return self.bad_epochs >= self.patience

    def state(self) -> dict[str, Any]:
        return {"last": self.last, "best": self.best, "bad_epochs": self.bad_epochs}

    def load_state(self, state: dict[str, Any]) -> None:
        self.last = float(state["last"])
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])


#: batch_objective(indices of a mini-batch, or None for all m examples) -> objective
BatchObjective = Callable[["np.ndarray | None"], Objective]


class Trainer:
    """Minimise J(w, b) over epochs of (mini-)batch steps; resumable from a ``Snapshot``.

    Each epoch t: alpha_t = schedule(t); the examples are shuffled with ``rng`` (if ``shuffle``)
    and cut into mini-batches of ``batch_size`` (None: one batch of all m, in order - the lesson's
    full-batch gradient descent); for each batch the objective gives (J_B, dJ_B/dw, dJ_B/db) and
    ``optimizer`` takes one step. The epoch's cost is J itself in full-batch mode (before the
    update, as the lesson records it) and the size-weighted mean of the batch costs otherwise.

    Parameters
    ----------
    batch_objective : callable(indices (k,) or None) -> objective(w, b) -> (cost, dw, db)
    n_samples : m
    optimizer : a ``logicat.optimizers.Optimizer``
    schedule : callable(epoch) -> learning rate
    max_iter : number of epochs
    batch_size : int or None
    shuffle : reshuffle the examples every epoch (mini-batches only)
    rng : numpy Generator for the shuffling (its state is part of the snapshot)
    plateau : ``Plateau`` for ``tol`` stopping, or None
    validation : callable(w, b) -> validation cost; when given, the plateau watches it and the
        parameters with the best validation cost are returned (early stopping)
    callbacks : called with a ``TrainingState`` after every epoch; returning True stops
    divergence_patience : DivergenceError when the cost grows this many epochs in a row (or at the
        first non-finite cost)
    meta : JSON-able values copied into every snapshot (the caller's description of the run),
        or a callable returning them (called only when a snapshot is taken)
    extra_tensors : arrays copied into every snapshot
    """

    def __init__(
        self,
        batch_objective: BatchObjective,
        n_samples: int,
        *,
        optimizer: Any,
        schedule: Callable[[int], float],
        max_iter: int,
        batch_size: int | None = None,
        shuffle: bool = True,
        rng: np.random.Generator | None = None,
        plateau: Plateau | None = None,
        validation: Callable[[np.ndarray, float], float] | None = None,
        callbacks: Sequence[Callback] = (),
        divergence_patience: int = 50,
        meta: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
        extra_tensors: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.batch_objective = batch_objective
        self.n_samples = n_samples
        self.optimizer = optimizer
        self.schedule = schedule
        self.max_iter = max_iter
        self.batch_size = None if batch_size is None or batch_size >= n_samples else batch_size
        self.shuffle = shuffle
        self.rng = rng if rng is not None else np.random.default_rng()
        self.plateau = plateau
        self.validation = validation
        self.callbacks = list(callbacks)
        self.divergence_patience = divergence_patience
        self.meta = meta or {}
        self.extra_tensors = dict(extra_tensors or {})

    def run(self, w: np.ndarray, b: float, resume: Snapshot | None = None) -> GDResult:
        """Train from (w, b) - or from where ``resume`` left off - and return the result.

        ``w`` is updated in place. Resuming from the snapshot taken after epoch k and running to
        ``max_iter`` gives bit-for-bit the parameters and costs of an uninterrupted run.
        """
        bias = np.array([b], dtype=np.float64)  # (1,) so the optimizers update it in place
        history = np.empty(self.max_iter)
        val_history = np.empty(self.max_iter) if self.validation else None
        best = (w.copy(), bias.copy())
        self._worse_in_a_row = 0
        start = 0
        if resume is not None:
            start = self._restore(resume, w, bias, history, val_history, best)
        full = self.batch_objective(None) if self.batch_size is None else None
        stopped, n_iter = "max_iter", self.max_iter
        for epoch in range(start, self.max_iter):
            lr = float(self.schedule(epoch))
            if full is not None:
                cost = self._step(full, w, bias, lr, epoch)
            else:
                cost = self._minibatch_epoch(w, bias, lr, epoch)
            history[epoch] = cost
            self._check_divergence(history, epoch, lr)
            val_cost = None
            if self.validation is not None:
                val_cost = float(self.validation(w, float(bias[0])))
                val_history[epoch] = val_cost
            converged = False
            if self.plateau is not None:
                converged = self.plateau.update(cost if val_cost is None else val_cost)
                if val_cost is not None and self.plateau.improved:
                    best[0][:], best[1][:] = w, bias
            n_done = epoch + 1
            stop = False
            if self.callbacks:
                state = TrainingState(
                    epoch, cost, w, float(bias[0]), self.max_iter, lr, val_cost,
                    snapshot=lambda n=n_done: self._snapshot(n, w, bias, history, val_history,
                                                             best),
                )
                stop = any([cb(state) for cb in self.callbacks])
            if converged or stop:
                stopped, n_iter = ("converged" if converged else "callback"), n_done
                break
        if self.validation is not None and self.plateau is not None:
            w[:], bias[:] = best  # early stopping returns the best parameters seen
        return GDResult(
            w, float(bias[0]), history[:n_iter], n_iter, stopped,
            None if val_history is None else val_history[:n_iter],
        )

    # ---------------------------------------------------------------- one epoch
    def _step(self, objective: Objective, w: np.ndarray, bias: np.ndarray, lr: float,
              epoch: int) -> float:
        cost, dw, db = objective(w, float(bias[0]))
        if not math.isfinite(cost):
            raise _diverged(epoch, cost, lr, "the cost is no longer finite")
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            self.optimizer.step([w, bias], [dw, np.array([db])], lr)
        if not (math.isfinite(bias[0]) and np.isfinite(w).all()):
            raise _diverged(epoch, cost, lr, "the parameters overflowed")
        return cost

    def _minibatch_epoch(self, w: np.ndarray, bias: np.ndarray, lr: float, epoch: int) -> float:
        m, size = self.n_samples, self.batch_size
        order = self.rng.permutation(m) if self.shuffle else np.arange(m)
        total = 0.0
        for begin in range(0, m, size):
            idx = order[begin : begin + size]  # (k,) the examples of this mini-batch
            total += self._step(self.batch_objective(idx), w, bias, lr, epoch) * len(idx)
        return total / m

    def _check_divergence(self, history: np.ndarray, epoch: int, lr: float) -> None:
        grew = epoch > 0 and history[epoch] > history[epoch - 1]
        self._worse_in_a_row = self._worse_in_a_row + 1 if grew else 0
        if self._worse_in_a_row >= self.divergence_patience:
            why = f"the cost grew {self._worse_in_a_row} times in a row"
            raise _diverged(epoch, history[epoch], lr, why)

    # ---------------------------------------------------------------- snapshots
    def _snapshot(self, n_done, w, bias, history, val_history, best) -> Snapshot:
        tensors = {
            **{k: np.array(v) for k, v in self.extra_tensors.items()},
            "coef": w.copy(),
            "intercept": bias.copy(),
            "cost_history": history[:n_done].copy(),
        }
        if val_history is not None:
            tensors["val_cost_history"] = val_history[:n_done].copy()
            tensors["best_coef"], tensors["best_intercept"] = best[0].copy(), best[1].copy()
        for key, value in self.optimizer.state_dict().items():
            tensors[f"optimizer.{key}"] = value
        meta = dict(self.meta() if callable(self.meta) else self.meta)
        meta.update(
            epoch=n_done,
            optimizer=self.optimizer.name,
            rng_state=self.rng.bit_generator.state,
            plateau=None if self.plateau is None else self.plateau.state(),
            worse_in_a_row=self._worse_in_a_row,
        )
        return Snapshot(tensors, meta)

    def _restore(self, snap, w, bias, history, val_history, best) -> int:
        n_done = int(snap.meta["epoch"])
        if n_done > self.max_iter:
            raise ValueError(
                f"The checkpoint is after iteration {n_done}, beyond max_iter={self.max_iter}."
            )
        t = snap.tensors
        w[:] = t["coef"]
        bias[:] = t["intercept"]
        history[:n_done] = t["cost_history"]
        if val_history is not None:
            val_history[:n_done] = t["val_cost_history"]
            best[0][:], best[1][:] = t["best_coef"], t["best_intercept"]
        prefix = "optimizer."
        self.optimizer.load_state_dict(
            {k[len(prefix):]: v for k, v in t.items() if k.startswith(prefix)}
        )
        self.rng.bit_generator.state = snap.meta["rng_state"]
        if self.plateau is not None and snap.meta.get("plateau"):
            self.plateau.load_state(snap.meta["plateau"])
        self._worse_in_a_row = int(snap.meta.get("worse_in_a_row", 0))
        return n_done
