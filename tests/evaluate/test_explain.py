"""``logicat.evaluate.explain`` and ``logicat explain``: the contributions of logistic
regression add up to its logit, gradient x input agrees across the three engines and with
finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.core.errors import ParameterError
from logicat.evaluate.explain import explain


@pytest.mark.parametrize("name", ["logistic", "standardized"])
def test_contributions_add_up_to_the_logit_minus_b(fitted_models, cat_data, name):
    model = fitted_models[name]
    explanation = explain(model, cat_data.test_x)
    assert explanation.method == "contributions" and explanation.values.shape == (50, 64, 64, 3)
    z = model.decision_function(model.features(cat_data.test_x))
    np.testing.assert_allclose(explanation.values.sum(axis=(1, 2, 3)) + explanation.offset, z,
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(explanation.logit, z, rtol=0, atol=1e-10)
    assert explanation.offset == model.tensors["intercept"][0]
    np.testing.assert_array_equal(explanation.pixel_map, explanation.values.sum(axis=3))


def test_gradient_times_input_is_the_contributions_without_standardisation(fitted_models, cat_data):
    contributions = explain(fitted_models["logistic"], cat_data.test_x[:5])
    gradient = explain(fitted_models["logistic"], cat_data.test_x[:5], method="gradient_input")
    np.testing.assert_allclose(gradient.values, contributions.values, rtol=0, atol=1e-14)
    assert gradient.offset is None


@pytest.mark.parametrize("name", ["standardized", "network"])
def test_the_three_engines_give_one_gradient(fitted_models, cat_data, name):
    pytest.importorskip("torch")
    images = cat_data.test_x[:4]
    numpy, autograd, torch = (explain(fitted_models[name], images, "gradient_input", engine)
                              for engine in ("numpy", "autograd", "torch"))
    for other in (autograd, torch):
        np.testing.assert_allclose(other.values, numpy.values, rtol=0, atol=1e-10)
        np.testing.assert_allclose(other.logit, numpy.logit, rtol=0, atol=1e-10)


def test_the_gradient_against_finite_differences(fitted_models, cat_data):
    """dz/dx from the backward pass against central differences of z, at 20 random inputs."""
    from logicat.evaluate.explain import _logit_gradient

    model = fitted_models["network"]
    X = model.features(cat_data.test_x[:1])
    z, grad = _logit_gradient(model, X, "numpy")
    h = 1e-6
    for j in np.random.default_rng(0).choice(X.shape[1], 20, replace=False):
        up, down = X.copy(), X.copy()
        up[0, j] += h
        down[0, j] -= h
        numeric = (model.decision_function(up)[0] - model.decision_function(down)[0]) / (2 * h)
        assert grad[0, j] == pytest.approx(numeric, abs=1e-7)
    assert z[0] == pytest.approx(model.decision_function(X)[0], abs=1e-12)


def test_contributions_need_logistic_regression(fitted_models, cat_data):
    with pytest.raises(ParameterError, match="contributions add up to the logit for logistic "
                       "regression only; this is a network 12288 -> 6 -> 3 -> 1 \\(tanh\\)"):
        explain(fitted_models["network"], cat_data.test_x[:1], method="contributions")
    with pytest.raises(ParameterError, match="The 'engine' parameter must be one of"):
        explain(fitted_models["network"], cat_data.test_x[:1], engine="jax")
