"""The estimators' shared base (``logicat.estimators.base``): scikit-learn's own estimator checks
on both dense estimators, and the meta-estimators users combine them with."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from logicat import LogisticRegression, MLPClassifier

# The default hyperparameters (the lesson's run; the course's deep network) pass every check;
# none is marked xfail. The options, all on at once, pass every check but one.
WITH_OPTIONS = LogisticRegression(optimizer="adam", learning_rate=0.05, batch_size=8, alpha=0.1,
                                  standardize=True, random_state=0, max_iter=30)
NETWORK_WITH_OPTIONS = MLPClassifier(hidden_layer_sizes=(6, 4), activation="tanh",
                                     optimizer="adam", learning_rate=0.05, batch_size=8,
                                     alpha=0.1, standardize=True, random_state=0, max_iter=30)


def _expected_failures(estimator) -> dict[str, str]:
    if estimator.batch_size is None:
        return {}
    return {
        "check_sample_weight_equivalence_on_dense_data": "shuffled mini-batches: a repeated "
        "row changes which rows share a batch, so weights and repeats take different paths",
    }


@parametrize_with_checks([LogisticRegression(), WITH_OPTIONS, MLPClassifier(),
                          NETWORK_WITH_OPTIONS], expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def problem():
    """A small binary problem: (X (120, 6), y (120,) in {0, 1})."""
    return make_classification(n_samples=120, n_features=6, n_informative=4, random_state=2)


def test_tags_say_binary_only():
    tags = get_tags(LogisticRegression())
    assert tags.estimator_type == "classifier"
    assert tags.classifier_tags.multi_class is False


def test_multiclass_target_refused(problem):
    X, _ = problem
    y = np.arange(len(X)) % 3
    with pytest.raises(ValueError, match="Only binary classification is supported.*multiclass"):
        LogisticRegression(max_iter=5).fit(X, y)


@pytest.mark.parametrize(
    "labels", [("dog", "cat"), (-1, 1), (2.0, 5.0), (True, False)], ids=str
)
def test_classes_keep_the_original_labels(problem, labels):
    X, y01 = problem
    y = np.where(y01 == 1, labels[0], labels[1])
    clf = LogisticRegression(learning_rate=0.1, max_iter=200).fit(X, y)
    assert clf.classes_.tolist() == sorted(labels)
    assert set(clf.predict(X).tolist()) <= set(labels)
    assert clf.predict(X).dtype == np.asarray(y).dtype
    # predict_proba's column 1 is classes_[1]; predict follows it.
    p1 = clf.predict_proba(X)[:, 1]
    assert np.array_equal(clf.predict(X), np.where(p1 > 0.5, clf.classes_[1], clf.classes_[0]))
    assert clf.score(X, y) > 0.8


def test_pipeline_gridsearch_cross_val_and_clone(problem):
    X, y = problem
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    search = GridSearchCV(pipe, {"logisticregression__learning_rate": [0.001, 0.1]}, cv=3)
    search.fit(X, y)
    # 300 steps of 0.001 barely move from p = 0.5; 0.1 learns the problem.
    assert search.best_params_ == {"logisticregression__learning_rate": 0.1}
    assert search.best_score_ > 0.8
    scores = cross_val_score(LogisticRegression(learning_rate=0.1, max_iter=300), X, y, cv=4)
    assert scores.shape == (4,) and scores.min() > 0.7

    fitted = LogisticRegression(learning_rate=0.1, max_iter=50, alpha=0.5).fit(X, y)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "coef_")
    assert np.array_equal(copy.fit(X, y).coef_, fitted.coef_)


def test_clone_copies_callbacks_with_streams(problem):
    """clone deep-copies the callbacks; a progress bar holding sys.stderr must survive it."""
    from logicat.training.callbacks import PrintCost, ProgressBar

    bar = ProgressBar()
    lines = []
    clf = LogisticRegression(max_iter=3, callbacks=[PrintCost(1, write=lines.append), bar])
    copy = clone(clf)
    assert copy.callbacks[1] is not bar and copy.callbacks[1].file is bar.file
    copy.fit(*problem)
    assert lines == [f"Cost after iteration {i}: {c:f}" for i, c in enumerate(copy.cost_history_)]
