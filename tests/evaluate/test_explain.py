"""``logicat.evaluate.explain`` and ``logicat explain``: the contributions of logistic
regression add up to its logit, gradient x input agrees across the three engines and with
finite differences."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from logicat import LogisticRegression, MLPClassifier
from logicat.core.errors import ParameterError
from logicat.data.features import preprocessing_spec
from logicat.evaluate.explain import explain
from logicat.io.files import read_model
from tests.conftest import invoke


@pytest.fixture(scope="module")
def models(cat_features, tmp_path_factory):
    """Three fitted models as model files give them back (with their preprocessing)."""
    X, y, _, _ = cat_features
    fitted = {
        "logistic": LogisticRegression(max_iter=300).fit(X, y),
        "standardized": LogisticRegression(max_iter=100, standardize=True).fit(X, y),
        "network": MLPClassifier(hidden_layer_sizes=(6, 3), activation="tanh", max_iter=40,
                                 random_state=0, standardize=True).fit(X, y),
    }
    folder = tmp_path_factory.mktemp("explain")
    return {name: read_model(clf.save(folder / f"{name}.safetensors", class_names=["non-cat",
                             "cat"], preprocessing=preprocessing_spec(64)))
            for name, clf in fitted.items()}


@pytest.mark.parametrize("name", ["logistic", "standardized"])
def test_contributions_add_up_to_the_logit_minus_b(models, cat_data, name):
    model = models[name]
    explanation = explain(model, cat_data.test_x)
    assert explanation.method == "contributions" and explanation.values.shape == (50, 64, 64, 3)
    z = model.decision_function(model.features(cat_data.test_x))
    np.testing.assert_allclose(explanation.values.sum(axis=(1, 2, 3)) + explanation.offset, z,
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(explanation.logit, z, rtol=0, atol=1e-10)
    assert explanation.offset == model.params[1][0]
    np.testing.assert_array_equal(explanation.pixel_map, explanation.values.sum(axis=3))


def test_gradient_times_input_is_the_contributions_without_standardisation(models, cat_data):
    contributions = explain(models["logistic"], cat_data.test_x[:5])
    gradient = explain(models["logistic"], cat_data.test_x[:5], method="gradient_input")
    np.testing.assert_allclose(gradient.values, contributions.values, rtol=0, atol=1e-14)
    assert gradient.offset is None


@pytest.mark.parametrize("name", ["standardized", "network"])
def test_the_three_engines_give_one_gradient(models, cat_data, name):
    pytest.importorskip("torch")
    images = cat_data.test_x[:4]
    numpy, autograd, torch = (explain(models[name], images, "gradient_input", engine)
                              for engine in ("numpy", "autograd", "torch"))
    for other in (autograd, torch):
        np.testing.assert_allclose(other.values, numpy.values, rtol=0, atol=1e-10)
        np.testing.assert_allclose(other.logit, numpy.logit, rtol=0, atol=1e-10)


def test_the_gradient_against_finite_differences(models, cat_data):
    """dz/dx from the backward pass against central differences of z, at 20 random inputs."""
    from logicat.evaluate.explain import _logit_gradient

    model = models["network"]
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


def test_contributions_need_logistic_regression(models, cat_data):
    with pytest.raises(ParameterError, match="contributions add up to the logit for logistic "
                       "regression only; this is a network 12288 -> 6 -> 3 -> 1 \\(tanh\\)"):
        explain(models["network"], cat_data.test_x[:1], method="contributions")
    with pytest.raises(ParameterError, match="The 'engine' parameter must be one of"):
        explain(models["network"], cat_data.test_x[:1], engine="jax")


def test_the_command_writes_one_picture_per_photo(models, photos_dir, tmp_path):
    from logicat.io.files import save_model

    path = save_model(models["logistic"], tmp_path / "m.safetensors")
    twin = tmp_path / "other"
    twin.mkdir()
    (twin / "tabby_cat.jpg").write_bytes((photos_dir / "tabby_cat.jpg").read_bytes())
    (tmp_path / "notes.jpg").write_text("not an image")
    out = tmp_path / "maps"
    photos = [photos_dir / "tabby_cat.jpg", twin / "tabby_cat.jpg", tmp_path / "notes.jpg"]
    result = invoke("explain", "-m", str(path), *map(str, photos), "--out", str(out))
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == ["tabby_cat-2.png", "tabby_cat.png"]
    with Image.open(out / "tabby_cat.png") as picture:
        assert picture.format == "PNG" and picture.size[0] > 400
    lines = [line for line in result.output.splitlines() if "p(cat)" in line]
    assert [line.split()[-1] for line in lines] == [str(out / "tabby_cat.png"),
                                                    str(out / "tabby_cat-2.png")]
    assert lines[0].split()[1:-1] == lines[1].split()[1:-1]  # the same photo, the same answer
    for line in lines:
        pixels, b, z = (float(v) for v in re.search(
            r"\(pixels (\S+) \+ b (\S+) = z (\S+)\)", line).groups())
        assert pixels + b == pytest.approx(z, abs=2e-6)
    assert "notes.jpg" in result.output and "Traceback" not in result.output
