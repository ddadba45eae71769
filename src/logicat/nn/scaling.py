"""Feature scaling after the lesson's /255: per-feature standardisation fitted on training data.

x' = (x - mu) / sigma, with mu and sigma the (sample-weighted) mean and standard deviation of each
feature over the training examples; a feature that is constant there (sigma = 0) is only centred
(sigma is taken as 1), as scikit-learn's ``StandardScaler`` does. ``LogisticRegression(
standardize=True)`` fits mu and sigma in ``fit``, applies them in every prediction, and model
files store them as the tensors ``feature_mean`` and ``feature_scale``.
"""

from __future__ import annotations

import numpy as np


def fit_standardization(
    X: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and scale of X, shape (n,) each, in X's dtype.

    Parameters
    ----------
    X : ndarray of shape (m, n)
    sample_weight : ndarray of shape (m,) or None

    Returns
    -------
    mean : ndarray of shape (n,)
    scale : ndarray of shape (n,), the standard deviation (ddof 0), with 1 where it is 0
    """
    X64 = X.astype(np.float64, copy=False)
    mean = np.average(X64, axis=0, weights=sample_weight)  # (n,)
    var = np.average((X64 - mean) ** 2, axis=0, weights=sample_weight)  # (n,)
    scale = np.sqrt(var)
    # A feature constant on the training set (up to rounding) is centred, not divided by ~0.
    scale[scale < 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)] = 1.0
    return mean.astype(X.dtype), scale.astype(X.dtype)


def standardize(X: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(X - mean) / scale, a new array of shape (m, n) in X's dtype."""
    return (X - mean) / scale
