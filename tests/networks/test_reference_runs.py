"""The course's two networks on the cat data, reproduced: every one of the 2500 costs and the
final parameters against the course's own algorithm (``course.py``), to 1e-10 in float64."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from logicat import MLPClassifier
from logicat.evaluate.metrics import accuracy_percent
from tests.networks import course

# The courses' published logs: "Cost after iteration i: J" every 100 iterations.
TWO_LAYER_LOG = [0.693050, 0.646432, 0.632514, 0.601502, 0.560197, 0.515830, 0.475490, 0.433916,
                 0.400798, 0.358071, 0.339428, 0.305275, 0.274914, 0.246818, 0.198507, 0.174483,
                 0.170808, 0.113065, 0.096294, 0.083426, 0.074391, 0.066307, 0.059193, 0.053361,
                 0.048555]
DEEP_LOG = [0.771749, 0.672053, 0.648263, 0.611507, 0.567047, 0.540138, 0.527930, 0.465477,
            0.369126, 0.391747, 0.315187, 0.272700, 0.237419, 0.199601, 0.189263, 0.161189,
            0.148214, 0.137775, 0.129740, 0.121225, 0.113821, 0.107839, 0.102855, 0.100897,
            0.092878]
MODELS = {
    "two-layer": dict(hidden=(7,), init="small_normal", scheme="small", log=TWO_LAYER_LOG,
                      accuracy=(100.0, 72.0)),
    "deep": dict(hidden=(20, 7, 5), init="lecun_normal", scheme="deep", log=DEEP_LOG,
                 accuracy=(98.56459330143541, 80.0)),
}


def _estimator(spec, **params):
    params = {"learning_rate": 0.0075, "max_iter": 2500, **params}
    return MLPClassifier(hidden_layer_sizes=spec["hidden"], activation="relu", init=spec["init"],
                         random_state=1, **params)


@pytest.fixture(scope="module", params=list(MODELS))
def reference(request, cat_features):
    """(name, the course's parameters and costs, logicat's fit) for one model."""
    X, y, _, _ = cat_features
    spec = MODELS[request.param]
    dims = [X.shape[1], *spec["hidden"], 1]
    with threadpool_limits(1):  # two test workers share two cores
        parameters, costs = course.L_layer_model(np.ascontiguousarray(X.T), y.reshape(1, -1),
                                                 dims, 0.0075, 2500, seed=1,
                                                 scheme=spec["scheme"])
    return request.param, parameters, costs, _estimator(spec).fit(X, y)


@pytest.mark.slow  # the course's own code: ~20 s for both models
def test_every_cost_and_the_final_parameters_are_the_courses(reference):
    name, parameters, costs, clf = reference
    assert clf.solver_ == "gram" and clf.n_iter_ == 2500
    np.testing.assert_allclose(clf.cost_history_, costs, rtol=0, atol=1e-10)
    assert [float(f"{c:f}") for c in clf.cost_history_[::100]] == MODELS[name]["log"]
    assert len(clf.coefs_) == len(parameters) // 2 == clf.n_layers_ - 1
    for k, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_, strict=True), start=1):
        np.testing.assert_allclose(W, parameters[f"W{k}"].T, rtol=0, atol=1e-10)
        np.testing.assert_allclose(b, parameters[f"b{k}"][:, 0], rtol=0, atol=1e-10)


@pytest.mark.slow
def test_the_accuracies_are_the_courses(reference, cat_features):
    name, parameters, _, clf = reference
    X, y, X_test, y_test = cat_features
    train, test = MODELS[name]["accuracy"]
    assert accuracy_percent(clf.predict(X), y) == train
    assert accuracy_percent(clf.predict(X_test), y_test) == test
    np.testing.assert_array_equal(clf.predict(X_test),
                                  course.predict(X_test.T, parameters)[0])


@pytest.mark.parametrize("name", list(MODELS))
def test_float32_gives_the_same_accuracies_and_costs_within_1e_5(cat_features, name):
    X, y, X_test, y_test = cat_features
    spec = MODELS[name]
    ref = _estimator(spec).fit(X, y)
    clf = _estimator(spec, dtype="float32").fit(X, y)
    assert clf.coefs_[0].dtype == np.float32
    np.testing.assert_allclose(clf.cost_history_, ref.cost_history_, rtol=0, atol=1e-5)
    for Xs, ys in ((X, y), (X_test, y_test)):
        assert clf.score(Xs, ys) == ref.score(Xs, ys)


@pytest.mark.parametrize("name", list(MODELS))
def test_float32_arithmetic_of_the_primal_solver_stays_within_1e_5(cat_features, name):
    """The span solver computes in float64; the primal one in float32 itself. For 250 steps:
    from ~280 on the deep run's cost oscillates with a period of 3 (0.630, 0.613, 0.614, ...),
    and float32 rounding shifts that oscillation's phase (differences of 0.02 by 300)."""
    X, y, _, _ = cat_features
    spec = MODELS[name]
    ref = _estimator(spec, max_iter=250).fit(X, y)
    clf = _estimator(spec, max_iter=250, dtype="float32", solver="primal").fit(X, y)
    np.testing.assert_allclose(clf.cost_history_, ref.cost_history_, rtol=0, atol=1e-5)
