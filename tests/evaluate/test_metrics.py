"""logicat.evaluate.metrics: scikit-learn's metrics of a trained model, checked against direct
sums."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_score

from logicat import LogisticRegression
from logicat.core.errors import ParameterError
from logicat.evaluate.metrics import (
    METRICS,
    classification_metrics,
    cross_validate_metrics,
    model_metrics,
)
from logicat.nn.loss import cross_entropy


@pytest.fixture(scope="module")
def trained(cat_features):
    X_train, y_train, X_test, y_test = cat_features
    clf = LogisticRegression(learning_rate=0.005, max_iter=100).fit(X_train, y_train)
    return clf, X_test, y_test


def test_metrics_of_a_trained_model_match_direct_computation(trained):
    clf, X, y = trained
    m = model_metrics(clf, X, y)
    predicted = clf.predict(X)
    p = clf.predict_proba(X)[:, 1]
    tp = int(np.sum((predicted == 1) & (y == 1)))
    fp = int(np.sum((predicted == 1) & (y == 0)))
    fn = int(np.sum((predicted == 0) & (y == 1)))
    tn = int(np.sum((predicted == 0) & (y == 0)))
    assert m.n_samples == 50 and m.n_positive == int(y.sum())
    assert m.confusion_matrix.tolist() == [[tn, fp], [fn, tp]]
    assert m.accuracy == pytest.approx(clf.score(X, y), abs=1e-15)
    assert m.precision == pytest.approx(tp / (tp + fp))
    assert m.recall == pytest.approx(tp / (tp + fn))
    assert m.f1 == pytest.approx(2 * tp / (2 * tp + fp + fn))
    # ROC AUC = P(a random positive scores above a random negative), ties counting 1/2.
    pos, neg = p[y == 1], p[y == 0]
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert m.roc_auc == pytest.approx(pairs.mean(), abs=1e-12)
    # log loss is the lesson's cost J, computed here from the logits.
    assert m.log_loss == pytest.approx(cross_entropy(clf.decision_function(X), y).mean(), abs=1e-12)
    assert m.brier == pytest.approx(np.mean((p - y) ** 2), abs=1e-15)
    assert set(m.scalars()) == {key for key, _ in METRICS}


def test_calibration_curve_is_the_binned_fraction_of_positives(trained):
    clf, X, y = trained
    m = model_metrics(clf, X, y, n_bins=5)
    p = clf.predict_proba(X)[:, 1]
    bins = np.minimum((p * 5).astype(int), 4)  # equal-width bins of [0, 1]
    nonempty = np.unique(bins)
    prob_true, prob_pred = m.calibration
    np.testing.assert_allclose(prob_true, [y[bins == b].mean() for b in nonempty], atol=1e-12)
    np.testing.assert_allclose(prob_pred, [p[bins == b].mean() for b in nonempty], atol=1e-12)


def test_as_dict_is_plain_json():
    import json

    m = classification_metrics([0, 1, 1, 0, 1], [0.1, 0.8, 0.4, 0.6, 0.9])
    d = json.loads(json.dumps(m.as_dict()))
    assert d["accuracy"] == pytest.approx(0.6)
    assert d["confusion_matrix"] == [[1, 1], [1, 2]]
    assert d["roc_auc"] == pytest.approx(5 / 6)


def test_string_labels_and_threshold():
    y = np.array(["dog", "cat", "cat", "dog"])
    m = classification_metrics(y, [0.2, 0.9, 0.55, 0.7], pos_label="cat", threshold=0.6)
    # decisions at 0.6: dog? no(0.2) yes(0.9) no(0.55) yes(0.7) -> cat, cat is positive
    assert m.confusion_matrix.tolist() == [[1, 1], [1, 1]]
    assert m.roc_auc == pytest.approx(0.75)


def test_one_class_only_has_no_roc_auc():
    m = classification_metrics([1, 1, 1], [0.2, 0.9, 0.7])
    assert m.roc_auc is None
    assert m.recall == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("y", "p", "kwargs", "message"),
    [
        ([0, 1], [0.5], {}, "same m"),
        ([0, 1, 2], [0.1, 0.2, 0.3], {}, "at most 2 labels"),
        ([0, 1], [0.1, 1.5], {}, "probabilities in \\[0, 1\\]. Got 1.5 at index 1"),
        ([0, 1], [0.1, np.nan], {}, "probabilities"),
        (["a", "b"], [0.1, 0.9], {"pos_label": 1}, "'pos_label' parameter"),
        ([0, 1], [0.1, 0.9], {"threshold": 2}, "'threshold' parameter"),
        ([0, 1], [0.1, 0.9], {"n_bins": 0}, "'n_bins' parameter"),
    ],
)
def test_bad_input_is_refused_clearly(y, p, kwargs, message):
    with pytest.raises(ValueError, match=message):
        classification_metrics(y, p, **kwargs)


def test_cross_validation_uses_the_same_folds_as_scikit_learn(cat_features):
    X, y, _, _ = cat_features
    clf = LogisticRegression(learning_rate=0.005, max_iter=30)
    folds = []
    scores = cross_validate_metrics(clf, X, y, cv=3, random_state=0,
                                    on_fold=lambda i, m: folds.append(i))
    assert folds == [0, 1, 2]
    assert {key: v.shape for key, v in scores.items()} == {key: (3,) for key, _ in METRICS}
    expected = cross_val_score(
        clone(clf), X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0), scoring="accuracy"
    )
    np.testing.assert_allclose(scores["accuracy"], expected, atol=1e-15)
    assert not hasattr(clf, "coef_")  # the estimator passed in is cloned, never fitted


def test_cross_validation_refuses_impossible_folds():
    X = np.zeros((6, 2))
    y = np.array([0, 0, 0, 0, 1, 1])
    clf = LogisticRegression(max_iter=1)
    with pytest.raises(ValueError, match="'cv' parameter must be an int >= 2"):
        cross_validate_metrics(clf, X, y, cv=1)
    with pytest.raises(ValueError, match="at most the number of examples of each class \\(2\\)"):
        cross_validate_metrics(clf, X, y, cv=3)


def _probabilities(m=50, seed=0):
    """m labels (2 in 3 positive, as the cat test set) and imperfect p(positive)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(m) < 2 / 3).astype(int)
    return y, np.clip(0.2 + 0.6 * y + rng.normal(0, 0.25, m), 0, 1)


