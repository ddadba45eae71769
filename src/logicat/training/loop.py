"""The one training loop: the loop owns the epochs, the solver computes a step.

The loop runs the epochs. Each epoch it asks the data (``training.batches``: features in memory
or rows of a file; ``torch_solver.TensorBatches``; ``image_solver.ImageBatches``: images,
augmented) for that epoch's batches, cut in an order drawn from the run's one random
generator (``draws``: NumPy's or torch's), and hands each batch to the solver with its rate;
the solver computes one step and returns the batch's cost. All else lives here, once: each
step's learning rate, the epoch's cost (its batches' costs weighted by their sizes; J itself
for one batch of all the examples), the cost history, the divergence rule, the ``tol`` /
early-stopping rule, the validation cost and the best parameters, the callbacks, the snapshot
of the whole state - the generator's too - for exact resumption, and the ``FitResult``.

Two documented fast paths run many full-batch iterations per call instead of one step each -
the span solver (``solvers.GramSolver``) and the fused torch loop (``torch_solver``, on CUDA a
graph): their ``chunk`` is above 1 and they give ``run(first, lrs)`` (the costs of
``len(lrs)`` iterations), ``params_after(n)`` and ``rewind(n)`` (training stopped inside a
chunk); they share every rule of the books above. Their callbacks must be cost-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from logicat.core.errors import ModelFileError, ParameterError
from logicat.core.validation import check_memory
from logicat.io.files import Snapshot
from logicat.training.draws import draws_state, load_draws
from logicat.training.rules import Divergence, Plateau


@dataclass
class TrainingState:
    """What a callback sees after each iteration.

    ``cost`` is J at the parameters *before* this iteration's update (the forward pass of the
    iteration); ``params`` are the parameters *after* it ([W_1, b_1, ...], or [w, b] for
    logistic regression), or None in a chunked solver (cost-only callbacks).
    """

    iteration: int
    cost: float
    max_iter: int
    params: list[np.ndarray] | None = None
    #: the step size used in this iteration (its last step's, when the rate changes per step)
    learning_rate: float | None = None
    #: J on the validation set after this iteration's update (with ``early_stopping`` only)
    val_cost: float | None = None
    #: returns the whole state of the loop after this iteration, for a checkpoint
    snapshot: Callable[[], Snapshot] | None = None

    @property
    def coef(self) -> np.ndarray | None:
        """The weights w, shape (n,), of logistic regression (a view of ``params[0]``)."""
        return None if self.params is None else _logistic(self.params)[0]

    @property
    def intercept(self) -> float | None:
        """The bias b of logistic regression."""
        return None if self.params is None else _logistic(self.params)[1]


def _logistic(params: Sequence[np.ndarray]) -> tuple[np.ndarray, float]:
    W, b = params[0], params[-1]
    if len(params) != 2 or b.size != 1:
        raise AttributeError("coef and intercept are logistic regression's; use params")
    return W.reshape(-1), float(b.reshape(-1)[0])


#: A callback returns True to stop training early.
Callback = Callable[[TrainingState], "bool | None"]


def is_cost_only(callback: Callback) -> bool:
    """True for a callback that reads only the iteration and the cost (a true ``cost_only``
    attribute): solvers that run a chunk of iterations per call can serve it afterwards."""
    return getattr(callback, "cost_only", False) is True


@dataclass
class FitResult:
    """What training produced: the parameters, the cost of every iteration, and why it ended."""

    params: list[np.ndarray]
    cost_history: np.ndarray  # (n_iter,)
    n_iter: int
    #: why training ended: "max_iter", "converged" (tol / early stopping) or "callback"
    stopped: str = "max_iter"
    #: validation cost after each iteration, with early stopping; else None
    val_cost_history: np.ndarray | None = None
    #: with early stopping: the iteration whose parameters were kept (best validation cost)
    best_iteration: int | None = None

    @property
    def coef(self) -> np.ndarray:
        """w of logistic regression, shape (n,)."""
        return _logistic(self.params)[0]

    @property
    def intercept(self) -> float:
        return _logistic(self.params)[1]


class Batches:
    """What the loop asks of the data (``logicat.training.batches``): ``m`` examples, and
    ``epoch(draws)``, one epoch's batches as (batch, its number of examples), in an order drawn
    from ``draws``, the run's random generator, as they are trained on (lazily: a batch's
    augmentation is drawn after the previous batch's step, the same for every solver)."""

    m: int

    def epoch(self, draws: Any) -> Iterator[tuple[Any, int]]:
        raise NotImplementedError


