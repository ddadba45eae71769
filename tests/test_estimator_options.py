"""The training options beyond the lesson, each against a reference behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression

from logicat import DivergenceError, LogisticRegression, MLPClassifier
from logicat.engines.numba.fused import FusedObjective
from logicat.training.callbacks import EarlyStopping, TerminateOnNaN
from logicat.training.descent import gradient_descent


# ---------------------------------------------------------------- the default stays the lesson's
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_primal_solver_is_the_lessons_gradient_descent_bit_for_bit(cat_features, dtype):
    X, y = cat_features[0].astype(dtype), cat_features[1]
    clf = LogisticRegression(max_iter=40, dtype=dtype, solver="primal").fit(X, y)
    assert clf.solver_ == "primal"
    ref = gradient_descent(
        FusedObjective(X, y.astype(dtype), "cross_entropy"),
        np.zeros(X.shape[1], dtype=dtype), 0.0, learning_rate=0.005, max_iter=40,
    )
    assert clf.cost_history_[0] == pytest.approx(math.log(2), abs=1e-7)
    assert np.array_equal(clf.coef_, ref.coef) and clf.coef_.dtype == dtype
    assert clf.intercept_ == ref.intercept
    assert np.array_equal(clf.cost_history_, ref.cost_history)


def test_full_batch_sizes_are_plain_gradient_descent(problem):
    X, y = problem
    plain = LogisticRegression(learning_rate=0.5, max_iter=30).fit(X, y)
    whole = LogisticRegression(learning_rate=0.5, max_iter=30, batch_size=len(y)).fit(X, y)
    assert np.array_equal(plain.coef_, whole.coef_)


# ------------------------------------------------------- L2, weights: scikit-learn's optimum
@pytest.mark.parametrize("C", [0.05, 1.0])
@pytest.mark.parametrize("weighting", ["none", "sample_weight", "balanced"])
def test_l2_optimum_matches_sklearn(problem, C, weighting):
    """alpha = 1/C: after convergence both minimise the same objective (bias not penalised)."""
    X, y = problem
    sw = None
    if weighting == "sample_weight":
        sw = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    cw = "balanced" if weighting == "balanced" else None
    ref = SklearnLogisticRegression(C=C, tol=1e-12, max_iter=10_000, class_weight=cw)
    ref.fit(X, y, sample_weight=sw)
    clf = LogisticRegression(
        alpha=1 / C, optimizer="nesterov", learning_rate=0.3, max_iter=600, class_weight=cw
    ).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(clf.coef_, ref.coef_[0], atol=1e-6)
    assert clf.intercept_ == pytest.approx(ref.intercept_[0], abs=1e-6)


def test_plain_gd_reaches_the_same_l2_optimum(problem):
    X, y = problem
    ref = SklearnLogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y)
    clf = LogisticRegression(alpha=2.0, learning_rate=1.0, max_iter=1500).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_[0], atol=1e-4)


def test_alpha_shrinks_the_weights(problem):
    X, y = problem
    norms = [np.linalg.norm(LogisticRegression(alpha=a, learning_rate=0.5, max_iter=300)
                            .fit(X, y).coef_) for a in (0.0, 10.0, 100.0)]
    assert norms[0] > norms[1] > norms[2]


def test_sample_weight_two_equals_duplicating(problem):
    X, y = problem
    w = np.ones(len(y))
    w[:50] = 2
    weighted = LogisticRegression(learning_rate=0.5, max_iter=200).fit(X, y, sample_weight=w)
    dup = LogisticRegression(learning_rate=0.5, max_iter=200).fit(
        np.vstack([X, X[:50]]), np.concatenate([y, y[:50]])
    )
    np.testing.assert_allclose(weighted.coef_, dup.coef_, rtol=1e-10)


def test_class_weight_dict_moves_the_decision(problem):
    X, y = problem
    heavy_0 = LogisticRegression(learning_rate=0.5, max_iter=300, class_weight={0: 10, 1: 1})
    heavy_1 = LogisticRegression(learning_rate=0.5, max_iter=300, class_weight={0: 1, 1: 10})
    assert (heavy_0.fit(X, y).predict(X) == 0).sum() > (heavy_1.fit(X, y).predict(X) == 0).sum()


def test_zero_total_weight_for_a_class_is_refused(problem):
    X, y = problem
    with pytest.raises(ValueError, match="both classes need a positive total sample weight"):
        LogisticRegression(max_iter=5).fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        LogisticRegression(max_iter=5).fit(X, y, sample_weight=-np.ones(len(y)))


# ---------------------------------------------------------------- mini-batches
def test_minibatches_are_reproducible_and_shuffled(problem):
    X, y = problem
    params = dict(learning_rate=0.1, max_iter=20, batch_size=16)
    a = LogisticRegression(**params, random_state=1).fit(X, y)
    b = LogisticRegression(**params, random_state=1).fit(X, y)
    c = LogisticRegression(**params, random_state=2).fit(X, y)
    d = LogisticRegression(**params, shuffle=False).fit(X, y)
    e = LogisticRegression(**params, shuffle=False).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)
    assert np.array_equal(d.coef_, e.coef_)  # no shuffling: no randomness at all
    assert a.n_iter_ == 20 and len(a.cost_history_) == 20  # max_iter counts epochs


def test_sgd_with_decaying_rate_approaches_the_l2_optimum(problem):
    X, y = problem
    ref = SklearnLogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(X, y)
    sgd = LogisticRegression(alpha=1.0, learning_rate=0.2, batch_size=1, lr_schedule="inverse",
                             lr_decay=1.0, max_iter=15, random_state=0).fit(X, y)
    assert np.abs(sgd.coef_ - ref.coef_[0]).max() < 0.03  # measured 0.018 (vs 1e-6 full batch)


def test_early_stopping_callback(problem):
    X, y = problem
    stopper = EarlyStopping(patience=3, min_delta=1e-3)
    clf = LogisticRegression(learning_rate=0.5, max_iter=5000, callbacks=[stopper]).fit(X, y)
    assert clf.n_iter_ == stopper.stopped_at + 1 < 5000


def test_terminate_on_nan_callback():
    """For loops that call callbacks but have no guard of their own (e.g. other engines')."""
    from logicat.training.loop import TrainingState

    stop = TerminateOnNaN()
    assert stop(TrainingState(3, 0.5, 10, params=[np.zeros(4), np.zeros(1)])) is None
    with pytest.raises(DivergenceError, match="NaN or infinity at iteration 4"):
        stop(TrainingState(4, 0.4, 10, params=[np.array([0.0, np.nan]), np.zeros(1)]))


# ---------------------------------------------------------------- warm start
def test_warm_start_continues_gradient_descent_exactly(problem):
    X, y = problem
    two_halves = LogisticRegression(learning_rate=0.3, max_iter=25, warm_start=True)
    two_halves.fit(X, y).fit(X, y)
    whole = LogisticRegression(learning_rate=0.3, max_iter=50).fit(X, y)
    assert np.array_equal(two_halves.coef_, whole.coef_)
    assert two_halves.intercept_ == whole.intercept_
    assert two_halves.n_iter_ == 25  # this call's iterations
    cold = LogisticRegression(learning_rate=0.3, max_iter=25).fit(X, y).fit(X, y)
    assert not np.array_equal(cold.coef_, whole.coef_)


def test_warm_start_refuses_other_classes(problem):
    X, y = problem
    clf = LogisticRegression(max_iter=3, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start: y has the classes"):
        clf.fit(X, y + 1)


# ---------------------------------------------------------------- validation of the options
@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        ("alpha", -1.0, "The 'alpha' parameter must be a float in [0, inf). Got -1.0 instead."),
        ("momentum", 1.0, "The 'momentum' parameter must be a float in [0, 1). Got 1.0 instead."),
        ("batch_size", 0, "The 'batch_size' parameter must be an int >= 1 or None. Got 0"),
        ("optimizer", "sgd", "The 'optimizer' parameter must be one of 'gd', 'momentum'"),
        ("weight_decay", -1.0, "The 'weight_decay' parameter must be a float in [0, 1000]"),
        ("lr_schedule", "step", "The 'lr_schedule' parameter must be one of 'constant'"),
        ("tol", math.nan, "The 'tol' parameter must be a float in [0, inf) or None. Got nan"),
        ("class_weight", "auto", "The 'class_weight' parameter must be 'balanced', a dict or"),
        ("validation_fraction", 1.0, "The 'validation_fraction' parameter must be a float in"),
        ("shuffle", "yes", "The 'shuffle' parameter must be a bool. Got 'yes' instead."),
        ("random_state", -3, "The 'random_state' parameter must be an int in [0, 4294967295]"),
    ],
)
def test_bad_options_get_one_line_errors(problem, param, value, expected):
    X, y = problem
    with pytest.raises(ValueError) as e:
        LogisticRegression(**{param: value}).fit(X, y)
    assert str(e.value).startswith(expected) and "\n" not in str(e.value)


