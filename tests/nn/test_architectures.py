"""What a list of layers is, read off the list (``logicat.nn.architectures``): each preset's
list is recognised as that preset with the very settings that made it, and nothing else is;
files of formats 1 to 5 give back the list their family's entries describe."""

from __future__ import annotations

import pytest

from logicat.nn.architectures import (
    Dense,
    convnet,
    dense,
    describe,
    image_spec,
    legacy_architecture,
    summary,
)
from logicat.nn.convnet import ConvNetSpec, NetworkSpec
from logicat.nn.families import dense_layers, logistic_layers, preset, standardized
from logicat.nn.layers import layer, resolve

SPECS = [ConvNetSpec(), ConvNetSpec((4, 8), 2, "flatten", 5, 32, True),
         ConvNetSpec((3,), 1, "gap", 7, 16)]


@pytest.mark.parametrize(("hidden", "activation", "normalized"), [
    ((), "relu", False), ((), "relu", True), ((20, 7, 5), "relu", False),
    ((6, 3), "tanh", True), ((4,), "sigmoid", False)])
def test_the_course_networks_are_read_back_with_their_settings(hidden, activation, normalized):
    layers = dense_layers(hidden, activation)
    layers = standardized(layers) if normalized else layers
    assert dense(layers) == Dense(hidden, activation, normalized)
    assert convnet(layers, 64) is None


def test_a_list_the_course_does_not_make_is_no_course_network():
    out_in = [layer("dense", "fc", units=1), layer("sigmoid")]  # PyTorch's layout, not "vector"
    no_activation = dense_layers((3,))[:1] + dense_layers((3,))[2:]
    relu_on_the_logit = logistic_layers()[:1] + [layer("relu")] + logistic_layers()[1:]
    for layers in (out_in, no_activation, relu_on_the_logit, SPECS[0].layers()):
        assert dense(layers) is None


@pytest.mark.parametrize("spec", SPECS, ids=["default", "flatten-hidden", "one-block"])
def test_every_convnet_is_read_back_as_its_spec(spec):
    assert convnet(spec.layers(), spec.image_size, spec.tta) == spec
    assert image_spec(spec.layers(), (3, spec.image_size, spec.image_size), spec.tta) == spec


def test_a_network_of_ones_own_layers_is_no_convnet():
    body = resolve(preset("resnet8"), (3, 64, 64))
    network = NetworkSpec(tuple(body))
    assert convnet(network.layers(), 64) is None
    assert image_spec(network.layers(), (3, 64, 64)) == network
    wider = SPECS[0].layers()
    wider[1] = layer("conv2d", "features.0", filters=16, kernel=5, padding=2)  # not a 3x3
    assert convnet(wider, 64) is None


def test_descriptions_and_summaries():
    assert describe(logistic_layers(), (12288,)) == "logistic regression 12288 -> 1"
    assert describe(dense_layers((20, 7, 5)), (12288,)) == (
        "network 12288 -> 20 -> 7 -> 5 -> 1 (relu)")
    assert describe(SPECS[0].layers(), (3, 64, 64)) == SPECS[0].description
    assert describe([layer("dense", "a", units=1), layer("sigmoid")], (9,)) == (
        "network 9 -> 2 layers -> 1")
    assert summary(dense_layers((20, 7)), (12288,)) == {
        "kind": "network", "description": "network 12288 -> 20 -> 7 -> 1 (relu)",
        "hidden_layer_sizes": [20, 7], "activation": "relu"}
    assert summary(logistic_layers(), (12288,))["kind"] == "logistic regression"
    assert summary(SPECS[0].layers(), (3, 64, 64))["widths"] == [16, 32, 64, 128]
    network = NetworkSpec(tuple(resolve(preset("resnet8"), (3, 64, 64))))
    assert summary(network.layers(), (3, 64, 64))["kind"] == "layers"


def test_older_files_give_the_list_their_family_describes():
    assert legacy_architecture(None, 12288, False) == (logistic_layers(), (12288,), False)
    assert legacy_architecture({"hidden_layer_sizes": [6, 3], "activation": "tanh"}, 10,
                               True) == (standardized(dense_layers((6, 3), "tanh")), (10,),
                                         False)
    spec = SPECS[1]
    assert legacy_architecture(spec.to_json(), 3 * 32 * 32, False) == (
        spec.layers(), (3, 32, 32), True)
    for entry, n, message in [
        ({"hidden_layer_sizes": [0], "activation": "relu"}, 4, "hidden_layer_sizes must be"),
        ({"hidden_layer_sizes": [3], "activation": "softmax"}, 4, "activation must be one of"),
        (spec.to_json(), 12288, "images make 3072 features, but the metadata says n_features"),
    ]:
        with pytest.raises(ValueError, match=message):
            legacy_architecture(entry, n, False)
    with pytest.raises(ValueError, match="the architecture lists 3 layers, but its other "
                                         "entries describe 2"):
        legacy_architecture({"hidden_layer_sizes": [], "activation": "relu"}, 4, False,
                            logistic_layers() + [layer("sigmoid")])
