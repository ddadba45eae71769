"""Training callbacks: printing, progress bars, stopping rules and checkpoints live here.

A callback is any callable taking a ``logicat.training.loop.TrainingState``; returning True stops
training. Pass them as ``LogisticRegression(callbacks=[...])``. They keep printing and saving out
of the math: the training loop only calls them after each iteration.

A callback with ``cost_only = True`` reads only the iteration and the cost (never the
parameters): solvers that run many iterations per call (the span solver, the CUDA-graph loop)
can serve it, calling it for every iteration of a chunk afterwards, in order. Every callback
here pickles (``pickle``, ``joblib.dump`` and ``sklearn.base.clone`` of an estimator holding
them work).
"""

from __future__ import annotations

import math
import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

import numpy as np

from logicat.core.errors import DivergenceError, ParameterError
from logicat.core.validation import Interval, Options, check_param
from logicat.training.loop import TrainingState
from logicat.training.rules import Plateau


class PrintCost:
    """Print ``Cost after iteration i: J`` every ``every`` iterations, as the lesson does
    (``unit="epoch"``: ``Cost after epoch i: J``, for the ConvNet's epochs)."""

    #: reads only the iteration and the cost, so fast loops may call it between chunks
    cost_only = True

    def __init__(self, every: int = 100, write=None, unit: str = "iteration",
                 desc: str | None = None) -> None:
        self.every = every
        self.write = write or print
        self.unit = unit
        self.desc = desc  # what the run is, when one command runs several ("member 2/5")

    def __call__(self, state: TrainingState) -> None:
        if self.every and state.iteration % self.every == 0:
            prefix = f"{self.desc}: " if self.desc else ""
            self.write(f"{prefix}Cost after {self.unit} {state.iteration}: {state.cost:f}")


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where stderr is no terminal, yet a bar shows)."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class ProgressBar:
    """A tqdm bar over the iterations (``unit="epoch"``: the epochs) with the cost of the last
    one and the time left, drawn before the first step and kept when done (``leave``); drawn
    where someone can see it - a terminal, or a Jupyter notebook (``tqdm.auto`` draws a widget
    there) - unless ``force`` says.

    ``file`` defaults to the standard error stream at the time the bar is drawn.
    """

    cost_only = True

    def __init__(self, file: TextIO | None = None, force: bool | None = None,
                 unit: str = "iteration", desc: str | None = None, leave: bool = True) -> None:
        self._file = file
        self.enabled = (self.file.isatty() or _in_notebook()) if force is None else force
        self.unit, self.desc, self.leave = unit, desc, leave
        self._bar = None

    @property
    def file(self) -> TextIO:
        return self._file if self._file is not None else sys.stderr

    def begin(self, start: int, max_iter: int) -> None:
        """Draw the bar before the first step (the trainer calls this), at ``start`` of
        ``max_iter`` (a resumed run starts where it stopped)."""
        if self.enabled and self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=max_iter, initial=start, file=self.file, desc=self.desc,
                             unit=f" {self.unit}", leave=self.leave, dynamic_ncols=True)

    def __call__(self, state: TrainingState) -> None:
        if not self.enabled:
            return
        self.begin(state.iteration, state.max_iter)  # for a loop that did not call begin
        self._bar.update(1)
        shown = {"cost": f"{state.cost:.6f}"}
        if state.val_cost is not None:  # with a validation split, its cost too
            shown["validation cost"] = f"{state.val_cost:.6f}"
        self._bar.set_postfix(shown, refresh=False)
        if state.iteration + 1 >= state.max_iter:
            self.close()

    def __getstate__(self) -> dict:
        """A pickled copy is a fresh bar, not the drawn one (tqdm's bar does not pickle)."""
        return {**self.__dict__, "_bar": None}

    def __deepcopy__(self, memo: dict) -> ProgressBar:
        """A fresh bar on the same stream (``sklearn.base.clone`` deep-copies callbacks)."""
        return ProgressBar(self._file, force=self.enabled, unit=self.unit, desc=self.desc,
                           leave=self.leave)

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


