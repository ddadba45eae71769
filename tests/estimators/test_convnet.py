"""``ConvNetClassifier``: scikit-learn's contract on images, seeded reproducibility, files."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("torch")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.utils.estimator_checks import (  # noqa: E402
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from logicat import ConvNetClassifier, ModelFileError, load_model  # noqa: E402
from logicat.core.errors import ParameterError, ShapeError  # noqa: E402
from logicat.data.features import preprocessing_spec  # noqa: E402
from logicat.training.hyperparameters import CONVNET_DEFAULTS  # noqa: E402
from tests.conftest import TINY  # noqa: E402


@pytest.fixture(scope="module")
def small(cat_data):
    """48 training images (16 cats) and 20 test images."""
    rng = np.random.default_rng(0)
    cats, others = np.flatnonzero(cat_data.train_y == 1), np.flatnonzero(cat_data.train_y == 0)
    idx = np.concatenate([rng.choice(cats, 16, replace=False), rng.choice(others, 32,
                                                                           replace=False)])
    return cat_data.train_x[idx], cat_data.train_y[idx], cat_data.test_x[:20]


@pytest.fixture(scope="module")
def fitted(small):
    X, y, _ = small
    return ConvNetClassifier(**TINY, random_state=3).fit(X, y)


def test_the_defaults_are_the_table(cat_data):
    assert {k: v for k, v in ConvNetClassifier().get_params().items()} == CONVNET_DEFAULTS


@pytest.mark.parametrize("check", [check_parameters_default_constructible,
                                   check_no_attributes_set_in_init, check_get_params_invariance,
                                   check_set_params])
def test_sklearn_api_checks_that_need_no_fit(check):
    """The estimator checks that apply to a classifier of images; the others fit 2-D data of
    a few arbitrary columns, which is no image (documented in the class's module)."""
    check("ConvNetClassifier", ConvNetClassifier())


def test_the_same_seed_gives_the_same_model(small, fitted):
    X, y, _ = small
    again = ConvNetClassifier(**TINY, random_state=3).fit(X, y)
    assert list(again.params_) == list(fitted.params_)
    for name, value in fitted.params_.items():
        np.testing.assert_array_equal(again.params_[name], value, err_msg=name)
    np.testing.assert_array_equal(again.cost_history_, fitted.cost_history_)
    other = ConvNetClassifier(**TINY, random_state=4).fit(X, y)
    assert not np.array_equal(other.params_["features.0.weight"],
                              fitted.params_["features.0.weight"])


def test_images_and_features_are_the_same_input(small, fitted):
    _, _, X_test = small
    features = X_test.reshape(len(X_test), -1) / 255.0
    np.testing.assert_allclose(fitted.predict_proba(features), fitted.predict_proba(X_test),
                               rtol=0, atol=1e-6)
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(fitted.predict(X_test)) <= {0, 1}
    assert fitted.n_features_in_ == 12288 and fitted.n_iter_ == 2  # TINY's epochs
    assert fitted.cost_history_.shape == (2,) and np.all(np.isfinite(fitted.cost_history_))


def test_the_numpy_prediction_is_the_torch_modules(small, fitted):
    import torch

    from logicat.engines.torch.layers import ConvNet, images_to_tensor

    _, _, X_test = small
    net = ConvNet(fitted.spec_).load_numpy_params(fitted.params_).eval()
    with torch.no_grad():
        z = net.predict_logits(images_to_tensor(X_test)).numpy()
    np.testing.assert_allclose(fitted.decision_function(X_test), z, rtol=0, atol=1e-5)


def test_string_labels_clone_pickle_and_cross_validation(small):
    X, y, X_test = small
    names = np.array(["non-cat", "cat"])[y]
    clf = ConvNetClassifier(**dict(TINY, max_iter=1), tta=False).fit(X, names)
    assert clf.classes_.tolist() == ["cat", "non-cat"]
    assert set(clf.predict(X_test)) <= {"cat", "non-cat"}
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X_test), clf.predict_proba(X_test))
    assert clone(clf).get_params() == clf.get_params()
    scores = cross_val_score(ConvNetClassifier(**dict(TINY, max_iter=1)), X, y, cv=2)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))


