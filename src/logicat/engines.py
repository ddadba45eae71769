"""Engines: interchangeable ways of computing the objective ``(cost, dw, db)`` for the optimizer.

An engine factory takes the training data once and returns ``objective(w, b)``. "numpy" is the
hand-derived vectorized gradient of ``logicat.loss``; other engines register here.

An engine that brings its own training loop (PyTorch with ``torch.optim``) registers in
``TRAINERS`` instead: ``trainer(estimator, X, y01, w0, b0) -> GDResult``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from logicat.autograd.objective import make_autograd_objective
from logicat.loss import Loss, cost_and_gradients
from logicat.optim import GDResult, Objective

#: factory(X (m, n), y (m,) in {0, 1} with X's dtype, loss) -> objective
EngineFactory = Callable[[np.ndarray, np.ndarray, Loss], Objective]


def numpy_objective(
    X: np.ndarray, y: np.ndarray, loss: Loss, *, compress: bool = True
) -> Objective:
    """The hand-derived, vectorized cost and gradients of ``logicat.loss.cost_and_gradients``.

    With numba installed (the ``fast`` extra) the same math runs as the fused one-pass kernel of
    ``logicat.fast.kernels`` (equal to the reference to rounding: ~1e-15 in float64).
    ``compress`` lets it keep pixel features k/255 as bytes; a caller that builds a new objective
    for every mini-batch turns it off, since the check would cost as much as the step.
    """
    from logicat.fast.kernels import HAVE_NUMBA, FusedObjective

    if HAVE_NUMBA and X.ndim == 2 and X.dtype in (np.float32, np.float64):
        return FusedObjective(X, y, loss, compress=compress)

    def objective(w: np.ndarray, b: float) -> tuple[float, np.ndarray, float]:
        return cost_and_gradients(w, b, X, y, loss)

    return objective


ENGINES: dict[str, EngineFactory] = {
    "numpy": numpy_objective,
    "autograd": make_autograd_objective,
}

#: trainer(estimator, X (m, n), y01 (m,), w0 (n,), b0) -> GDResult, for engines with their own loop
Trainer = Callable[..., GDResult]


def torch_trainer(estimator, X: np.ndarray, y01: np.ndarray, w0: np.ndarray, b0: float) -> GDResult:
    """PyTorch (``logicat.torch_backend``), imported on first use: logicat runs without torch."""
    from logicat.torch_backend import require_torch

    require_torch()
    from logicat.torch_backend.trainer import torch_trainer as train

    return train(estimator, X, y01, w0, b0)


TRAINERS: dict[str, Trainer] = {"torch": torch_trainer}


def engine_names() -> tuple[str, ...]:
    """Every engine ``LogisticRegression(engine=...)`` accepts."""
    return (*ENGINES, *TRAINERS)
