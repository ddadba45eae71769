"""The three families of models (``logicat.nn.families``), each a list of layers: each round
trips through JSON, and the default ConvNet's list has the parameters docs/convnet.md says."""

from __future__ import annotations

import pytest

from logicat.nn.families import convnet_layers, dense_layers, standardized
from logicat.nn.layers import (
    from_json,
    is_linear,
    n_params,
    output_layer,
    shapes,
    to_json,
    values_per_example,
)


class _Spec:
    widths, convs_per_block, head, hidden, image_size = (16, 32, 64, 128), 1, "gap", 0, 64


@pytest.mark.parametrize("layers", [dense_layers(()), standardized(dense_layers((20, 7, 5))),
                                    convnet_layers(_Spec)], ids=["logistic", "mlp", "convnet"])
def test_every_family_round_trips_through_json(layers):
    assert from_json(to_json(layers)) == layers


def test_the_convnet_is_its_layers():
    """The default ConvNet: about 98,000 parameters (docs/convnet.md), its logit from one
    dense unit after global average pooling."""
    layers = convnet_layers(_Spec)
    found, out = shapes(layers, (3, 64, 64))
    assert out == (1,) and found["features.0.weight"] == (16, 3, 3, 3)
    assert found["head.1.weight"] == (1, 128) and output_layer(layers).name == "head.1"
    convs = 9 * (3 * 16 + 16 * 32 + 32 * 64 + 64 * 128)  # 3x3 kernels, no bias
    batch_norms = 4 * (16 + 32 + 64 + 128)  # scale, shift, running mean and variance
    assert n_params(layers, (3, 64, 64)) == convs + batch_norms + (128 + 1) + 2 * 3  # + input
    assert values_per_example(layers, (3, 64, 64)) > 3 * 64 * 64
    assert not is_linear(layers) and is_linear(standardized(dense_layers(())))


@pytest.mark.parametrize("name", ["resnet8", "resnet10", "resnet14"])
def test_the_residual_presets_are_their_depth_and_keep_off_strided_pointwise_convolutions(name):
    from logicat.core.errors import ParameterError
    from logicat.nn.families import PRESETS, preset
    from logicat.nn.layers import resolve, shapes, walk

    blocks, widths = PRESETS[name]
    layers = resolve(preset(name), (3, 64, 64))
    assert shapes(layers, (3, 64, 64))[1] == (1,)
    residual = [lay for lay in layers if lay.type == "residual"]
    assert len(residual) == blocks * len(widths)
    weighted = 2 + sum(lay.type == "conv2d" for block in residual for lay in block.body)
    assert f"resnet{weighted}" == name  # the stem, two convolutions a block, the logit
    convs = [lay for lay in walk(layers) if lay.type == "conv2d"]
    assert not any(lay["stride"] > lay["kernel"] for lay in convs)  # PyTorch's bug (docs)
    for block in residual:  # a block that halves the side averages before its 1x1 shortcut
        if block.body[0]["stride"] == 2:
            assert [lay.type for lay in block.shortcut] == ["avgpool", "conv2d", "batchnorm"]
    with pytest.raises(ParameterError, match="names a preset: one of resnet8, resnet10"):
        preset("resnet99")
