"""Learning-rate schedules: the step size alpha_t of schedule step t (t = 0, 1, ..., T - 1).

constant      alpha_t = alpha
inverse       alpha_t = alpha / (1 + d t)
exponential   alpha_t = alpha exp(-d t)
cosine        alpha_t = alpha (t + 1) / W                            for t < W (the warm-up)
              alpha_t = alpha (1 + cos(pi min(t - W, T - W) / (T - W))) / 2    after it

alpha is ``learning_rate``, d is ``lr_decay``, T the run's number of schedule steps and
W = floor(warmup T) (``warmup`` is 0 for the dense models: cosine from the first step). The loop
(``logicat.training.loop.Trainer``) owns the schedule and says what a step is: the dense solvers
take one schedule step per epoch (one iteration in full-batch gradient descent; every
mini-batch of an epoch uses the same step size), the ConvNet's mini-batch solver one per
mini-batch (``Solver.steps_per_epoch``). A callable ``schedule(t) -> alpha_t`` can be used
instead of a name.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from logicat.core.validation import Options, check_param
from logicat.nn.hyperparameters import SCHEDULES

#: schedule(epoch) -> learning rate of that epoch
Schedule = Callable[[int], float]


def make_schedule(
    name: str | Schedule, learning_rate: float, decay: float, n_steps: int, warmup: float = 0.0
) -> Schedule:
    """The function t -> alpha_t for the schedule ``name`` (or ``name`` itself if callable),
    over a run of ``n_steps`` schedule steps with a linear warm-up over ``warmup`` of them."""
    if callable(name):
        return name
    check_param("lr_schedule", name, [Options(SCHEDULES), callable])
    if name == "constant":
        return lambda t: learning_rate
    if name == "inverse":
        return lambda t: learning_rate / (1.0 + decay * t)
    if name == "exponential":
        return lambda t: learning_rate * math.exp(-decay * t)
    warm = int(warmup * n_steps)

    def cosine(t: int) -> float:
        if t < warm:
            return learning_rate * ((t + 1) / warm)
        done = min((t - warm) / max(1, n_steps - warm), 1.0)
        return learning_rate * (0.5 * (1 + math.cos(math.pi * done)))

    return cosine