class CSVLog:
    """The run as a CSV file, one row per iteration (epoch): ``iteration,cost,learning_rate,
    validation_cost`` (the last empty without a validation set), written to ``path`` when the
    run ends - however it ends, Ctrl-C and divergence included - through the one atomic writer.
    A resumed run's log starts where it resumed."""

    cost_only = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.rows: list[tuple] = []

    def __call__(self, state: TrainingState) -> None:
        self.rows.append((state.iteration, state.cost, state.learning_rate, state.val_cost))

    def end(self) -> None:
        from logicat.core.csv_cells import csv_text
        from logicat.core.paths import atomic_write_bytes

        text = csv_text(["iteration", "cost", "learning_rate", "validation_cost"], self.rows)
        atomic_write_bytes(self.path, text.encode(), "CSV log")


class EarlyStopping:
    """Stop when the monitored cost has not improved by ``min_delta`` for ``patience`` iterations.

    ``monitor="cost"`` watches the training cost J; ``"val_cost"`` the validation cost (needs
    ``LogisticRegression(early_stopping=True)``, which also keeps the best parameters). As the
    built-in rule, iterations count only once the training cost has gone below its first value
    (the lesson's cost rises for its first ~33 iterations). The built-in ``tol`` /
    ``n_iter_no_change`` rule does the same and is saved in checkpoints; this callback's
    counters are not.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, monitor: str = "cost") -> None:
        check_param("monitor", monitor, [Options(("cost", "val_cost"))])
        self.monitor = monitor
        self.cost_only = monitor == "cost"
        self.plateau = Plateau(min_delta, patience, warmup=True)
        self.stopped_at: int | None = None

    def __call__(self, state: TrainingState) -> bool:
        value = state.cost if self.monitor == "cost" else state.val_cost
        if value is None:
            raise ParameterError("EarlyStopping(monitor='val_cost') needs early_stopping=True.")
        if self.plateau.update(value, state.cost):
            self.stopped_at = state.iteration
            return True
        return False


class TerminateOnNaN:
    """Stop with a one-line ``DivergenceError`` as soon as the cost or the parameters are NaN/inf.

    The loop itself stops at the first non-finite *cost*; this also catches parameters that
    overflow in an update, one iteration earlier, and names that iteration.
    """

    def __call__(self, state: TrainingState) -> None:
        params = state.params or []
        if not (math.isfinite(state.cost) and all(np.isfinite(p).all() for p in params)):
            raise DivergenceError(
                f"Training produced NaN or infinity at iteration {state.iteration} "
                f"(cost {state.cost:.6g}); try a smaller learning rate."
            )


class Checkpoint:
    """Save the whole training state to ``path`` every ``every`` iterations (atomically).

    Resume with ``LogisticRegression(...).fit(X, y, resume_from=path)``. The file is a
    safetensors checkpoint (``logicat.io.files``); ``saved_at`` is the last iteration saved.
    ``run`` (a ``training.resume.Run``: the command and data of ``logicat train``) is recorded
    in it, so that ``logicat train --resume --checkpoint path`` alone goes on.
    """

    def __init__(self, path: str | Path, every: int = 100, run=None) -> None:
        check_param("every", every, [Interval(int, 1)])
        self.path = Path(path)
        self.every = every
        self.run = run
        self.saved_at: int | None = None

    def __call__(self, state: TrainingState) -> None:
        if (state.iteration + 1) % self.every == 0:
            self.save(state)

    def save(self, state: TrainingState) -> Path:
        from logicat.io.files import save_checkpoint

        if state.snapshot is None:
            raise ParameterError("This training loop does not support checkpoints.")
        snapshot = state.snapshot()
        if self.run is not None:
            from logicat.training.resume import RUN_KEY

            snapshot.meta = {**snapshot.meta, RUN_KEY: self.run.to_json()}
        save_checkpoint(self.path, snapshot)
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
    ``KeyboardInterrupt``). A second Ctrl-C interrupts at once. ``run``: what the checkpoint
    records of the run (``Checkpoint``).
    """

    #: reads the cost, and the snapshot only after Ctrl-C: the span path of plain GD serves it
    cost_only = True

    def __init__(self, path: str | Path, run=None) -> None:
        self.checkpoint = Checkpoint(path, every=1, run=run)
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

    def __getstate__(self) -> dict:
        """A copy is not installed and has not been interrupted."""
        return {**self.__dict__, "requested": False, "_previous": None}

    def _handle(self, signum, frame) -> None:
        if self.requested:  # the second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True

    def __call__(self, state: TrainingState) -> None:
        if self.requested:
            path = self.checkpoint.save(state)
            raise TrainingInterrupted(state.iteration + 1, path)
