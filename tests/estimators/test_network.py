"""``NetworkClassifier``: any list of layers, residual blocks included, trained by the ConvNet's
machinery, written to a file that holds the list, read back as the same model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from logicat.core.errors import ParameterError, ShapeError
from logicat.io.files import read_metadata, read_model
from logicat.nn.layer_types import (
    BatchNorm,
    Conv2d,
    Dense,
    GlobalAvgPool,
    MaxPool,
    ReLU,
    Residual,
)

torch = pytest.importorskip("torch")

from logicat import ConvNetClassifier, NetworkClassifier, load_model  # noqa: E402
from logicat.nn.families import convnet_layers  # noqa: E402

FAST = dict(max_iter=2, batch_size=16, device="cpu")


def residual_net():
    """The issue's example, narrower: a residual block that keeps the shape (an identity
    shortcut) and one that strides and widens (a 1x1 convolution's)."""
    return [Conv2d(4), BatchNorm(), ReLU(), MaxPool(),
            Residual([Conv2d(4), BatchNorm(), ReLU(), Conv2d(4), BatchNorm()]), ReLU(),
            Residual([Conv2d(8, stride=2), BatchNorm(), ReLU(), Conv2d(8), BatchNorm()]),
            ReLU(), GlobalAvgPool(), Dense(1)]


@pytest.fixture(scope="module")
def fitted(cat_data):
    X, y = cat_data.train_x[:64], cat_data.train_y[:64]
    return NetworkClassifier(layers=residual_net(), **FAST).fit(X, y)


def test_a_residual_network_fits_saves_and_reads_back_the_same(fitted, cat_data, tmp_path):
    path = fitted.save(tmp_path / "net.safetensors")
    meta = read_metadata(path)
    architecture = meta["architecture"]
    assert architecture["input_shape"] == [3, 64, 64] and meta["format_version"] == 6
    blocks = [entry for entry in architecture["layers"] if entry["type"] == "residual"]
    assert [len(b["shortcut"]) for b in blocks] == [0, 2]  # identity; 1x1 conv + batchnorm
    assert blocks[1]["shortcut"][0] == {"type": "conv2d", "filters": 8, "kernel": 1,
                                        "stride": 2, "padding": 0, "bias": False,
                                        "name": "net.6.shortcut.0"}
    assert "layers" not in meta["hyperparameters"]  # the architecture holds them, once
    again = load_model(path)
    assert type(again) is NetworkClassifier
    X = cat_data.test_x[:10]
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    model = read_model(path)
    assert "net.4.body.3.weight" in model.tensors
    assert model.description == ("network 64x64x3 -> 10 layers (6 convolutions, 2 residual "
                                 "blocks) -> 1")


def test_the_summary_shows_each_blocks_layers(fitted):
    text = fitted.summary()
    assert "net.6.shortcut.0" in text and "residual, 1x1 shortcut" in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_the_json_list_and_the_objects_train_the_same_model(fitted, cat_data):
    entries = json.loads(json.dumps([lay.to_json() for lay in residual_net()]))
    again = NetworkClassifier(layers=entries, **FAST).fit(cat_data.train_x[:64],
                                                          cat_data.train_y[:64])
    for name, value in fitted.params_.items():
        np.testing.assert_array_equal(again.params_[name], value)


def test_the_convnets_list_is_the_convnet(cat_data):
    """A ConvNetClassifier is a preset of the same machinery: its list, given as a network,
    trains the very same model, bit for bit."""
    X, y = cat_data.train_x[:48], cat_data.train_y[:48]
    convnet = ConvNetClassifier(widths=(4, 8), **FAST).fit(X, y)
    body = convnet_layers(convnet.spec_)[1:-1]  # without the input's normalize and the sigmoid
    network = NetworkClassifier(layers=body, **FAST).fit(X, y)
    assert network.params_.keys() == convnet.params_.keys()
    for name, value in convnet.params_.items():
        np.testing.assert_array_equal(network.params_[name], value)


def test_a_list_that_gives_no_single_logit_is_refused_in_one_line(cat_data):
    X, y = cat_data.train_x[:16], cat_data.train_y[:16]
    with pytest.raises(ShapeError, match=r"must give one logit per image .* gives shape "
                                         r"\(4,\)") as err:
        NetworkClassifier(layers=[Conv2d(4), GlobalAvgPool()], **FAST).fit(X, y)
    assert "\n" not in str(err.value)
    with pytest.raises(ParameterError, match="needs its layers"):
        NetworkClassifier(**FAST).fit(X, y)
    with pytest.raises(ShapeError, match=r"layer 1 \(dense\) takes vectors"):
        NetworkClassifier(layers=[Conv2d(4), Dense(1)], **FAST).fit(X, y)


def test_a_preset_by_its_name(cat_data, tmp_path):
    X, y = cat_data.train_x[:32], cat_data.train_y[:32]
    net = NetworkClassifier(layers="resnet8", **{**FAST, "max_iter": 1}).fit(X, y)
    assert net.spec_.description == ("network 64x64x3 -> 12 layers (9 convolutions, 3 "
                                     "residual blocks) -> 1")
    again = load_model(net.save(tmp_path / "r8.safetensors"))
    assert len(again.layers) == 12 and again.layers[4].type == "residual"
    np.testing.assert_array_equal(again.predict_proba(X), net.predict_proba(X))
    with pytest.raises(ParameterError, match="'layers' parameter must be"):
        NetworkClassifier(layers="resnet99", **FAST).fit(X, y)


def test_a_networks_file_is_no_convnets_and_a_convnets_file_is_a_network(fitted, cat_data,
                                                                          tmp_path):
    from logicat.core.errors import ModelFileError

    path = fitted.save(tmp_path / "net.safetensors")
    with pytest.raises(ModelFileError, match="not a ConvNetClassifier") as err:
        ConvNetClassifier.from_model(read_model(path), source=path)
    assert "\n" not in str(err.value)
    X, y = cat_data.train_x[:32], cat_data.train_y[:32]
    convnet = ConvNetClassifier(widths=(4,), **{**FAST, "max_iter": 1}).fit(X, y)
    as_network = NetworkClassifier.from_model(read_model(convnet.save(tmp_path / "c.st")))
    assert as_network.layers == list(convnet.spec_.layers()[1:-1])
    np.testing.assert_array_equal(as_network.predict_proba(X), convnet.predict_proba(X))
