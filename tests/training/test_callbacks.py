"""Callbacks: each pickles, clones and joblib-dumps, alone and inside an estimator."""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone

from logicat import LogisticRegression
from logicat.training.callbacks import (
    Checkpoint,
    EarlyStopping,
    GracefulInterrupt,
    PrintCost,
    ProgressBar,
    TerminateOnNaN,
)


def every_callback(tmp_path):
    bar = ProgressBar(force=True, file=io.StringIO())
    return [PrintCost(10), PrintCost(10, write=bar.write), bar, EarlyStopping(3, 1e-3),
            TerminateOnNaN(), Checkpoint(tmp_path / "ck.safetensors", every=5),
            GracefulInterrupt(tmp_path / "ctrl-c.safetensors")]


def test_every_callback_pickles_after_it_has_run(tmp_path, rng):
    """Even a progress bar that has drawn (tqdm does not pickle) and an installed handler."""
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    callbacks = every_callback(tmp_path)
    with callbacks[-1]:
        LogisticRegression(max_iter=12, learning_rate=0.5, callbacks=callbacks).fit(X, y)
    for cb in callbacks:
        again = pickle.loads(pickle.dumps(cb))
        assert type(again) is type(cb)
    bar = pickle.loads(pickle.dumps(callbacks[2]))
    assert bar._bar is None and bar.enabled


def test_an_estimator_with_every_callback_pickles_clones_and_dumps(tmp_path, rng):
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    clf = LogisticRegression(max_iter=12, learning_rate=0.5, callbacks=every_callback(tmp_path))
    clf.fit(X, y)
    for copied in (pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf), clone(clf)):
        assert [type(cb) for cb in copied.callbacks] == [type(cb) for cb in clf.callbacks]
    path = tmp_path / "clf.joblib"
    joblib.dump(clf, path)
    restored = joblib.load(path)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_early_stopping_refuses_an_unknown_monitor():
    with pytest.raises(ValueError, match="The 'monitor' parameter must be one of 'cost', "
                       "'val_cost'. Got 'loss' instead."):
        EarlyStopping(monitor="loss")


def test_the_progress_bar_counts_epochs_shows_the_cost_and_stays(rng):
    from logicat.training.callbacks import ProgressBar

    out = io.StringIO()
    bar = ProgressBar(file=out, force=True, unit="epoch")
    X, y = rng.normal(size=(30, 4)), np.arange(30) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # three epochs: no convergence, no matter
        LogisticRegression(max_iter=3, batch_size=10, early_stopping=True,
                           validation_fraction=0.3, callbacks=[bar]).fit(X, y)
    final = out.getvalue().replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("100%") and "3/3" in final and " epoch" in final, final
    assert "cost=" in final and "validation cost=" in final


def test_verbose_draws_the_bar_and_prints_the_cost_every_tenth(rng, capsys):
    X, y = rng.normal(size=(30, 4)), np.arange(30) % 2
    LogisticRegression(max_iter=50).fit(X, y)
    assert capsys.readouterr() == ("", "")  # silent by default
    LogisticRegression(max_iter=50, verbose=1).fit(X, y)
    quiet = capsys.readouterr()
    assert quiet.out == "" and "50/50" in quiet.err and " iteration" in quiet.err
    LogisticRegression(max_iter=50, verbose=2).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"Cost after iteration {i}" for i in range(0, 50, 5)]
    with pytest.raises(ValueError, match="'verbose' parameter must be an int in \\[0, 2\\]"):
        LogisticRegression(verbose=3).fit(X, y)


def test_the_csv_log_holds_every_iteration_however_the_run_ends(rng, tmp_path):
    import csv

    from logicat.training.callbacks import CSVLog

    X, y = rng.normal(size=(30, 4)), np.arange(30) % 2
    log = tmp_path / "run.csv"
    clf = LogisticRegression(max_iter=7, early_stopping=True, validation_fraction=0.3,
                             n_iter_no_change=2, callbacks=[CSVLog(log)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short run: no convergence, no matter
        clf.fit(X, y)
    rows = list(csv.DictReader(log.read_text().splitlines()))
    assert [int(r["iteration"]) for r in rows] == list(range(clf.n_iter_))
    np.testing.assert_array_equal([float(r["cost"]) for r in rows], clf.cost_history_)
    assert all(float(r["learning_rate"]) == 0.005 and r["validation_cost"] for r in rows)

    def interrupt(state):
        if state.iteration == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        LogisticRegression(max_iter=50, callbacks=[CSVLog(log), interrupt]).fit(X, y)
    assert len(list(csv.DictReader(log.read_text().splitlines()))) == 4  # written on the way out


def test_the_bar_is_drawn_before_the_first_step(rng):
    from logicat.training.callbacks import ProgressBar

    out = io.StringIO()
    seen = []
    bar = ProgressBar(file=out, force=True)
    LogisticRegression(max_iter=2, callbacks=[lambda s: seen.append(out.getvalue()), bar]).fit(
        rng.normal(size=(10, 3)), np.arange(10) % 2)
    assert "0/2" in seen[0]  # before the first iteration's update reached the bar
