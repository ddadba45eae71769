"""The training options beyond the lesson, each against a reference behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.preprocessing import StandardScaler

from logicat import DivergenceError, LogisticRegression, MLPClassifier, ParameterError
from logicat.engines.numba.fused import FusedObjective
from logicat.nn.hyperparameters import OPTIMIZERS
from logicat.training.callbacks import EarlyStopping, TerminateOnNaN
from logicat.training.descent import gradient_descent
from logicat.training.optimizers import make_optimizer
from logicat.training.schedules import make_schedule


@pytest.fixture(scope="module")
def problem():
    """A small standardised binary problem, (X (200, 5), y (200,)), learned in milliseconds."""
    X, y = make_classification(n_samples=200, n_features=5, n_informative=3, random_state=0)
    return StandardScaler().fit_transform(X), y


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


# ---------------------------------------------------------------- optimizers: measured speed-up
@pytest.mark.slow  # the 2000 reference iterations: ~3 s on an idle 2-core machine
def test_momentum_nesterov_and_adam_reach_the_reference_cost_in_fewer_iterations(cat_features):
    """The reference cost is what plain GD reaches after the lesson's 2000 iterations."""
    X, y = cat_features[:2]
    reference = LogisticRegression().fit(X, y).cost_history_[-1]

    def iterations_to_reference(optimizer: str) -> int:
        reached = LogisticRegression(
            optimizer=optimizer, callbacks=[lambda s: s.cost <= reference]
        ).fit(X, y)
        assert reached.cost_history_[-1] <= reference
        return reached.n_iter_ - 1  # the index of the first cost <= reference

    counts = {opt: iterations_to_reference(opt) for opt in ("momentum", "nesterov", "adam")}
    # Measured at lr 0.005 (mu 0.9; Adam's betas 0.9, 0.999): about 199, 187 and 151.
    assert all(n < 2000 // 4 for n in counts.values()), counts


@pytest.mark.parametrize("decay", [0.0, 0.3], ids=["no-decay", "weight-decay"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_update_rules_match_torch_optim(name, decay):
    """The same gradients through logicat's optimizer and torch.optim give the same iterates:
    for a weight (which decays) and a bias (which does not), every rule of the registry."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    A = rng.normal(size=(7, 7))
    H = A @ A.T / 7 + np.eye(7)  # a convex quadratic J = 1/2 p^T H p - c^T p, p = (w, b)
    c = rng.normal(size=7)
    w, b = np.zeros(6), np.zeros(1)
    tw, tb = (torch.zeros(k, dtype=torch.float64, requires_grad=True) for k in (6, 1))
    ours = make_optimizer(name, momentum=0.8, weight_decay=decay)
    groups = [{"params": [tw], "weight_decay": decay}, {"params": [tb], "weight_decay": 0.0}]
    theirs = {
        "gd": lambda: torch.optim.SGD(groups, lr=0.1),
        "momentum": lambda: torch.optim.SGD(groups, lr=0.1, momentum=0.8),
        "nesterov": lambda: torch.optim.SGD(groups, lr=0.1, momentum=0.8, nesterov=True),
        "adam": lambda: torch.optim.Adam(groups, lr=0.1, eps=1e-8),
        "adamw": lambda: torch.optim.AdamW(groups, lr=0.1, eps=1e-8),
    }[name]()
    for _ in range(25):
        g = H @ np.concatenate([w, b]) - c
        ours.step([w, b], [g[:6], g[6:]], 0.1)
        theirs.zero_grad()
        tg = torch.from_numpy(H @ torch.cat([tw, tb]).detach().numpy() - c)
        tw.grad, tb.grad = tg[:6].clone(), tg[6:].clone()
        theirs.step()
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, tb.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert w.any()


def test_adamw_without_decay_is_adam_and_decay_shrinks_the_weights_only(problem):
    X, y = problem
    params = dict(hidden_layer_sizes=(5,), init="he_normal", random_state=0, max_iter=40,
                  learning_rate=0.01)
    adam = MLPClassifier(optimizer="adam", **params).fit(X, y)
    adamw = MLPClassifier(optimizer="adamw", **params).fit(X, y)
    np.testing.assert_array_equal(adam.coefs_[0], adamw.coefs_[0])
    decayed = MLPClassifier(optimizer="adamw", weight_decay=5.0, **params).fit(X, y)
    assert np.linalg.norm(decayed.coefs_[0]) < 0.9 * np.linalg.norm(adamw.coefs_[0])
    assert decayed.solver_ == "primal"
    with pytest.raises(ParameterError, match="weight decay"):
        LogisticRegression(solver="gram", weight_decay=0.1).fit(X, y)


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


# ---------------------------------------------------------------- schedules
def test_schedules_follow_their_formulas():
    assert make_schedule("constant", 0.1, 0.5, 100)(7) == 0.1
    assert make_schedule("inverse", 0.1, 0.5, 100)(4) == pytest.approx(0.1 / 3)
    assert make_schedule("exponential", 0.1, 0.5, 100)(2) == pytest.approx(0.1 * math.exp(-1))
    cosine = make_schedule("cosine", 0.1, 0.0, 100)
    assert cosine(0) == 0.1 and cosine(50) == pytest.approx(0.05) and cosine(100) < 1e-12


def test_the_loop_uses_the_scheduled_rates(problem):
    X, y = problem
    seen = []
    LogisticRegression(learning_rate=0.1, max_iter=5, lr_schedule=lambda t: 0.1 / (t + 1),
                       callbacks=[lambda s: seen.append(s.learning_rate)]).fit(X, y)
    assert seen == [0.1 / (t + 1) for t in range(5)]


# ---------------------------------------------------------------- stopping
def test_tol_stops_early_without_warning(problem):
    X, y = problem
    clf = LogisticRegression(learning_rate=0.5, max_iter=5000, tol=1e-6).fit(X, y)
    assert 10 < clf.n_iter_ < 5000
    changes = np.abs(np.diff(clf.cost_history_[-6:]))
    assert np.all(changes < 1e-6)  # the last n_iter_no_change=5 iterations moved < tol each
    assert abs(clf.cost_history_[-7] - clf.cost_history_[-6]) >= 1e-6


def test_tol_does_not_stop_the_lessons_oscillating_start(cat_features):
    """The lesson's cost rises and oscillates for ~33 iterations; that is not convergence."""
    X, y = cat_features[:2]
    with pytest.warns(ConvergenceWarning, match="max_iter=40 reached before the cost settled"):
        clf = LogisticRegression(max_iter=40, tol=1e-4).fit(X, y)
    assert clf.n_iter_ == 40 and clf.cost_history_[5] > clf.cost_history_[0]


def test_tol_warns_when_max_iter_comes_first(problem):
    X, y = problem
    with pytest.warns(ConvergenceWarning, match="max_iter=20 reached"):
        clf = LogisticRegression(learning_rate=0.01, max_iter=20, tol=1e-9).fit(X, y)
    assert clf.n_iter_ == 20


def test_early_stopping_keeps_the_best_validation_cost():
    # Few examples, many features: the training cost keeps falling, the validation cost turns.
    X, y = make_classification(n_samples=80, n_features=300, n_informative=5, random_state=0)
    clf = LogisticRegression(learning_rate=0.5, max_iter=2000, early_stopping=True,
                             validation_fraction=0.25, n_iter_no_change=10, random_state=0)
    clf.fit(X, y)
    val = clf.validation_cost_history_
    assert clf.n_iter_ < 2000 and len(val) == clf.n_iter_
    assert np.argmin(val) == clf.n_iter_ - 11  # stopped 10 iterations after the best
    assert np.all(np.diff(clf.cost_history_) < 0)  # while the training cost still fell


def test_early_stopping_callback(problem):
    X, y = problem
    stopper = EarlyStopping(patience=3, min_delta=1e-3)
    clf = LogisticRegression(learning_rate=0.5, max_iter=5000, callbacks=[stopper]).fit(X, y)
    assert clf.n_iter_ == stopper.stopped_at + 1 < 5000


def test_divergence_is_one_error_not_nan(problem):
    X, y = problem
    with pytest.raises(DivergenceError, match="iteration 0 .*the parameters overflowed"):
        LogisticRegression(learning_rate=1e10, max_iter=5).fit(X * 1e300, y)


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


def test_plateau_rules():
    from logicat.training.rules import Plateau

    costs = [0.69, 0.74, 0.75, 0.87, 0.77, 0.90, 0.76, 0.88]  # the lesson's start: up and down
    best, change = Plateau(1e-4, 5, "best"), Plateau(1e-4, 5, "change")
    assert [best.update(c) for c in costs][5] is True  # no new best for 5 iterations
    assert not any(change.update(c) for c in costs)  # but the cost is far from settled
    settled = Plateau(1e-3, 2, "change")
    assert [settled.update(c) for c in (1.0, 0.5, 0.4995, 0.4991)] == [False, False, False, True]


def test_the_dense_estimators_take_uint8_images_as_the_lessons_features(cat_data):
    """What load_image_folder and load_catvnoncat give fits directly: uint8 (m, s, s, 3) is
    read as pixel / 255, the same model as from the features."""
    from logicat import MLPClassifier, images_to_features

    for est in (LogisticRegression(max_iter=30), MLPClassifier(hidden_layer_sizes=(3,),
                                                               max_iter=5, random_state=0)):
        a = clone(est).fit(cat_data.train_x, cat_data.train_y)
        b = clone(est).fit(images_to_features(cat_data.train_x), cat_data.train_y)
        np.testing.assert_array_equal(a.predict_proba(cat_data.test_x),
                                      b.predict_proba(images_to_features(cat_data.test_x)))
