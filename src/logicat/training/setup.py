"""A model's training, prepared: what the one fit (``logicat.training.fit``) hands the loop,
and what the model file will record of it.

Each kind of model prepares its own (``training.dense_fit.prepare`` for features,
``training.image_fit.prepare`` for images); the fit around it is the same for all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from logicat.nn.layers import Layer
from logicat.training.loop import Solver


@dataclass
class Setup:
    """A solver, the batches the loop hands it and the run's generator, and the model."""

    solver: Solver
    #: the batches of every epoch (``loop.Batches``); None for a fast path (``chunk`` > 1)
    data: Any
    #: the run's random generator: NumPy's or torch's, kept in every checkpoint
    draws: Any
    #: the solver's name in the model file ("gram", "primal", "minibatch")
    solver_name: str
    #: the model trained: its layers (the last a sigmoid), and one example's shape
    layers: list[Layer]
    input_shape: tuple[int, ...]
    #: params -> the validation cost (early stopping), and the rows held out for it
    validation: Callable[[list[np.ndarray]], float] | None = None
    held_out: np.ndarray | None = None
    #: tensors the layers take before the trained parameters (a standardisation's mean, scale)
    statistics: Sequence[np.ndarray] = field(default_factory=list)
    #: test-time augmentation (``nn.tta``): False, True (the mirror) or "shifts"
    tta: bool | str = False
    #: the fraction of (weighted) positives trained on (``logicat.nn.output.training_prior``)
    training_prior: float | None = None
    #: the stop rule watches from the first epoch (mini-batch costs are noisy; a warm-up
    #: steadies them), and running to ``max_iter`` is no failure to converge
    scheduled: bool = False
