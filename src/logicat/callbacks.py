"""Training callbacks: printing, progress bars, stopping rules and checkpoints live here.

A callback is any callable taking a ``logicat.optim.TrainingState``; returning True stops
training. Pass them as ``LogisticRegression(callbacks=[...])``. They keep printing and saving out
of the math: the training loop only calls them after each iteration.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

import numpy as np

from logicat.errors import DivergenceError
from logicat.optim import Plateau, TrainingState


class PrintCost:
    """Print ``Cost after iteration i: J`` every ``every`` iterations, as the lesson does."""

    #: reads only the iteration and the cost, so fast loops may call it between chunks
    cost_only = True

    def __init__(self, every: int = 100, write=None) -> None:
        self.every = every
        self.write = write or print

    def __call__(self, state: TrainingState) -> None:
        if self.every and state.iteration % self.every == 0:
            self.write(f"Cost after iteration {state.iteration}: {state.cost:f}")


class ProgressBar:
    """A tqdm progress bar over the iterations, shown only when ``file`` is a terminal."""

    cost_only = True

    def __init__(self, file: TextIO | None = None, force: bool | None = None) -> None:
        self.file = file or sys.stderr
        self.enabled = self.file.isatty() if force is None else force
        self._bar = None

    def __call__(self, state: TrainingState) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=state.max_iter, initial=state.iteration, file=self.file, unit="it",
                leave=False,
            )
        self._bar.update(1)
        self._bar.set_postfix(cost=f"{state.cost:.6f}", refresh=False)
        if state.iteration + 1 >= state.max_iter:
            self.close()

    def __deepcopy__(self, memo: dict) -> ProgressBar:
        """A fresh bar on the same stream (``sklearn.base.clone`` deep-copies callbacks)."""
        return ProgressBar(self.file, force=self.enabled)

    def write(self, line: str) -> None:
        """Print a line above the bar without breaking it."""
        if self._bar is not None:
            self._bar.write(line, file=sys.stdout)
        else:
            print(line)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class EarlyStopping:
    """Stop when the monitored cost has not improved by ``min_delta`` for ``patience`` iterations.

    ``monitor="cost"`` watches the training cost J; ``"val_cost"`` the validation cost (needs
    ``LogisticRegression(early_stopping=True)``, which also keeps the best parameters). The
    built-in ``tol`` / ``n_iter_no_change`` rule does the same and is saved in checkpoints; this
    callback's counters are not.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, monitor: str = "cost") -> None:
        if monitor not in ("cost", "val_cost"):
            raise ValueError(
                f"The 'monitor' parameter must be 'cost' or 'val_cost'. Got {monitor!r} instead."
            )
        self.monitor = monitor
        self.plateau = Plateau(min_delta, patience)
        self.stopped_at: int | None = None

    def __call__(self, state: TrainingState) -> bool:
        value = state.cost if self.monitor == "cost" else state.val_cost
        if value is None:
            raise ValueError("EarlyStopping(monitor='val_cost') needs early_stopping=True.")
        if self.plateau.update(value):
            self.stopped_at = state.iteration
            return True
        return False


class TerminateOnNaN:
    """Stop with a one-line ``DivergenceError`` as soon as the cost or the parameters are NaN/inf.

    The loop itself stops at the first non-finite *cost*; this also catches parameters that
    overflow in an update, one iteration earlier, and names that iteration.
    """

    def __call__(self, state: TrainingState) -> None:
        finite = math.isfinite(state.cost) and math.isfinite(state.intercept)
        if not (finite and np.isfinite(state.coef).all()):
            raise DivergenceError(
                f"Training produced NaN or infinity at iteration {state.iteration} "
                f"(cost {state.cost:.6g}); try a smaller learning rate."
            )


class Checkpoint:
    """Save the whole training state to ``path`` every ``every`` iterations (atomically).

    Resume with ``LogisticRegression(...).fit(X, y, resume_from=path)``. The file is a
    safetensors checkpoint (``logicat.checkpoint``); ``saved_at`` is the last iteration saved.
    """

    def __init__(self, path: str | Path, every: int = 100) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"The 'every' parameter must be an int >= 1. Got {every!r} instead.")
        self.path = Path(path)
        self.every = every
        self.saved_at: int | None = None

    def __call__(self, state: TrainingState) -> None:
        if (state.iteration + 1) % self.every == 0:
            self.save(state)

    def save(self, state: TrainingState) -> Path:
        from logicat.checkpoint import save_checkpoint

        if state.snapshot is None:
            raise ValueError("This training loop does not support checkpoints.")
        save_checkpoint(self.path, state.snapshot())
        self.saved_at = state.iteration + 1
        return self.path


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``fit`` with ``GracefulInterrupt``: the state was saved to ``path``."""

    def __init__(self, iteration: int, path: Path) -> None:
        super().__init__(f"interrupted after iteration {iteration}; checkpoint saved to {path}")
        self.iteration = iteration
        self.path = path


class GracefulInterrupt:
    """Turn Ctrl-C into: finish the current iteration, save a checkpoint, stop.

    Use as a context manager around ``fit`` (it installs a SIGINT handler in the main thread and
    restores the previous one on exit) and pass it as a callback. After the iteration in which
    Ctrl-C arrived, it saves the checkpoint to ``path`` and raises ``TrainingInterrupted`` (a
    ``KeyboardInterrupt``). A second Ctrl-C interrupts at once.
    """

    #: reads the cost, and the snapshot only after Ctrl-C: the span path of plain GD serves it
    cost_only = True

    def __init__(self, path: str | Path) -> None:
        self.checkpoint = Checkpoint(path, every=1)
        self.requested = False
        self._previous = None

    def __enter__(self) -> GracefulInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum, frame) -> None:
        if self.requested:  # the second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True

    def __call__(self, state: TrainingState) -> None:
        if self.requested:
            path = self.checkpoint.save(state)
            raise TrainingInterrupted(state.iteration + 1, path)
