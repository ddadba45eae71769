r"""Objectives beyond the lesson's mean loss: sample weights and the L2 penalty.

With sample weights s_i >= 0 (class weights multiply into them) and the L2 strength alpha >= 0:

J(w, b) = sum_i s_i L(sigma(x_i . w + b), y_i) / S  +  alpha / (2 S) ||w||^2,    S = sum_i s_i

dJ/dw   = X^T (s * dz) / S + (alpha / S) w,      dJ/db = sum_i s_i dz_i / S

With s_i = 1, S = m and this is the lesson's J plus alpha/(2m) ||w||^2 (the bias is not
penalised). Multiplying by C S shows it is scikit-learn's ``LogisticRegression`` objective
C sum_i s_i L_i + 1/2 ||w||^2 with **alpha = 1 / C**, whatever m and the weights are. A weight of
2 is the same as the example appearing twice.

For a mini-batch B, J_B replaces S by S_B = sum_{i in B} s_i in the data term and keeps S in the
penalty, so that a pass over all batches penalises ||w||^2 as the full objective does.
"""

from __future__ import annotations

import numpy as np

from logicat.loss import Loss, loss_and_dz
from logicat.optim import Objective


def weighted_objective(X: np.ndarray, y: np.ndarray, s: np.ndarray, loss: Loss) -> Objective:
    """objective(w, b) -> (sum s L / sum s, X^T (s dz) / sum s, sum s dz / sum s).

    X : (k, n); y : (k,) in {0, 1}; s : (k,) non-negative weights, X's dtype.
    """
    total = float(s.sum()) or 1.0  # a batch whose weights are all 0 contributes nothing

    def objective(w: np.ndarray, b: float) -> tuple[float, np.ndarray, float]:
        z = X @ w + b  # (k,) logits
        losses, dz = loss_and_dz(z, y, loss)  # (k,), (k,)
        sdz = s * dz  # (k,)
        return float(s @ losses) / total, X.T @ sdz / total, float(sdz.sum()) / total

    return objective


def with_l2(objective: Objective, alpha: float, total_weight: float) -> Objective:
    """Add alpha / (2 S) ||w||^2 to the cost and (alpha / S) w to dJ/dw (S = total_weight)."""
    k = alpha / total_weight

    def penalized(w: np.ndarray, b: float) -> tuple[float, np.ndarray, float]:
        cost, dw, db = objective(w, b)
        return cost + 0.5 * k * float(w @ w), dw + k * w, db

    return penalized
