"""The layer table (``logicat.nn.summary``): its totals are the layers' own counts, each layer
has its row, no line is wider than asked, and a block's inner layers are shown under it."""

from __future__ import annotations

from math import prod
from types import SimpleNamespace

import pytest

from logicat.nn import summary as summary_module
from logicat.nn.convnet import ConvNetSpec
from logicat.nn.families import convnet_layers, dense_layers, logistic_layers, standardized
from logicat.nn.layers import layer, n_params, shapes
from logicat.nn.summary import MIN_WIDTH, describe, summary

IMAGE = (3, 64, 64)


def _total(text: str, what: str) -> int:
    """The number on the totals' line ``what:`` ("total", "trained", "not trained")."""
    line = next(line for line in text.splitlines() if line.startswith(what + ":"))
    return int(line.split(":")[1].split()[0].replace(",", ""))


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_convnets_table_counts_as_the_layers_do_and_fits_the_width(width):
    layers = convnet_layers(ConvNetSpec())
    text = summary(layers, IMAGE, width)
    tensors, out = shapes(layers, IMAGE)
    weights = sum(prod(tensors[name]) for lay in layers
                  for role, name in lay.tensor_names().items() if role in ("weight", "bias"))
    assert _total(text, "total") == n_params(layers, IMAGE) == 98_295
    assert _total(text, "trained") == weights
    assert _total(text, "not trained") == n_params(layers, IMAGE) - weights  # mean/std, BN's
    assert max(len(line) for line in text.splitlines()) <= width
    for lay in layers:  # each layer has its row: its name (or "-") and its type
        assert any(line.startswith((lay.name or "-") + " ") and describe(lay) in line
                   for line in text.splitlines()), lay
    assert "features.12  conv2d 3x3, 128  (128, 8, 8)   73,728" in text
    assert f"head.1       dense 1          {out}" in text
    assert text.splitlines()[2].split() == ["input", "(3,", "64,", "64)", "0"]


def test_a_logistic_regression_is_one_dense_unit_of_12288_weights_and_a_bias():
    text = summary(logistic_layers(), (12288,))
    assert "coef, intercept  dense 1  (1,)          12,289" in text
    assert _total(text, "total") == _total(text, "trained") == 12288 + 1
    assert _total(text, "not trained") == 0


def test_a_standardised_networks_mean_and_scale_are_not_trained():
    layers = standardized(dense_layers((20, 7, 5)))
    text = summary(layers, (12288,))
    assert _total(text, "not trained") == 2 * 12288
    assert "normalize mean/std" in text
    assert _total(text, "total") == n_params(layers, (12288,))


def test_long_names_are_cut_with_an_ellipsis_not_wrapped():
    layers = [layer("dense", "a." * 60 + "weights", units=3), layer("relu"),
              layer("dense", "out", units=1), layer("sigmoid")]
    for width in (10, 60, 75):  # 10 is too narrow for the columns: 60 are kept
        text = summary(layers, (4,), width)
        assert max(len(line) for line in text.splitlines()) <= max(width, MIN_WIDTH)
        assert "a.a.a." in text and "…" in text and len(text.splitlines()) == 11


def test_a_blocks_inner_layers_are_indented_under_it_the_shortcut_marked(monkeypatch):
    """A residual block (a layer holding ``body`` and ``shortcut`` lists): its row holds its
    output shape and all its values, then its layers' rows; the totals count each once."""
    body = [layer("conv2d", "block.conv1", filters=8, stride=2), layer("batchnorm", "block.bn1"),
            layer("relu")]
    shortcut = [layer("conv2d", "block.down", filters=8, kernel=1, stride=2, padding=0)]
    block = SimpleNamespace(type="residual", options={}, name="block", body=body,
                            shortcut=shortcut, tensor_names=dict, roles=tuple)
    plain_shapes = summary_module.shapes

    def block_shapes(layers, shape):  # what the nested shapes() will answer for a block
        if layers[0] is not block:
            return plain_shapes(layers, shape)
        inner, out = plain_shapes(body, shape)
        return {**inner, **plain_shapes(shortcut, shape)[0]}, out

    monkeypatch.setattr(summary_module, "shapes", block_shapes)
    layers = [layer("normalize", "input"), block, layer("gap"), layer("dense", "fc", units=1)]
    lines = summary(layers, (3, 16, 16), 70).splitlines()
    values = 8 * 3 * 9 + 4 * 8 + 8 * 3  # conv1, bn1's four, the 1x1 shortcut
    row = next(i for i, line in enumerate(lines) if line.startswith("block "))
    assert lines[row].split()[-4:] == ["(8,", "8,", "8)", f"{values:,}"]
    assert lines[row + 1].startswith("  block.conv1  ")
    assert "conv2d 3x3, 8, stride 2" in lines[row + 1]
    assert lines[row + 3].startswith("  -  ") and "relu" in lines[row + 3]
    assert lines[row + 4].startswith("  shortcut block.down  ")
    assert "conv2d 1x1, 8, stride 2" in lines[row + 4]
    assert lines[row + 4].split()[-1] == "24"
    assert _total("\n".join(lines), "total") == 6 + values + 9
    assert _total("\n".join(lines), "not trained") == 6 + 16  # mean/std, bn1's statistics


def test_the_estimators_summary_is_their_models_table(cat_data):
    from sklearn.exceptions import NotFittedError

    from logicat import LogisticRegression

    with pytest.raises(NotFittedError):
        LogisticRegression().summary()
    clf = LogisticRegression(max_iter=2).fit(cat_data.train_x, cat_data.train_y)
    assert clf.summary(width=70) == summary(logistic_layers(), (12288,), 70)


def test_a_summary_shows_the_hyperparameters_that_mean_something_for_the_model():
    from logicat.nn.families import dense_layers
    from logicat.nn.summary import meaningful

    params = {"optimizer": "adam", "momentum": 0.9, "beta_1": 0.9, "activation": "relu",
              "batch_size": None, "shuffle": True, "learning_rate": 0.01}
    logistic = meaningful(params, params, dense_layers(()))
    assert logistic == {"optimizer": "adam", "beta_1": 0.9, "batch_size": None,
                        "learning_rate": 0.01}
    network = meaningful({**params, "optimizer": "momentum", "batch_size": 32},
                         {**params, "optimizer": "momentum", "batch_size": 32},
                         dense_layers((7,)))
    assert {"momentum", "activation", "shuffle"} <= set(network) and "beta_1" not in network
