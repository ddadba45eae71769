"""Gradient descent in the span of the examples equals the ordinary loop (logicat.fast.gram)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import logicat.fast.gram as gram
from logicat import DivergenceError, LogisticRegression, PrintCost
from logicat.fast.gram import gram_gradient_descent, worth_it


def _primal(**params):
    """The general loop: a callback that is not cost-only keeps the estimator off the span path."""
    return LogisticRegression(callbacks=[lambda state: None], **params)


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_same_costs_and_weights_as_the_ordinary_loop(cat_features, loss):
    X, y, X_test, _ = cat_features
    span = gram_gradient_descent(
        X,
        y.astype(float),
        np.zeros(X.shape[1]),
        0.0,
        learning_rate=0.005,
        max_iter=300,
        loss=loss,
    )
    primal = _primal(max_iter=300, loss=loss).fit(X, y)
    np.testing.assert_allclose(span.cost_history, primal.cost_history_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(span.coef, primal.coef_, rtol=0, atol=1e-12)
    assert span.intercept == pytest.approx(primal.intercept_, abs=1e-12)


def test_the_estimator_takes_the_span_path_for_the_lessons_run(cat_features, monkeypatch):
    X, y, _, _ = cat_features
    calls = []
    original = gram.gram_gradient_descent
    monkeypatch.setattr(
        gram, "gram_gradient_descent", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    printed = []
    LogisticRegression(max_iter=300, callbacks=[PrintCost(100, printed.append)]).fit(X, y)
    assert calls == [1]
    assert printed[0] == "Cost after iteration 0: 0.693147"
    assert len(printed) == 3
    for params in ({"alpha": 0.1}, {"optimizer": "momentum"}, {"batch_size": 32}, {"tol": 1e-9}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # tol: max_iter comes first
            LogisticRegression(max_iter=300, **params).fit(X, y)
    _primal(max_iter=300).fit(X, y)
    assert calls == [1]  # none of those runs was plain full-batch GD with cost-only callbacks


def test_float32_features_give_float32_weights_and_float64_quality(cat_features):
    X, y, _, _ = cat_features
    ref = _primal(max_iter=300).fit(X, y)
    fast32 = LogisticRegression(max_iter=300, dtype="float32").fit(X, y)
    assert fast32.coef_.dtype == np.float32
    np.testing.assert_allclose(fast32.cost_history_, ref.cost_history_, rtol=0, atol=1e-7)


def test_a_callback_stops_it_after_the_right_iteration(cat_features):
    X, y, _, _ = cat_features
    stop_at = 123  # inside the first chunk of 250

    class StopAt:
        cost_only = True

        def __call__(self, state):
            return state.iteration == stop_at

    stopped = LogisticRegression(max_iter=1000, callbacks=[StopAt()]).fit(X, y)
    ref = _primal(max_iter=stop_at + 1).fit(X, y)
    assert stopped.n_iter_ == stop_at + 1
    np.testing.assert_allclose(stopped.coef_, ref.coef_, rtol=0, atol=1e-13)
    np.testing.assert_allclose(stopped.cost_history_, ref.cost_history_, rtol=0, atol=1e-12)


def test_compiled_and_numpy_steps_agree(rng):
    m = 40
    A = rng.normal(size=(m, 60))
    K, z0, y = A @ A.T, rng.normal(size=m), (rng.random(m) < 0.5).astype(float)
    for cross_entropy in (True, False):
        a1, a2 = np.zeros(m), np.zeros(m)
        h1, h2 = np.empty(100), np.empty(100)
        b1 = gram._run(K, z0, y, a1, 0.1, 0.01, cross_entropy, h1)
        b2 = gram._steps_numpy(K, z0, y, a2, 0.1, 0.01, cross_entropy, h2)
        np.testing.assert_allclose(h1, h2, rtol=1e-13)
        np.testing.assert_allclose(a1, a2, rtol=1e-12, atol=1e-15)
        assert b1 == pytest.approx(b2, rel=1e-12)


def test_overflow_is_divergence_not_nan():
    X = np.full((4, 3), 1e200)
    with pytest.raises(DivergenceError, match="learning rate 0.005"):
        gram_gradient_descent(
            X,
            np.array([0.0, 1, 0, 1]),
            np.zeros(3),
            0.0,
            learning_rate=0.005,
            max_iter=10,
            loss="cross_entropy",
        )


def test_worth_it_only_when_m_is_small_against_n_and_the_run_is_long():
    assert worth_it(209, 12288, 2000)
    assert not worth_it(209, 12288, 20)  # forming K would cost more than the run
    assert not worth_it(100_000, 12288, 2000)  # K would be 100k x 100k


def test_ctrl_c_saves_a_checkpoint_that_the_general_loop_resumes(cat_features, tmp_path):
    import os
    import signal

    from logicat.callbacks import GracefulInterrupt, TrainingInterrupted

    X, y, _, _ = cat_features
    path = tmp_path / "ctrl-c.safetensors"

    class PressCtrlC:
        cost_only = True

        def __call__(self, state):
            if state.iteration == 300:  # inside the second chunk of 250
                os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted) as e, GracefulInterrupt(path) as interrupt:
        LogisticRegression(max_iter=600, callbacks=[PressCtrlC(), interrupt]).fit(X, y)
    assert e.value.iteration == 301
    resumed = LogisticRegression(max_iter=600).fit(X, y, resume_from=path)
    whole = LogisticRegression(max_iter=600).fit(X, y)
    np.testing.assert_array_equal(resumed.cost_history_[:301], whole.cost_history_[:301])
    np.testing.assert_allclose(resumed.cost_history_, whole.cost_history_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(resumed.coef_, whole.coef_, rtol=0, atol=1e-12)


def test_logicat_train_takes_the_span_path(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from logicat.cli import main

    calls = []
    original = gram.gram_gradient_descent
    monkeypatch.setattr(
        gram, "gram_gradient_descent", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    out = tmp_path / "m.safetensors"
    result = CliRunner().invoke(main, ["train", "-n", "300", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert calls == [1]
    assert "Cost after iteration 200: 0.466949" in result.output
    assert not (tmp_path / "m.checkpoint.safetensors").exists()  # Ctrl-C was not pressed