def test_each_resample_is_scored_as_scikit_learn_scores_it():
    from logicat.evaluate.metrics import INTERVAL_METRICS, resampled_metrics

    y, p = _probabilities()
    rows = np.vstack([np.arange(50), np.random.default_rng(1).integers(0, 50, (20, 50)),
                      np.flatnonzero(y)[np.zeros(50, int)]])  # the last: one class only
    values = resampled_metrics(y, p, rows)
    for b, row in enumerate(rows):
        direct = classification_metrics(y[row], p[row])
        for key in INTERVAL_METRICS:
            assert values[key][b] == pytest.approx(getattr(direct, key), rel=1e-12, abs=1e-15)


def test_a_bootstrap_interval_holds_the_estimate_and_is_as_wide_as_50_images_allow():
    from logicat.evaluate.metrics import bootstrap_intervals

    y, p = _probabilities()
    direct = classification_metrics(y, p)
    intervals = bootstrap_intervals(y, p)
    assert intervals == bootstrap_intervals(y, p)  # seeded
    for key, (low, high) in intervals.items():
        assert low <= getattr(direct, key) <= high, key
    low, high = intervals["accuracy"]
    binomial = 2 * 1.96 * np.sqrt(direct.accuracy * (1 - direct.accuracy) / 50)
    assert 0.8 * binomial < high - low < 1.2 * binomial  # the normal approximation's width
    narrower = bootstrap_intervals(y, p, level=0.5)["accuracy"]
    assert low <= narrower[0] <= narrower[1] <= high


def test_equal_mass_bins_each_hold_a_tenth_of_the_examples():
    from logicat.evaluate.metrics import expected_calibration_error

    y, p = _probabilities(m=200)
    order = np.argsort(p, kind="stable")
    by_hand = sum(abs(y[part].sum() - p[part].sum()) for part in np.split(order, 10)) / 200
    assert expected_calibration_error(y, p, strategy="quantile") == pytest.approx(by_hand,
                                                                                rel=1e-12)
    assert expected_calibration_error(y, p) == classification_metrics(y, p).ece  # equal width
    perfect = np.repeat([0.25, 0.75], 100)  # each bin of 20: 5 (or 15) right of 20
    labels = np.r_[np.tile([1, 0, 0, 0], 25), np.tile([1, 1, 1, 0], 25)]
    assert expected_calibration_error(labels, perfect, strategy="quantile") == 0
    with pytest.raises(ParameterError, match="The 'strategy' parameter must be one of"):
        expected_calibration_error(y, p, strategy="kmeans")
