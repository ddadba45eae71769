"""The solvers: the span ("gram") solver takes the primal solver's steps; "auto" is a rule."""

import os
import signal
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from logicat import DivergenceError, LogisticRegression, PrintCost
from logicat.training.solvers import GramSolver, worth_it
from tests.conftest import invoke


@pytest.mark.slow  # two 2000-iteration runs, one of them primal (~3 s)
def test_auto_takes_gram_for_the_lessons_run_with_the_primal_costs_to_1e_12(cat_features):
    """The default run goes through solver="auto", which picks "gram": all 2000 costs agree
    with the primal solver's to 1e-12, and so do the weights and the accuracies."""
    X, y, X_test, y_test = cat_features
    auto = LogisticRegression().fit(X, y)
    primal = LogisticRegression(solver="primal").fit(X, y)
    assert (auto.solver_, primal.solver_) == ("gram", "primal")
    assert auto.n_iter_ == primal.n_iter_ == 2000
    np.testing.assert_allclose(auto.cost_history_, primal.cost_history_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(auto.coef_, primal.coef_, rtol=0, atol=1e-12)
    assert auto.intercept_ == pytest.approx(primal.intercept_, abs=1e-12)
    for Xs in (X, X_test):
        np.testing.assert_array_equal(auto.predict(Xs), primal.predict(Xs))


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_same_costs_and_weights_as_the_primal_solver(cat_features, loss):
    X, y, _, _ = cat_features
    span = LogisticRegression(max_iter=300, loss=loss, solver="gram").fit(X, y)
    primal = LogisticRegression(max_iter=300, loss=loss, solver="primal").fit(X, y)
    np.testing.assert_allclose(span.cost_history_, primal.cost_history_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(span.coef_, primal.coef_, rtol=0, atol=1e-12)
    assert span.intercept_ == pytest.approx(primal.intercept_, abs=1e-12)


def test_auto_is_gram_only_for_plain_full_batch_gradient_descent(cat_features):
    X, y, _, _ = cat_features
    printed = []
    clf = LogisticRegression(max_iter=300, callbacks=[PrintCost(100, printed.append)]).fit(X, y)
    assert clf.solver_ == "gram"  # PrintCost reads only the cost
    assert printed[0] == "Cost after iteration 0: 0.693147" and len(printed) == 3
    for params in ({"alpha": 0.1}, {"optimizer": "momentum"}, {"batch_size": 32},
                   {"lr_schedule": "inverse", "lr_decay": 0.01}, {"early_stopping": True},
                   {"callbacks": [lambda state: None]}, {"engine": "autograd", "max_iter": 120},
                   {"max_iter": 40}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            run = LogisticRegression(**{"max_iter": 300, **params}).fit(X, y)
        assert run.solver_ == "primal", params
    # tol only reads the cost: the span solver serves it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert LogisticRegression(max_iter=300, tol=1e-9).fit(X, y).solver_ == "gram"


def test_asking_for_gram_where_it_cannot_run_says_why(cat_features):
    X, y, _, _ = cat_features
    with pytest.raises(ValueError, match="'gram', which needs plain full-batch gradient "
                       "descent; this run has optimizer='adam' .it needs 'gd'., L2"):
        LogisticRegression(solver="gram", optimizer="adam", alpha=1.0).fit(X, y)


def test_float32_features_give_float32_weights_and_float64_quality(cat_features):
    X, y, _, _ = cat_features
    ref = LogisticRegression(max_iter=300, solver="primal").fit(X, y)
    fast32 = LogisticRegression(max_iter=300, dtype="float32").fit(X, y)
    assert fast32.solver_ == "gram" and fast32.coef_.dtype == np.float32
    np.testing.assert_allclose(fast32.cost_history_, ref.cost_history_, rtol=0, atol=1e-7)


class StopAt:
    cost_only = True

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def __call__(self, state):
        return state.iteration == self.iteration


@pytest.mark.parametrize("stop_at", [123, 249, 250, 600])  # inside a chunk, at its ends
def test_a_callback_stops_it_after_the_right_iteration(cat_features, stop_at):
    X, y, _, _ = cat_features
    stopped = LogisticRegression(max_iter=1000, callbacks=[StopAt(stop_at)]).fit(X, y)
    ref = LogisticRegression(max_iter=stop_at + 1, solver="primal").fit(X, y)
    assert stopped.solver_ == "gram" and stopped.n_iter_ == stop_at + 1
    np.testing.assert_allclose(stopped.coef_, ref.coef_, rtol=0, atol=1e-13)
    np.testing.assert_allclose(stopped.cost_history_, ref.cost_history_, rtol=0, atol=1e-12)


def test_tol_stops_both_solvers_at_the_same_iteration(cat_features):
    X, y, _, _ = cat_features
    params = dict(max_iter=3000, tol=1e-4, n_iter_no_change=3)
    span = LogisticRegression(**params).fit(X, y)
    primal = LogisticRegression(**params, solver="primal").fit(X, y)
    assert span.solver_ == "gram" and span.stopped_ == primal.stopped_ == "converged"
    assert span.n_iter_ == primal.n_iter_ < 3000 and span.n_iter_ % 250 != 0  # inside a chunk
    np.testing.assert_allclose(span.coef_, primal.coef_, rtol=0, atol=1e-12)


def test_overflow_is_divergence_not_nan():
    X = np.full((4, 3), 1e200)
    with pytest.raises(DivergenceError, match="learning rate 0.005"):
        LogisticRegression(max_iter=300, solver="gram").fit(X, [0, 1, 0, 1])


def test_the_solver_alone_runs_chunks_and_rewinds(cat_features):
    X, y, _, _ = cat_features
    solver = GramSolver(X, y.astype(float), [np.zeros(X.shape[1]), np.zeros(1)], "cross_entropy")
    costs = solver.run(0, [0.005] * 10)
    assert costs[0] == pytest.approx(np.log(2), rel=1e-15) and len(costs) == 10
    after_4 = solver.params_after(4)
    solver.rewind(4)
    for a, b in zip(solver.params(), after_4, strict=True):
        np.testing.assert_array_equal(a, b)
    again = solver.run(4, [0.005] * 6)
    np.testing.assert_allclose(again, costs[4:], rtol=0, atol=1e-15)


def test_worth_it_only_when_m_is_small_against_n_and_the_run_is_long():
    assert worth_it(209, 12288, 2000)
    assert not worth_it(209, 12288, 20)  # forming K would cost more than the run
    assert not worth_it(100_000, 12288, 2000)  # K would be 100k x 100k


def test_ctrl_c_saves_a_checkpoint_that_the_primal_solver_resumes(cat_features, tmp_path):
    from logicat.training.callbacks import GracefulInterrupt, TrainingInterrupted

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
    assert resumed.solver_ == "primal"
    whole = LogisticRegression(max_iter=600).fit(X, y)
    np.testing.assert_array_equal(resumed.cost_history_[:301], whole.cost_history_[:301])
    np.testing.assert_allclose(resumed.cost_history_, whole.cost_history_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(resumed.coef_, whole.coef_, rtol=0, atol=1e-12)


def test_logicat_train_takes_the_span_solver_and_says_so_in_the_model(tmp_path):
    from logicat.io.files import read_metadata

    out = tmp_path / "m.safetensors"
    result = invoke("train", "-n", "300", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Cost after iteration 200: 0.466949" in result.output
    assert read_metadata(out)["solver"] == "gram"
    assert not (tmp_path / "m.checkpoint.safetensors").exists()  # Ctrl-C was not pressed