def test_a_model_file_round_trip(small, fitted, tmp_path):
    _, _, X_test = small
    path = fitted.save(tmp_path / "cnn.safetensors", preprocessing=preprocessing_spec(64),
                       class_names=["non-cat", "cat"])
    loaded = load_model(path)
    assert type(loaded) is ConvNetClassifier and loaded.widths == (4, 8)
    np.testing.assert_array_equal(loaded.predict_proba(X_test), fitted.predict_proba(X_test))
    architecture = dict(loaded.metadata_["architecture"])
    layers = architecture.pop("layers")
    assert architecture == {"input_shape": [3, 64, 64], "tta": True}  # the list is the model
    assert [layer["type"] for layer in layers] == [
        "normalize", "conv2d", "batchnorm", "relu", "maxpool", "conv2d", "batchnorm", "relu",
        "maxpool", "gap", "dropout", "dense", "sigmoid"]
    assert layers[1] == {"type": "conv2d", "filters": 4, "kernel": 3, "stride": 1,
                         "padding": 1, "bias": False, "name": "features.0"}
    assert loaded.metadata_["solver"] == "minibatch"  # the solver that ran, not the family


def test_a_file_whose_tensors_do_not_match_its_architecture_is_refused(fitted, tmp_path):
    import json

    from safetensors.numpy import load_file, save_file

    path = fitted.save(tmp_path / "cnn.safetensors", preprocessing=preprocessing_spec(64))
    with open(path, "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    meta = json.loads(header["__metadata__"]["logicat"])
    wider = [dict(layer) for layer in meta["architecture"]["layers"]]
    wider[5]["filters"] = 9  # the second block's convolution
    # format 5 and before: the family's entries, and the list they must describe
    legacy = {"kind": "convnet", "widths": [4, 8], "convs_per_block": 1, "head": "gap",
              "hidden": 0, "image_size": 64, "tta": True, "layers": meta["architecture"]["layers"]}
    for change, message in [
        ({"layers": wider},
         r"tensor 'features.4.weight' has shape \(8, 4, 3, 3\), but the metadata says "
         r"\(9, 4, 3, 3\)"),
        ({"tta": "yes"}, "the architecture's tta must be true, false or 'shifts'"),
        ({"input_shape": [3, 32, 32]}, r"input_shape must be \[12288\] or \[3, 64, 64\]"),
        ({**legacy, "widths": [4, 9], "layers": wider, "format_version": 5},
         r"tensor 'features.4.weight' has shape \(8, 4, 3, 3\), but the metadata says "
         r"\(9, 4, 3, 3\)"),
        ({**legacy, "widths": [4, 9], "format_version": 5},
         r"the architecture's layer 5 is \{'type': 'conv2d', 'filters': 8, .*, but its other "
         r"entries describe \{'type': 'conv2d', 'filters': 9, "),
        ({**legacy, "widths": [4, 8, 16, 32, 64, 128, 256], "format_version": 5},
         "image_size must be an int in"),
        ({**legacy, "head": "attention", "format_version": 5},
         "the ConvNet's head must be one of 'gap', 'flatten'"),
        ({**legacy, "tta": "yes", "format_version": 5}, "the ConvNet's tta must be true or false"),
    ]:
        version = change.pop("format_version", meta["format_version"])
        base = {} if version < 6 else meta["architecture"]
        bad = dict(meta, format_version=version, architecture={**base, **change})
        save_file(load_file(path), tmp_path / "bad.safetensors",
                  metadata={"logicat": json.dumps(bad)})
        with pytest.raises(ModelFileError, match=message):
            load_model(tmp_path / "bad.safetensors")
    save_file(load_file(path), tmp_path / "bad.safetensors",
              metadata={"logicat": json.dumps(dict(meta, solver="gram"))})
    with pytest.raises(ModelFileError, match="the metadata's solver must be one of 'minibatch', "
                                             "'convnet', 'primal'. Got 'gram'"):
        load_model(tmp_path / "bad.safetensors")


def test_bad_input_is_a_clear_error(small, fitted):
    X, y, _ = small
    with pytest.raises(ShapeError, match=r"images of shape \(m, s, s, 3\) or the lesson's "
                       r"features of shape \(m, s \* s \* 3\). Got shape \(48, 10\)"):
        ConvNetClassifier(**TINY).fit(np.zeros((48, 10)), y)
    with pytest.raises(ShapeError, match="trained on 64x64 images. Got 32x32"):
        fitted.predict(X[:, ::2, ::2])
    with pytest.raises(ParameterError, match="The 'crop' parameter must be one of"):
        ConvNetClassifier(**TINY, crop="zoom").fit(X, y)
    with pytest.raises(ParameterError, match="needs exactly 2 classes"):
        ConvNetClassifier(**TINY).fit(X, np.arange(48) % 3)


def _kinds(X):
    """Arrays of the wrong kind made from real images X (uint8): what each must raise."""
    floats = X.astype(np.float64)
    return {
        "float pixels 0..255 (not / 255)": (floats, ValueError,
                                            r"X must hold floats in \[0, 1\].*Got values in "
                                            r"\[0, 255\]"),
        "floats in [-5, -4]": (floats / 255 - 5, ValueError, r"Got values in \[-5, -4\]"),
        "uint16": (X.astype(np.uint16), TypeError, "Got dtype uint16"),
        "int8": (X.astype(np.int8), TypeError, "Got dtype int8"),
        "bool": (X > 128, TypeError, "Got dtype bool"),
        "complex": (floats.astype(complex) / 255, TypeError, "Got dtype complex128"),
        "NaN": (np.where(X > 250, np.nan, floats / 255), ValueError, "finite numbers"),
        "inf": (np.where(X > 250, np.inf, floats / 255), ValueError, "finite numbers"),
    }


@pytest.mark.parametrize("case", list(_kinds(np.zeros((1, 1, 1, 3), np.uint8))))
def test_arrays_of_the_wrong_kind_are_refused_before_any_work(case, small, fitted):
    """As scikit-learn's estimators do: a TypeError (the dtype) or ValueError (the values)
    naming X, in fit and in predict, before any training step."""
    X, y, _ = small
    bad, error, message = _kinds(X)[case]
    steps = []
    with pytest.raises(error, match=message):
        ConvNetClassifier(**TINY, callbacks=[steps.append]).fit(bad, y)
    assert steps == []
    with pytest.raises(error, match=message):
        fitted.predict_proba(bad)
    with pytest.raises(error, match=message):  # the lesson's features, as floats, alike
        fitted.predict_proba(bad.reshape(len(bad), -1))


def test_images_too_small_for_the_augmentation_or_the_blocks(small):
    X, y, _ = small
    with pytest.raises(ParameterError, match=r"'crop_pad' parameter must be smaller than the "
                                             r"images' side.*4x4 images take at most 3"):
        ConvNetClassifier(**{**TINY, "widths": (4,)}).fit(X[:, :4, :4], y)
    with pytest.raises(ParameterError, match="32x32 images take at most 31. Got 32"):
        ConvNetClassifier(**TINY, crop_pad=32).fit(X[:, :32, :32], y)
    with pytest.raises(ParameterError, match="2 blocks, each halving the image; 6x6"):
        ConvNetClassifier(**TINY, crop_pad=2).fit(X[:, :6, :6], y)


def test_explain_takes_only_images_of_the_models_size(small, fitted):
    from logicat.evaluate.explain import explain

    X, _, _ = small
    with pytest.raises(ShapeError, match=r"uint8 of shape \(m, 64, 64, 3\) for this model. "
                                         r"Got shape \(48, 32, 32, 3\)"):
        explain(fitted.to_model(), X[:, ::2, ::2])