class Solver:
    """The solver protocol, with defaults: ``names`` (the parameters' names in snapshots),
    ``step`` and ``epoch``, ``steps_per_epoch`` (1: the rate changes once an epoch; else one
    rate per step), the parameters, the optimizer's ``state``, and ``sync_stop`` (every
    process agrees to stop, under data parallelism)."""

    names: tuple[str, ...] = ()
    chunk = 1
    steps_per_epoch = 1

    def step(self, batch: Any, lr: float) -> Any:
        """One update on ``batch``; its cost before the update (a float, or a 0-d tensor)."""
        raise NotImplementedError

    def epoch(self, index: int) -> Any:
        """A context manager around epoch ``index``'s steps."""
        return nullcontext()

    def run(self, first: int, lrs: Sequence[float]) -> np.ndarray:
        """The fast paths' chunk of iterations (``chunk`` > 1); their costs."""
        raise NotImplementedError

    def params(self) -> list[np.ndarray]:
        raise NotImplementedError

    def set_params(self, params: Sequence[np.ndarray]) -> None:
        for p, value in zip(self.params(), params, strict=True):
            p[...] = value

    def params_after(self, n_done: int) -> list[np.ndarray]:
        return self.params()

    def final_params(self) -> list[np.ndarray]:
        """The parameters the fit ends with: the current ones, or what the solver makes of
        them (an average of the weights over training, ``training.image_solver``)."""
        return self.params()

    def rewind(self, n_done: int) -> None:
        """Chunked solvers go back to the state after iteration ``n_done - 1``."""

    def params_finite(self) -> bool:
        return all(bool(np.isfinite(p).all()) for p in self.params())

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {}, {}

    def load_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Restore what ``state`` returned."""

    def sync_stop(self, stop: bool) -> bool:
        return stop


class Trainer:
    """Run a solver for ``max_iter`` epochs (or until a rule or callback stops it).

    Parameters
    ----------
    max_iter : number of epochs (iterations in full-batch training)
    schedule : callable(step) -> learning rate, over ``max_iter * solver.steps_per_epoch``
        schedule steps (``logicat.training.schedules``)
    callbacks : called with a ``TrainingState`` after every epoch; returning True stops
    plateau : ``Plateau`` for ``tol`` stopping (on the cost) or early stopping (on the
        validation cost), or None
    validation : callable(params) -> validation cost; when given, the plateau watches it and
        the parameters with the best validation cost are returned (early stopping)
    maximize : the solver maximizes; the divergence rule watches the negated value
    meta : JSON-able values copied into every snapshot (the caller's description of the run),
        or a callable returning them (called only when a snapshot is taken)
    extra_tensors : arrays copied into every snapshot
    """

    def __init__(
        self,
        *,
        max_iter: int,
        schedule: Callable[[int], float],
        callbacks: Sequence[Callback] = (),
        plateau: Plateau | None = None,
        validation: Callable[[list[np.ndarray]], float] | None = None,
        maximize: bool = False,
        meta: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
        extra_tensors: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.max_iter = max_iter
        self.schedule = schedule
        self.callbacks = list(callbacks)
        self.plateau = plateau
        self.validation = validation
        self.maximize = maximize
        self.meta = meta or {}
        self.extra_tensors = dict(extra_tensors or {})

    @classmethod
    def of(cls, params: Any, callbacks: Sequence[Callback] = (), *, steps_per_epoch: int = 1,
           validation: Callable[[list[np.ndarray]], float] | None = None,
           meta: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
           extra_tensors: dict[str, np.ndarray] | None = None, maximize: bool = False,
           watch_at_once: bool = False) -> Trainer:
        """The one loop as the hyperparameters ``params`` set it up - the one place a
        ``Trainer`` is built: ``max_iter`` epochs of ``steps_per_epoch`` schedule steps; the
        schedule ``lr_schedule`` (constant without one) of ``learning_rate``, with ``lr_decay``
        and ``warmup`` where the model has them; the stop rule, ``tol`` (the cost settled over
        ``n_iter_no_change`` iterations) or ``early_stopping`` (the best validation cost),
        watched after the warm-up iterations, or from the first epoch (``watch_at_once``:
        mini-batch costs are noisy and the schedule's warm-up steadies training)."""
        from logicat.training.schedules import make_schedule

        max_iter = int(params["max_iter"])
        tol, early = params.get("tol"), bool(params.get("early_stopping"))
        plateau = None
        if tol is not None or early:
            plateau = Plateau(float(tol or 0.0), int(params["n_iter_no_change"]),
                              "best" if early else "change", warmup=early and not watch_at_once)
        schedule = make_schedule(params.get("lr_schedule", "constant"),
                                 float(params["learning_rate"]),
                                 float(params.get("lr_decay", 0.0)), max_iter * steps_per_epoch,
                                 float(params.get("warmup", 0.0)))
        return cls(max_iter=max_iter, schedule=schedule, callbacks=callbacks, plateau=plateau,
                   validation=validation, maximize=maximize, meta=meta,
                   extra_tensors=extra_tensors)

    def run(self, solver: Solver, resume: Snapshot | None = None, *,
            data: Batches | None = None, draws: Any = None) -> FitResult:
        """Train from the solver's parameters - or from where ``resume`` left off - on ``data``'s
        batches, cut by ``draws`` (a ``numpy.random.Generator`` or a ``torch.Generator``,
        whose state every snapshot holds). A fast path (``chunk`` > 1) needs no ``data``.

        Resuming from the snapshot taken after epoch k and running to ``max_iter`` gives bit for
        bit the parameters and costs of an uninterrupted run.
        """
        if solver.chunk > 1 and self.validation is not None:
            raise ValueError("a chunked solver cannot be validated after every iteration")
        if solver.chunk == 1 and data is None:
            raise ValueError("a one-step solver trains on data: give data=")
        # one float per epoch (two with a validation set), held for the whole run
        check_memory(8 * self.max_iter * (2 if self.validation else 1),
                     f"max_iter={self.max_iter} (the cost of every iteration)")
        self._history = np.empty(self.max_iter)
        self._val_history = np.empty(self.max_iter) if self.validation else None
        self._best: list[np.ndarray] | None = None
        self._divergence = Divergence(self.maximize)
        self.draws = draws
        epoch = 0 if resume is None else self._restore(solver, resume)
        for callback in self.callbacks:  # e.g. a progress bar, drawn before the first step
            begin = getattr(callback, "begin", None)
            if callable(begin):
                begin(epoch, self.max_iter)
        stopped, n_iter = "max_iter", self.max_iter
        try:
            while epoch < self.max_iter and stopped == "max_iter":
                k = min(solver.chunk, self.max_iter - epoch)
                lrs = self._rates(epoch, k, solver.steps_per_epoch)
                costs = (solver.run(epoch, lrs) if solver.chunk > 1
                         else [self._epoch(solver, data, epoch, lrs[0])])
                for j in range(k):
                    last = lrs[j][-1] if solver.steps_per_epoch > 1 else lrs[j]
                    why = self._after_iteration(solver, epoch + j, float(costs[j]), last)
                    if why is not None:
                        if j < k - 1:
                            solver.rewind(epoch + j + 1)
                        stopped, n_iter = why, epoch + j + 1
                        break
                epoch += k
        finally:  # however the run ends (Ctrl-C, divergence): e.g. a log written out
            for callback in self.callbacks:
                end = getattr(callback, "end", None)
                if callable(end):
                    end()
        return self._result(solver, stopped, n_iter)

    def _epoch(self, solver: Solver, data: Batches, index: int, rates: Any) -> float:
        """One epoch: each batch of ``data`` (cut by the run's draws) stepped on at its rate
        (``rates``: the epoch's one rate, or each step's); the epoch's cost, the batches' costs
        weighted by their sizes (one batch: its cost, J itself)."""
        total: Any = 0.0
        seen = steps = 0
        cost: Any = 0.0
        with solver.epoch(index):
            for b, (batch, k) in enumerate(data.epoch(self.draws)):
                cost = solver.step(batch, rates[b] if solver.steps_per_epoch > 1 else rates)
                total += cost * k
                seen += k
                steps += 1
        return float(cost if steps == 1 else total / max(seen, 1))

    def _rates(self, epoch: int, k: int, steps: int) -> list:
        """The learning rates of epochs epoch..epoch+k-1: one float each, or (steps > 1) the
        tuple of the rates of each epoch's steps."""
        if steps == 1:
            return [float(self.schedule(t)) for t in range(epoch, epoch + k)]
        return [tuple(float(self.schedule(e * steps + s)) for s in range(steps))
                for e in range(epoch, epoch + k)]

    def _after_iteration(self, solver: Solver, i: int, cost: float, lr: float) -> str | None:
        """The books of iteration i; returns why training stops here, or None."""
        self._history[i] = cost
        one_step = solver.chunk == 1
        self._divergence.check(i, cost, lr, solver.params_finite if one_step else None)
        params = solver.params() if one_step and (self.callbacks or self.validation) else None
        val_cost = None
        if self.validation is not None:
            val_cost = float(self.validation(params))
            self._val_history[i] = val_cost
        converged = False
        if self.plateau is not None:
            converged = (self.plateau.update(cost) if val_cost is None
                         else self.plateau.update(val_cost, cost))
            if val_cost is not None and self.plateau.improved:
                self._best = [p.copy() for p in params]
        stop = False
        if self.callbacks:
            state = TrainingState(
                i, cost, self.max_iter, params, lr, val_cost,
                snapshot=lambda n=i + 1: self._snapshot(solver, n),
            )
            stop = any([cb(state) for cb in self.callbacks])
        stop = solver.sync_stop(stop)
        if converged:
            return "converged"
        return "callback" if stop else None

    def _result(self, solver: Solver, stopped: str, n_iter: int) -> FitResult:
        params = [p.copy() for p in solver.final_params()]
        best_iteration = None
        if self._best is not None and self.plateau is not None:
            params = self._best  # early stopping returns the best parameters seen
            best_iteration = self.plateau.best_epoch
        val = None if self._val_history is None else self._val_history[:n_iter].copy()
        return FitResult(params, self._history[:n_iter].copy(), n_iter, stopped, val,
                         best_iteration)

    # ---------------------------------------------------------------- snapshots
    def _snapshot(self, solver: Solver, n_done: int) -> Snapshot:
        params = solver.params_after(n_done)
        tensors = {k: np.array(v) for k, v in self.extra_tensors.items()}
        tensors.update({name: np.array(p) for name, p in zip(solver.names, params, strict=True)})
        tensors["cost_history"] = self._history[:n_done].copy()
        if self._val_history is not None:
            tensors["val_cost_history"] = self._val_history[:n_done].copy()
            best = self._best if self._best is not None else params
            for name, p in zip(solver.names, best, strict=True):
                tensors[f"best.{name}"] = np.array(p)
        solver_tensors, solver_meta = solver.state()
        tensors.update(solver_tensors)
        draws_tensors, draws_meta = draws_state(self.draws)
        tensors.update(draws_tensors)
        meta = dict(self.meta() if callable(self.meta) else self.meta)
        meta.update(
            solver_meta,
            **draws_meta,
            epoch=n_done,
            plateau=None if self.plateau is None else self.plateau.state(),
            divergence_start=self._divergence.start,
        )
        return Snapshot(tensors, meta)

    def _restore(self, solver: Solver, snap: Snapshot) -> int:
        meta, t = snap.meta, snap.tensors
        n_done = meta.get("epoch")
        if not isinstance(n_done, int) or isinstance(n_done, bool) or n_done < 1:
            raise ModelFileError(f"{snap.source}: the checkpoint's epoch must be an int >= 1. "
                                 f"Got {n_done!r}.")
        if n_done > self.max_iter:
            raise ParameterError(
                f"{snap.source}: the checkpoint is after iteration {n_done}, beyond "
                f"max_iter={self.max_iter}."
            )
        solver.set_params([t[name] for name in solver.names])
        self._history[:n_done] = t["cost_history"]
        if self._val_history is not None:
            self._val_history[:n_done] = t["val_cost_history"]
            self._best = [np.array(t[f"best.{name}"]) for name in solver.names]
        solver.load_state(t, meta)
        load_draws(self.draws, t, meta)
        if self.plateau is not None and meta.get("plateau"):
            self.plateau.load_state(meta["plateau"])
        self._divergence.start = meta.get("divergence_start")
        return n_done

