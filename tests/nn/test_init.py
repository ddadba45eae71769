"""The dense family's initial parameters: the lesson's zeros, the course's draws exactly."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.nn.init import INITS, initial_params, layer_shapes


def test_the_shapes_chain_and_logistic_regression_starts_at_zero():
    assert layer_shapes(12, (5, 3)) == [(12, 5), (5, 3), (3,)]
    w, b = initial_params("zeros", 12)
    assert w.shape == (12,) and b.shape == (1,) and not w.any() and not b.any()
    assert initial_params("zeros", 4, dtype=np.float32)[0].dtype == np.float32


def test_random_draws_n_0_001_from_a_generator():
    w, _ = initial_params("random", 2000, random_state=7)
    np.testing.assert_array_equal(w, np.random.default_rng(7).normal(0.0, 0.01, 2000))
    assert set(INITS) >= {"zeros", "random", "small_normal", "lecun_normal"}


@pytest.mark.parametrize(("init", "scale"), [("small_normal", lambda n: 0.01),
                                             ("lecun_normal", lambda n: 1 / np.sqrt(n)),
                                             ("he_normal", lambda n: np.sqrt(2 / n))])
def test_an_int_random_state_draws_the_courses_numbers(init, scale):
    """np.random.seed(1), then randn(n_l, n_{l-1}) layer after layer: W[1] first."""
    dims = [12, 5, 3, 1]
    params = initial_params(init, 12, (5, 3), random_state=1)
    np.random.seed(1)  # noqa: NPY002 - the course's global RNG is the reference
    for k in range(1, len(dims)):
        W = np.random.randn(dims[k], dims[k - 1])  # noqa: NPY002
        expected = W / np.sqrt(dims[k - 1]) if init == "lecun_normal" else W * scale(dims[k - 1])
        got = params[2 * (k - 1)]
        np.testing.assert_array_equal(got, expected.T if got.ndim == 2 else expected[0])
        np.testing.assert_array_equal(params[2 * k - 1], 0.0)


def test_glorot_uniform_and_generators():
    params = initial_params("glorot_uniform", 30, (10,), random_state=3)
    bound = np.sqrt(6 / (30 + 10))
    assert np.abs(params[0]).max() <= bound and np.abs(params[0]).max() > 0.8 * bound
    a = initial_params("he_normal", 30, (10,), random_state=np.random.default_rng(5))
    b = initial_params("he_normal", 30, (10,), random_state=np.random.default_rng(5))
    np.testing.assert_array_equal(a[0], b[0])
