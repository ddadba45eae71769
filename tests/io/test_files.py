"""Model files: round trip, metadata, and refusal of truncated, corrupted or foreign files."""

import json
import os
import struct

import numpy as np
import pytest
from safetensors.numpy import save_file

from logicat import LogisticRegression, ModelFileError, load_model
from logicat.io.files import read_metadata


@pytest.fixture(scope="module")
def small_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 8))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    return LogisticRegression(learning_rate=0.1, max_iter=50).fit(X, y), X


def test_round_trip_keeps_predictions_metadata_and_history(small_model, tmp_model_path):
    clf, X = small_model
    clf.save(tmp_model_path, training_data={"sha256": "ab" * 32}, class_names=["no", "yes"])
    loaded = load_model(tmp_model_path)
    np.testing.assert_array_equal(loaded.coef_, clf.coef_)
    assert loaded.intercept_ == clf.intercept_
    np.testing.assert_array_equal(loaded.cost_history_, clf.cost_history_)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.classes_.tolist() == ["no", "yes"]
    meta = loaded.metadata_
    assert meta["training_data"]["sha256"] == "ab" * 32
    assert meta["positive_class"] == "yes"
    assert meta["hyperparameters"]["learning_rate"] == 0.1
    assert meta["hyperparameters"]["max_iter"] == 50
    assert meta["n_features"] == 8
    assert loaded.get_params()["learning_rate"] == 0.1


def test_float32_model_stays_float32(tmp_model_path):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 3)), np.arange(20) % 2
    LogisticRegression(dtype="float32", max_iter=5).fit(X, y).save(tmp_model_path)
    assert load_model(tmp_model_path).coef_.dtype == np.float32


def test_save_is_atomic_and_keeps_the_old_model_on_failure(small_model, tmp_path, monkeypatch):
    clf, _ = small_model
    path = tmp_path / "model.safetensors"
    clf.save(path)
    good = path.read_bytes()

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        clf.save(path)
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def _corrupt(path, data: bytes):
    path.write_bytes(data)
    return path


def test_truncated_file_is_refused(small_model, tmp_model_path):
    clf, _ = small_model
    clf.save(tmp_model_path)
    data = tmp_model_path.read_bytes()
    for cut in (0, 5, 100, len(data) - 8):
        _corrupt(tmp_model_path, data[:cut])
        with pytest.raises(ModelFileError, match="model.safetensors"):
            load_model(tmp_model_path)


def test_garbage_header_is_refused(small_model, tmp_model_path):
    clf, _ = small_model
    clf.save(tmp_model_path)
    data = bytearray(tmp_model_path.read_bytes())
    data[10:20] = b"\xff" * 10
    _corrupt(tmp_model_path, bytes(data))
    with pytest.raises(ModelFileError, match="not a logicat model"):
        load_model(tmp_model_path)


def test_foreign_safetensors_file_is_refused(tmp_model_path):
    save_file({"weight": np.zeros((3, 3), dtype=np.float32)}, tmp_model_path)
    with pytest.raises(ModelFileError, match="not a logicat model"):
        load_model(tmp_model_path)


def _rewrite_metadata(path, **changes):
    """Rewrite the JSON metadata of a model file, keeping its tensors."""
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["logicat"])
    meta.update(changes)
    header["__metadata__"]["logicat"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n_features": 9}, r"input_shape must be \[9\]. Got \[8\]"),
        ({"n_iter": 3}, "tensor 'cost_history' has shape"),
        ({"classes": [0, 1, 2]}, "must list 2 distinct classes"),
        ({"format_version": 99}, "version 99 is not supported"),
    ],
)
def test_metadata_that_does_not_match_the_tensors_is_refused(
    small_model, tmp_model_path, changes, message
):
    clf, _ = small_model
    clf.save(tmp_model_path)
    _rewrite_metadata(tmp_model_path, **changes)
    with pytest.raises(ModelFileError, match=message):
        load_model(tmp_model_path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "nope.safetensors")
    with pytest.raises(ModelFileError, match="is a folder"):
        read_metadata(tmp_path)


