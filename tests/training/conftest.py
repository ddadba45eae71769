"""Fixtures of the training tests: the problem whose runs are checkpointed and resumed."""

from __future__ import annotations

import pytest
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler


@pytest.fixture(scope="module")
def resume_problem():
    """(X (150, 8), y (150,)): unbalanced (70 % of one class), shifted and scaled by 3: what
    class weights, standardisation and early stopping change."""
    X, y = make_classification(n_samples=150, n_features=8, weights=[0.7], random_state=3)
    return StandardScaler().fit_transform(X) * 3 + 1, y