def test_the_autograd_engine_takes_weights_and_l2_like_numpy(problem):
    X, y = problem
    params = dict(max_iter=25, learning_rate=0.5, alpha=0.3, class_weight={0: 2.0, 1: 0.5})
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    numpy = LogisticRegression(**params).fit(X, y, sample_weight=w)
    graph = LogisticRegression(engine="autograd", **params).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(graph.cost_history_, numpy.cost_history_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(graph.coef_, numpy.coef_, rtol=0, atol=1e-12)


def test_the_torch_engine_refuses_what_it_does_not_do(problem):
    pytest.importorskip("torch")
    X, y = problem
    with pytest.raises(ValueError, match="The engine 'torch' does not support sample or class "
                       "weights. Use engine='numpy'."):
        LogisticRegression(engine="torch", device="cpu", class_weight="balanced").fit(X, y)
    with pytest.raises(ValueError, match="The 'solver' parameter is 'gram', which needs plain "
                       "full-batch gradient descent; this run has engine='torch'"):
        LogisticRegression(engine="torch", solver="gram").fit(X, y)


def test_the_dense_estimators_take_uint8_images_as_the_lessons_features(cat_data):
    """What load_image_folder and load_catvnoncat give fits directly: uint8 (m, s, s, 3) is
    read as pixel / 255, the same model as from the features."""
    from logicat import images_to_features

    for est in (LogisticRegression(max_iter=30), MLPClassifier(hidden_layer_sizes=(3,),
                                                               max_iter=5, random_state=0)):
        a = clone(est).fit(cat_data.train_x, cat_data.train_y)
        b = clone(est).fit(images_to_features(cat_data.train_x), cat_data.train_y)
        np.testing.assert_array_equal(a.predict_proba(cat_data.test_x),
                                      b.predict_proba(images_to_features(cat_data.test_x)))
