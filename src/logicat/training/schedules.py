"""Learning-rate schedules: the step size alpha_t of epoch t (t = 0, 1, ..., T - 1).

constant      alpha_t = alpha
inverse       alpha_t = alpha / (1 + d t)
exponential   alpha_t = alpha exp(-d t)
cosine        alpha_t = alpha (1 + cos(pi t / T)) / 2           (T = max_iter; d is not used)

alpha is ``learning_rate``, d is ``lr_decay`` and t counts epochs (passes over the training
set; one epoch is one iteration in full-batch gradient descent), so every mini-batch of an epoch
uses the same step size. A callable ``schedule(t) -> alpha_t`` can be used instead of a name.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from logicat.validation import Options, check_param

SCHEDULES = ("constant", "inverse", "exponential", "cosine")

#: schedule(epoch) -> learning rate of that epoch
Schedule = Callable[[int], float]


def make_schedule(
    name: str | Schedule, learning_rate: float, decay: float, max_iter: int
) -> Schedule:
    """The function t -> alpha_t for the schedule ``name`` (or ``name`` itself if callable)."""
    if callable(name):
        return name
    check_param("lr_schedule", name, [Options(SCHEDULES), callable])
    if name == "constant":
        return lambda t: learning_rate
    if name == "inverse":
        return lambda t: learning_rate / (1.0 + decay * t)
    if name == "exponential":
        return lambda t: learning_rate * math.exp(-decay * t)
    return lambda t: learning_rate * 0.5 * (1.0 + math.cos(math.pi * t / max_iter))