def _as_version(path, out, version, family):
    """The file as logicat wrote it before format 6: the architecture as its ``family``'s
    entries (a dense network's hidden layers and activation, a ConvNet's spec) and, from format
    3 on, the list they describe, the standardisation said in the header; before format 4 no
    ``output``; before format 3 no ``architecture.layers`` (and a ConvNet's solver called
    "convnet")."""
    from safetensors.numpy import load_file

    raw = path.read_bytes()
    meta = json.loads(json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])["__metadata__"][
        "logicat"])
    layers = meta["architecture"]["layers"]
    meta["architecture"] = {**family, "layers": layers}
    if layers[0]["type"] == "normalize" and "image_size" not in family:
        meta["feature_standardization"] = "x' = (x - feature_mean) / feature_scale"
    if version < 4:
        meta.pop("output")
    if version == 2:
        meta["architecture"].pop("layers")
        if meta["solver"] == "minibatch":
            meta["solver"] = "convnet"
    meta["format_version"] = version
    save_file(load_file(path), out, metadata={"logicat": json.dumps(meta)})
    return out


@pytest.mark.parametrize("kind", ["logistic", "mlp-standardized", "convnet"])
def test_every_file_lists_its_layers_and_older_files_still_read_the_same(kind, tmp_path,
                                                                         cat_data):
    from logicat import ConvNetClassifier, MLPClassifier
    from logicat.data.features import images_to_features, preprocessing_spec

    X, y = cat_data.train_x[:40], cat_data.train_y[:40]
    if kind == "convnet":
        pytest.importorskip("torch")
        clf = ConvNetClassifier(widths=(4,), max_iter=1, device="cpu").fit(X, y)
        inputs = cat_data.test_x[:8]
    else:
        X = images_to_features(X)
        clf = (LogisticRegression(max_iter=5) if kind == "logistic" else MLPClassifier(
            hidden_layer_sizes=(3,), max_iter=5, standardize=True, random_state=0)).fit(X, y)
        inputs = images_to_features(cat_data.test_x[:8])
    path = clf.save(tmp_path / "v4.safetensors", preprocessing=preprocessing_spec(64))
    meta = read_metadata(path)
    assert meta["format_version"] == 6
    assert meta["output"] == {"members": 1, "combine": "logit", "temperature": 1.0,
                              "prior": "train", "training_prior": float(np.mean(y))}
    types = [layer["type"] for layer in meta["architecture"]["layers"]]
    assert types == {"logistic": ["dense", "sigmoid"],
                     "mlp-standardized": ["normalize", "dense", "relu", "dense", "sigmoid"],
                     "convnet": ["normalize", "conv2d", "batchnorm", "relu", "maxpool", "gap",
                                 "dropout", "dense", "sigmoid"]}[kind]
    assert meta["architecture"]["input_shape"] == ([3, 64, 64] if kind == "convnet"
                                                   else [12288])
    family = (clf.spec_.to_json() if kind == "convnet" else
              {"hidden_layer_sizes": list(getattr(clf, "hidden_layer_sizes", ())),
               "activation": "relu"})
    for version in (2, 3, 4, 5):
        old = load_model(_as_version(path, tmp_path / f"v{version}.safetensors", version,
                                     family))
        assert read_metadata(tmp_path / f"v{version}.safetensors")["format_version"] == version
        assert type(old) is type(clf)
        np.testing.assert_array_equal(old.predict_proba(inputs), clf.predict_proba(inputs))
        if version < 4:  # not recorded: it decides at its training mix only
            assert old.training_prior_ is None
        resaved = read_metadata(old.save(tmp_path / "again.safetensors"))  # as format 6
        assert resaved["architecture"] == meta["architecture"]


def test_a_version_2_file_with_more_units_than_a_layer_holds_is_refused_on_reading(tmp_path):
    """The reader bounds a dense file's hidden sizes as the layer vocabulary does: refused with
    the file's name when it is read, not when it predicts."""
    from logicat import MLPClassifier

    X = np.random.default_rng(0).random((20, 12))
    path = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, np.arange(20) % 2).save(
        tmp_path / "m.safetensors")
    raw = path.read_bytes()
    meta = json.loads(json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])["__metadata__"][
        "logicat"])
    wide = 2 ** 21
    meta.update(format_version=2)
    meta["architecture"] = {"hidden_layer_sizes": [wide], "activation": "relu"}
    tensors = {"coefs.0": np.zeros((12, wide)), "intercepts.0": np.zeros(wide),
               "coefs.1": np.zeros(wide), "intercepts.1": np.zeros(1),
               "cost_history": np.zeros(meta["n_iter"])}
    save_file(tensors, tmp_path / "wide.safetensors", metadata={"logicat": json.dumps(meta)})
    with pytest.raises(ModelFileError, match=r"wide.safetensors: the architecture's "
                       r"hidden_layer_sizes must be a list of at most 64 ints in \[1, 1048576\]"):
        load_model(tmp_path / "wide.safetensors")
