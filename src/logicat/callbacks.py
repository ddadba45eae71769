"""Training callbacks: printing and progress bars live here, outside the math.

A callback is any callable taking a ``logicat.optim.TrainingState``; returning True stops
training. Pass them as ``LogisticRegression(callbacks=[...])``.
"""

from __future__ import annotations

import sys
from typing import TextIO

from logicat.optim import TrainingState


class PrintCost:
    """Print ``Cost after iteration i: J`` every ``every`` iterations, as the lesson does."""

    def __init__(self, every: int = 100, write=None) -> None:
        self.every = every
        self.write = write or print

    def __call__(self, state: TrainingState) -> None:
        if self.every and state.iteration % self.every == 0:
            self.write(f"Cost after iteration {state.iteration}: {state.cost:f}")


class ProgressBar:
    """A tqdm progress bar over the iterations, shown only when ``file`` is a terminal."""

    def __init__(self, file: TextIO | None = None, force: bool | None = None) -> None:
        self.file = file or sys.stderr
        self.enabled = self.file.isatty() if force is None else force
        self._bar = None

    def __call__(self, state: TrainingState) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=state.max_iter, file=self.file, unit="it", leave=False)
        self._bar.update(1)
        self._bar.set_postfix(cost=f"{state.cost:.6f}", refresh=False)
        if state.iteration + 1 >= state.max_iter:
            self.close()

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
