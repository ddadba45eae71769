"""What a run records of its hyperparameters: a checkpoint refuses other settings or other data
and resumes one written before a new hyperparameter at its default; the tol warning."""

from __future__ import annotations

import pytest
from safetensors import safe_open
from sklearn.exceptions import ConvergenceWarning

from logicat import LogisticRegression
from logicat.training.callbacks import Checkpoint
from tests.training.test_loop import assert_same_fit


def test_resume_refuses_other_hyperparameters_or_data(resume_problem, tmp_path):
    X, y = resume_problem
    path = tmp_path / "ck.safetensors"
    LogisticRegression(max_iter=4, callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    with pytest.raises(ValueError, match="written with learning_rate=0.005, but this estimator "
                       "has learning_rate=0.1"):
        LogisticRegression(max_iter=8, learning_rate=0.1).fit(X, y, resume_from=path)
    with pytest.raises(ValueError, match="other data"):
        LogisticRegression(max_iter=8).fit(X + 1, y, resume_from=path)
    with pytest.raises(ValueError, match="beyond max_iter=3"):
        LogisticRegression(max_iter=3).fit(X, y, resume_from=path)
    # max_iter may grow: continue to 8.
    assert LogisticRegression(max_iter=8).fit(X, y, resume_from=path).n_iter_ == 8


def test_a_checkpoint_from_before_a_new_hyperparameter_resumes_at_its_default(resume_problem,
                                                                            tmp_path):
    """A checkpoint written before a hyperparameter existed ran with its default: it resumes
    when the estimator keeps that default, and is refused (naming it) when it does not."""
    import json

    from safetensors.numpy import load_file, save_file

    X, y = resume_problem
    path = tmp_path / "ck.safetensors"
    LogisticRegression(max_iter=4, callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    with safe_open(path, framework="numpy") as f:
        meta = json.loads(f.metadata()["logicat_checkpoint"])
    del meta["hyperparameters"]["standardize"]  # as if written before standardize existed
    save_file(load_file(path), tmp_path / "old.safetensors",
              metadata={"logicat_checkpoint": json.dumps(meta)})
    resumed = LogisticRegression(max_iter=8).fit(X, y, resume_from=tmp_path / "old.safetensors")
    assert_same_fit(resumed, LogisticRegression(max_iter=8).fit(X, y))
    with pytest.raises(ValueError, match="written with standardize=False, but this estimator "
                       "has standardize=True"):
        LogisticRegression(max_iter=8, standardize=True).fit(
            X, y, resume_from=tmp_path / "old.safetensors")


def test_tol_warns_when_max_iter_comes_first(problem):
    X, y = problem
    with pytest.warns(ConvergenceWarning, match="max_iter=20 reached"):
        clf = LogisticRegression(learning_rate=0.01, max_iter=20, tol=1e-9).fit(X, y)
    assert clf.n_iter_ == 20


def test_going_on_longer_under_a_schedule_that_spans_the_run_warns(resume_problem, tmp_path):
    """max_iter may grow on resumption, but a cosine schedule (or a warm-up) is laid over the
    whole run: the model is then neither the first run's nor a longer run's. Said once; a
    schedule of its epochs alone (constant, inverse, exponential) goes on as it was."""
    import warnings

    X, y = resume_problem
    path = tmp_path / "ck.safetensors"
    params = dict(optimizer="adam", batch_size=32, random_state=0, learning_rate=0.01)
    LogisticRegression(**params, lr_schedule="cosine", max_iter=4,
                       callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    with pytest.warns(UserWarning, match=r"max_iter=4, and its learning-rate schedule spans "
                                         r"the whole run: going on to max_iter=6 follows"):
        LogisticRegression(**params, lr_schedule="cosine", max_iter=6).fit(
            X, y, resume_from=path)
    LogisticRegression(**params, lr_schedule="inverse", lr_decay=0.1, max_iter=4,
                       callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LogisticRegression(**params, lr_schedule="inverse", lr_decay=0.1, max_iter=6).fit(
            X, y, resume_from=path)
