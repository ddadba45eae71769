"""``LogisticRegression`` (``logicat.estimators.logistic``): the lesson's reference run, reproduced
exactly: cost table, accuracies, float32 agreement."""

import numpy as np
import pytest

from logicat import LogisticRegression
from tests.lesson import lesson_optimize

# The lesson's published output for zero init, learning rate 0.005, 2000 iterations.
PUBLISHED_COSTS = {
    0: 0.693147,
    100: 0.584508,
    200: 0.466949,
    300: 0.376007,
    400: 0.331463,
    500: 0.303273,
    600: 0.279880,
    700: 0.260042,
    800: 0.242941,
    900: 0.228004,
    1000: 0.214820,
    1100: 0.203078,
    1200: 0.192544,
    1300: 0.183033,
    1400: 0.174399,
    1500: 0.166521,
    1600: 0.159305,
    1700: 0.152667,
    1800: 0.146542,
    1900: 0.140872,
}


@pytest.fixture(scope="module")
def reference(cat_features):
    X_train, y_train, _, _ = cat_features
    return LogisticRegression(learning_rate=0.005, max_iter=2000).fit(X_train, y_train)


@pytest.fixture(scope="module")
def reference32(cat_features):
    X_train, y_train, _, _ = cat_features
    return LogisticRegression(dtype="float32").fit(X_train, y_train)


def _lesson_run(X, y, iterations):
    """The lesson's own code (``tests/lesson.py``): examples as columns, every cost."""
    w, b, costs = lesson_optimize(np.zeros((X.shape[1], 1)), 0.0, X.T, y.reshape(1, -1),
                                  iterations, 0.005, record_every=1)
    return np.array(costs), w.ravel(), b


def test_cost_table_matches_the_lesson(reference):
    assert reference.n_iter_ == 2000
    assert reference.cost_history_.shape == (2000,)
    assert reference.cost_history_[0] == pytest.approx(np.log(2), rel=1e-15)
    printed = {i: float(f"{reference.cost_history_[i]:f}") for i in PUBLISHED_COSTS}
    assert printed == PUBLISHED_COSTS


def test_accuracies_match_the_lesson(reference, cat_features):
    X_train, y_train, X_test, y_test = cat_features
    train = 100 - np.mean(np.abs(reference.predict(X_train) - y_train)) * 100
    test = 100 - np.mean(np.abs(reference.predict(X_test) - y_test)) * 100
    assert train == 99.04306220095694
    assert test == 70.0
    assert reference.score(X_train, y_train) == pytest.approx(207 / 209)


def test_same_numbers_as_the_lessons_own_code(reference, cat_features):
    X_train, y_train, _, _ = cat_features
    costs, w, b = _lesson_run(X_train, y_train.astype(float), 2000)
    np.testing.assert_allclose(reference.cost_history_, costs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(reference.coef_, w, rtol=1e-9, atol=1e-13)
    assert reference.intercept_ == pytest.approx(b, rel=1e-10)


def test_float32_gives_the_same_accuracies_and_costs_within_1e_5(
    reference, reference32, cat_features
):
    X_train, y_train, X_test, y_test = cat_features
    assert reference32.coef_.dtype == np.float32
    np.testing.assert_allclose(
        reference32.cost_history_, reference.cost_history_, rtol=0, atol=1e-5
    )
    for X, y in ((X_train, y_train), (X_test, y_test)):
        assert reference32.score(X, y) == reference.score(X, y)


def test_probabilities_and_decisions_agree(reference, cat_features):
    _, _, X_test, _ = cat_features
    proba = reference.predict_proba(X_test)
    assert proba.shape == (50, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)
    z = reference.decision_function(X_test)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-14)
    np.testing.assert_array_equal(reference.predict(X_test), (proba[:, 1] > 0.5).astype(int))
