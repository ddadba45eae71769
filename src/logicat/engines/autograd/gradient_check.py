"""Gradient checking: the engine's gradients against central finite differences, in float64.

For each input x and each of its elements x_i:

    numeric_i = (F(x + eps e_i) - F(x - eps e_i)) / (2 eps)          error O(eps^2)

and, per input, the lesson's relative error (Deep Learning course 2, "gradient checking"):

    ||analytic - numeric||_2 / (||analytic||_2 + ||numeric||_2)

about 1e-7 or less means the gradient is right; 1e-3 or more means it is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from logicat.engines.autograd.tensor import Tensor, no_grad


@dataclass
class GradcheckResult:
    """What ``gradcheck`` found: the worst relative error and, per input, the details."""

    max_rel_error: float
    rel_errors: list[float]  # one per input
    analytic: list[np.ndarray]  # the engine's gradients, shaped like the inputs
    numeric: list[np.ndarray]  # the finite-difference gradients

    def __str__(self) -> str:
        per_input = ", ".join(f"{e:.2e}" for e in self.rel_errors)
        return f"gradcheck: worst relative error {self.max_rel_error:.2e} (per input: {per_input})"


def gradcheck(
    f: Callable[..., Tensor], inputs: Sequence[np.ndarray], eps: float = 1e-6, seed: int = 0
) -> GradcheckResult:
    """Compare the autograd gradients of ``f(*inputs)`` with central finite differences.

    Parameters
    ----------
    f : callable taking one Tensor per input and returning a Tensor built from them
        (a non-scalar output y is checked through the scalar sum(r * y), r a fixed random array).
    inputs : arrays (or numbers); each is copied to float64.
    eps : finite-difference step.

    Returns
    -------
    GradcheckResult; ``max_rel_error`` is the worst over the inputs.
    """
    xs = [np.array(x, dtype=np.float64) for x in inputs]
    projection: list[np.ndarray] = []  # fixed once the output's shape is known

    def scalar(tensors: list[Tensor]) -> Tensor:
        out = f(*tensors)
        if out.size == 1:
            return out.sum()
        if not projection:
            projection.append(np.random.default_rng(seed).standard_normal(out.shape))
        return (out * projection[0]).sum()

    # analytic: one backward pass
    leaves = [Tensor(x, requires_grad=True) for x in xs]
    scalar(leaves).backward()
    analytic = [np.zeros_like(t.data) if t.grad is None else t.grad for t in leaves]

    # numeric: two forward passes per element, nudging it in place
    def value() -> float:
        with no_grad():
            return float(scalar([Tensor(x) for x in xs]).data)

    numeric = [numeric_gradient(value, x, eps) for x in xs]

    errors = [_relative_error(a, n) for a, n in zip(analytic, numeric, strict=True)]
    return GradcheckResult(max(errors, default=0.0), errors, analytic, numeric)


def _relative_error(a: np.ndarray, n: np.ndarray) -> float:
    scale = np.linalg.norm(a) + np.linalg.norm(n)
    return float(np.linalg.norm(a - n) / scale) if scale > 0 else 0.0


def numeric_gradient(f: Callable[[], float], array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences (f(a + eps) - f(a - eps)) / (2 eps) of the scalar ``f()`` by every
    entry a of ``array``, nudged in place and restored: two evaluations of f per entry."""
    grad = np.zeros_like(array, dtype=np.float64)
    for i in np.ndindex(array.shape):
        saved = array[i]
        array[i] = saved + eps
        plus = f()
        array[i] = saved - eps
        minus = f()
        array[i] = saved
        grad[i] = (plus - minus) / (2 * eps)
    return grad
