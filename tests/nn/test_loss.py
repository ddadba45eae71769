"""The math: sigmoid, both losses, cost and gradients (vs finite differences and the lesson)."""

import numpy as np
import pytest

from logicat.nn.loss import (
    cost_and_gradients,
    cross_entropy,
    log_sigmoid,
    loss_and_dz,
    sigmoid,
    softplus,
    squared_error,
)

LOSSES = ["cross_entropy", "squared_error"]


def test_sigmoid_extremes_never_overflow_or_warn():
    # pytest turns every warning into an error, so an overflow in exp would fail here.
    z = np.array([-1e308, -1e4, -745.0, 0.0, 745.0, 1e4, 1e308])
    a = sigmoid(z)
    assert a.tolist()[0:2] == [0.0, 0.0]
    assert a[3] == 0.5
    assert a.tolist()[-2:] == [1.0, 1.0]
    assert np.all((a >= 0) & (a <= 1))
    assert np.all(np.isfinite(log_sigmoid(z)))
    assert log_sigmoid(np.array([-1e4]))[0] == -1e4


def test_sigmoid_matches_the_definition_and_keeps_float32():
    z = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-15, atol=0)
    assert sigmoid(z.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_cross_entropy_is_the_correct_formula(y):
    # -[y log a + (1 - y) log(1 - a)]: both terms carry the minus sign (the notes drop one).
    # Within |z| <= 10 the naive formula is itself accurate (1 - a keeps ~12 digits).
    z = np.linspace(-10, 10, 81)
    a = 1 / (1 + np.exp(-z))
    naive = -(y * np.log(a) + (1 - y) * np.log(1 - a))
    np.testing.assert_allclose(cross_entropy(z, np.full_like(z, y)), naive, rtol=1e-9, atol=1e-15)
    assert np.all(cross_entropy(z, np.full_like(z, y)) >= 0)


def test_losses_stay_finite_when_the_prediction_rounds_to_0_or_1():
    z = np.array([-1e4, -800.0, 800.0, 1e4])
    # a = sigma(z) is exactly 0 or 1 here: log(a) would be -inf, the loss from z is exact.
    wrong = np.array([1.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(cross_entropy(z, wrong), np.abs(z))
    np.testing.assert_array_equal(cross_entropy(z, 1 - wrong), np.zeros(4))
    np.testing.assert_array_equal(squared_error(z, wrong), np.full(4, 0.5))
    assert np.all(np.isfinite(softplus(np.array([-1e308, 1e308]))))


def test_squared_error_is_half_the_squared_difference():
    z = np.array([-2.0, 0.0, 3.0])
    y = np.array([1.0, 0.0, 1.0])
    np.testing.assert_allclose(squared_error(z, y), 0.5 * (sigmoid(z) - y) ** 2, rtol=1e-15)


@pytest.mark.parametrize("loss", LOSSES)
def test_dz_matches_finite_differences(loss):
    z = np.linspace(-6, 6, 25)
    y = (np.arange(25) % 2).astype(float)
    h = 1e-6
    numeric = (loss_and_dz(z + h, y, loss)[0] - loss_and_dz(z - h, y, loss)[0]) / (2 * h)
    np.testing.assert_allclose(loss_and_dz(z, y, loss)[1], numeric, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("loss", LOSSES)
def test_gradients_match_central_finite_differences(loss, rng):
    m, n = 30, 7
    X = rng.normal(size=(m, n))
    y = (rng.random(m) < 0.5).astype(float)
    w, b = rng.normal(size=n), 0.3
    cost, dw, db = cost_and_gradients(w, b, X, y, loss)
    h = 1e-6
    numeric_dw = np.array(
        [
            (
                cost_and_gradients(w + h * e, b, X, y, loss)[0]
                - cost_and_gradients(w - h * e, b, X, y, loss)[0]
            )
            / (2 * h)
            for e in np.eye(n)
        ]
    )
    numeric_db = (
        cost_and_gradients(w, b + h, X, y, loss)[0] - cost_and_gradients(w, b - h, X, y, loss)[0]
    ) / (2 * h)
    np.testing.assert_allclose(dw, numeric_dw, rtol=1e-6, atol=1e-10)
    assert db == pytest.approx(numeric_db, rel=1e-6, abs=1e-10)
    assert cost == pytest.approx(np.mean(loss_and_dz(X @ w + b, y, loss)[0]))


def test_cost_and_gradients_equal_the_lessons_column_formulas(cat_features):
    X, y = cat_features[0], cat_features[1].astype(float)
    rng = np.random.default_rng(1)
    w, b = rng.normal(0, 0.01, X.shape[1]), -0.2
    # The lesson's propagate(): examples as columns, X of shape (n_x, m).
    Xc, Y = X.T, y.reshape(1, -1)
    m = Xc.shape[1]
    A = 1 / (1 + np.exp(-(np.dot(w.reshape(-1, 1).T, Xc) + b)))
    lesson_cost = -1 / m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    lesson_dw = (1 / m * np.dot(Xc, (A - Y).T)).ravel()
    lesson_db = 1 / m * np.sum(A - Y)
    cost, dw, db = cost_and_gradients(w, b, X, y)
    assert cost == pytest.approx(lesson_cost, rel=1e-12)
    np.testing.assert_allclose(dw, lesson_dw, rtol=1e-10, atol=1e-15)
    assert db == pytest.approx(lesson_db, rel=1e-12)


def test_zero_parameters_cost_log_2(cat_features):
    X, y = cat_features[0], cat_features[1].astype(float)
    cost, _, _ = cost_and_gradients(np.zeros(X.shape[1]), 0.0, X, y)
    assert cost == pytest.approx(np.log(2), rel=1e-15)


def test_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="The 'loss' parameter must be one of"):
        loss_and_dz(np.zeros(2), np.zeros(2), "hinge")


# ------------------------------------------------------------ shapes are checked where they enter
def _cost_shapes(w=(5,), X=(8, 5), y=(8,)):
    rng = np.random.default_rng(0)
    return cost_and_gradients(rng.normal(size=w), 0.1, rng.normal(size=X),
                              (rng.random(y) > 0.5).astype(float))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # the course's layout: w as a column (n, 1) once gave a wrong cost and a (2, 3) dw
        (lambda: _cost_shapes(w=(5, 1)), r"w must have shape \(5,\). Got shape \(5, 1\)"),
        (lambda: _cost_shapes(w=(4,)), r"w must have shape \(5,\). Got shape \(4,\)"),
        (lambda: _cost_shapes(X=(8,), w=(8,)), r"X must be a 2-D array of numbers"),
        (lambda: _cost_shapes(y=(8, 1)), r"y must have shape \(8,\), one value per row of X"),
        (lambda: _cost_shapes(y=(7,)), r"y must have shape \(8,\), one value per row of X"),
        (lambda: cross_entropy(np.zeros(3), np.zeros(4)), r"y must have the shape of z"),
        (lambda: squared_error(np.zeros((3, 1)), np.zeros(3)), r"y must have the shape of z"),
        (lambda: loss_and_dz(np.zeros(3), np.zeros((1, 3)), "cross_entropy"),
         r"y must have the shape of z, \(3,\)"),
    ],
)
def test_every_public_math_function_checks_its_shapes(call, message):
    from logicat.core.errors import ShapeError

    with pytest.raises(ShapeError, match=message) as e:
        call()
    assert "\n" not in str(e.value) and "instead" in str(e.value)


def test_the_network_and_gradient_descent_check_their_shapes():
    from logicat import gradient_descent
    from logicat.core.errors import ShapeError
    from logicat.nn.network import Network

    params = [np.zeros((5, 3)), np.zeros(3), np.zeros(3), np.zeros(1)]
    network = Network.from_params(params)
    with pytest.raises(ShapeError, match=r"X must have 5 columns \(features\). Got shape \(4, 6\)"):
        network.cost_and_gradients(np.zeros((4, 6)), np.zeros(4))
    with pytest.raises(ShapeError, match=r"layer 2 of 2: expected w of shape \(3,\) and b of "
                       r"shape \(1,\). Got shapes \(4,\) and \(1,\)"):
        Network.from_params([np.zeros((5, 3)), np.zeros(3), np.zeros(4), np.zeros(1)])
    with pytest.raises(ShapeError, match=r"w must have shape \(n,\). Got shape \(5, 1\)"):
        gradient_descent(lambda w, b: (0.0, w, 0.0), np.zeros((5, 1)), 0.0, learning_rate=0.1,
                         max_iter=1)
