"""Feature standardisation: fitted on the training set, stored in the model file, applied later."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from logicat import LogisticRegression, ModelFileError, load_model
from logicat.nn.scaling import fit_standardization, standardize
from tests.conftest import invoke


@pytest.fixture(scope="module")
def pixels():
    """Pixel-like features: (X (90, 12) in [0, 1] with one constant column, y (90,))."""
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 1, size=(90, 12)) * rng.uniform(0.05, 1, size=12)
    X[:, 3] = 0.25  # a pixel that is the same in every training image
    y = (X[:, 0] + X[:, 1] - X[:, 2] + rng.normal(0, 0.1, 90) > 0.4).astype(int)
    return X, y


@pytest.mark.parametrize("weighted", [False, True])
def test_statistics_match_standard_scaler(pixels, weighted):
    X, _ = pixels
    w = np.random.default_rng(0).uniform(0.1, 2, len(X)) if weighted else None
    mean, scale = fit_standardization(X, w)
    ref = StandardScaler().fit(X, sample_weight=w)
    np.testing.assert_allclose(mean, ref.mean_, rtol=1e-12)
    np.testing.assert_allclose(scale, ref.scale_, rtol=1e-12)
    assert scale[3] == 1.0  # constant on the training set: centred only
    assert np.all(np.isfinite(standardize(X, mean, scale)))


def test_estimator_standardize_equals_a_scaler_pipeline(pixels):
    X, y = pixels
    ours = LogisticRegression(standardize=True, learning_rate=0.3, max_iter=200).fit(X, y)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(learning_rate=0.3, max_iter=200))
    pipe.fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X), pipe.decision_function(X), atol=1e-9)
    # and it is not the unstandardised model
    plain = LogisticRegression(learning_rate=0.3, max_iter=200).fit(X, y)
    assert np.abs(plain.decision_function(X) - ours.decision_function(X)).max() > 0.1


def test_statistics_come_from_the_training_set_only(pixels):
    X, y = pixels
    clf = LogisticRegression(standardize=True, max_iter=5).fit(X[:60], y[:60])
    np.testing.assert_allclose(clf.feature_mean_, X[:60].mean(axis=0), rtol=1e-12)
    shifted = X[60:] + 1.0  # prediction never refits: shifting inputs shifts the logits
    expected = (shifted - clf.feature_mean_) / clf.feature_scale_ @ clf.coef_ + clf.intercept_
    np.testing.assert_allclose(clf.decision_function(shifted), expected, rtol=1e-12)
    refit = LogisticRegression(max_iter=5).fit(X[:60], y[:60])
    assert not hasattr(refit, "feature_mean_")


def test_model_file_stores_and_applies_the_standardization(pixels, tmp_model_path):
    X, y = pixels
    clf = LogisticRegression(standardize=True, learning_rate=0.3, max_iter=50).fit(X, y)
    clf.save(tmp_model_path)
    tensors = load_file(tmp_model_path)
    assert np.array_equal(tensors["feature_mean"], clf.feature_mean_)
    assert np.array_equal(tensors["feature_scale"], clf.feature_scale_)
    loaded = load_model(tmp_model_path)
    assert loaded.metadata_["architecture"]["layers"][0] == {  # x' = (x - mean) / scale
        "type": "normalize", "tensors": {"mean": "feature_mean", "std": "feature_scale"}}
    assert loaded.metadata_["hyperparameters"]["standardize"] is True
    assert loaded.predict_proba(X).tobytes() == clf.predict_proba(X).tobytes()

    plain = LogisticRegression(max_iter=5).fit(X, y)
    plain.save(tmp_model_path)
    assert "feature_mean" not in load_file(tmp_model_path)
    assert load_model(tmp_model_path).metadata_["architecture"]["layers"][0]["type"] == "dense"


def test_model_file_with_broken_statistics_is_refused(pixels, tmp_path):
    X, y = pixels
    path = tmp_path / "m.safetensors"
    LogisticRegression(standardize=True, max_iter=5).fit(X, y).save(path)
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    tensors = load_file(path)
    tensors["feature_scale"][0] = 0.0
    save_file(tensors, path, metadata=header["__metadata__"])
    with pytest.raises(ModelFileError, match="'feature_scale' must be a standard deviation: > 0"):
        load_model(path)
    del tensors["feature_mean"]
    save_file(tensors, path, metadata=header["__metadata__"])
    with pytest.raises(ModelFileError, match="the tensor 'feature_mean' is missing"):
        load_model(path)


def test_cli_train_standardize_then_predict_uses_the_training_statistics(
    cat_data, cat_features, tmp_path
):
    from logicat.data.features import apply_preprocessing

    out = tmp_path / "std.safetensors"
    result = invoke("train", "--scaling", "standardize", "-n", "20", "--print-every", "0", "-o",
                    str(out))
    assert result.exit_code == 0, result.output
    model = load_model(out)
    X_train, y_train, X_test, _ = cat_features
    ref = LogisticRegression(standardize=True, max_iter=20, random_state=0).fit(X_train, y_train)
    X = apply_preprocessing(cat_data.test_x, model.metadata_["preprocessing"], np.float64)
    assert np.array_equal(X, X_test)  # images -> pixels/255; the model standardises them
    assert model.predict_proba(X).tobytes() == ref.predict_proba(X_test).tobytes()
