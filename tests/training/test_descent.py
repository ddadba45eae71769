"""Gradient descent: descent on J and ascent on -J take the same steps; divergence is caught."""

import numpy as np
import pytest

from logicat import DivergenceError, cost_and_gradients, gradient_descent


def numpy_objective(X, y, loss):
    """The lesson's (w, b) -> (cost, dw, db) on (X, y)."""
    return lambda w, b: cost_and_gradients(w, b, X, y, loss)


def _problem(rng, m=40, n=6):
    X = rng.normal(size=(m, n))
    y = (X[:, 0] + 0.5 * rng.normal(size=m) > 0).astype(float)
    return X, y


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_ascent_on_minus_j_gives_identical_iterates(loss, rng):
    X, y = _problem(rng)
    J = numpy_objective(X, y, loss)

    def minus_J(w, b):
        cost, dw, db = J(w, b)
        return -cost, -dw, -db

    seen_descent, seen_ascent = [], []
    down = gradient_descent(
        J,
        np.zeros(6),
        0.0,
        learning_rate=0.1,
        max_iter=200,
        callbacks=[lambda s: seen_descent.append((s.coef.copy(), s.intercept))],
    )
    up = gradient_descent(
        minus_J,
        np.zeros(6),
        0.0,
        learning_rate=0.1,
        max_iter=200,
        maximize=True,
        callbacks=[lambda s: seen_ascent.append((s.coef.copy(), s.intercept))],
    )
    for (w1, b1), (w2, b2) in zip(seen_descent, seen_ascent, strict=True):
        np.testing.assert_array_equal(w1, w2)  # bit for bit, every iteration
        assert b1 == b2
    np.testing.assert_array_equal(down.cost_history, -up.cost_history)
    assert down.cost_history[-1] < down.cost_history[0]


def test_each_step_is_theta_minus_alpha_grad(rng):
    X, y = _problem(rng)
    J = numpy_objective(X, y, "cross_entropy")
    w0 = rng.normal(size=6)
    result = gradient_descent(J, w0.copy(), 0.25, learning_rate=0.05, max_iter=1)
    _, dw, db = J(w0, 0.25)
    np.testing.assert_array_equal(result.coef, w0 - 0.05 * dw)
    assert result.intercept == 0.25 - 0.05 * db


def test_a_callback_can_stop_training(rng):
    X, y = _problem(rng)
    result = gradient_descent(
        numpy_objective(X, y, "cross_entropy"),
        np.zeros(6),
        0.0,
        learning_rate=0.1,
        max_iter=100,
        callbacks=[lambda s: s.iteration == 9],
    )
    assert result.n_iter == 10
    assert len(result.cost_history) == 10


def test_non_finite_cost_stops_with_the_learning_rate_named():
    def exploding(w, b):
        return float("inf"), np.zeros_like(w), 0.0

    with pytest.raises(DivergenceError, match=r"iteration 0 .*learning rate 0.3 is too large"):
        gradient_descent(exploding, np.zeros(2), 0.0, learning_rate=0.3, max_iter=10)


def test_a_cost_climbing_far_above_its_start_stops_training():
    # J(w) = 10 w^2 / 2 with alpha = 0.25: each step w <- w - 2.5 w overshoots and |w| grows 1.5x,
    # so J grows 2.25x per iteration: from 15 to over 100 x 15 after 6 steps.
    def hill(w, b):
        return float(5 * w @ w), 10 * w, 0.0

    with pytest.raises(DivergenceError, match=r"iteration 6 \(cost 1946.2\): it climbed to more "
                       r"than 100 times where it started \(15\). The learning rate 0.25 is too "
                       "large"):
        gradient_descent(hill, np.ones(3), 0.0, learning_rate=0.25, max_iter=1000)


def test_ascent_watches_the_negated_objective_for_divergence():
    def valley(w, b):  # F = -5 w^2, maximized by ascent; alpha = 0.25 overshoots as above
        return float(-5 * w @ w), -10 * w, 0.0

    with pytest.raises(DivergenceError, match="iteration 6 "):
        gradient_descent(valley, np.ones(3), 0.0, learning_rate=0.25, max_iter=1000,
                         maximize=True)


@pytest.mark.parametrize("shape", [(6, 1), (1, 6), ()])
def test_weights_of_the_wrong_shape_are_refused(rng, shape):
    X, y = _problem(rng)
    with pytest.raises(ValueError, match="w must have shape \\(n,\\)"):
        gradient_descent(numpy_objective(X, y, "cross_entropy"), np.zeros(shape), 0.0,
                         learning_rate=0.1, max_iter=3)
