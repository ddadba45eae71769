"""The layer vocabulary: options checked against one table, shapes inferred, the logit described."""

from __future__ import annotations

import pytest

from logicat.core.errors import ParameterError, ShapeError
from logicat.nn.layers import from_json, layer, shapes


@pytest.mark.parametrize("entry, message", [
    ({"type": "attention"}, "A layer's type must be one of "),
    ({"type": "conv2d", "name": "c", "filters": 0}, "layer 0: A conv2d layer's filters must be "
                                                    "an int in [1, 4096]. Got 0"),
    ({"type": "conv2d", "name": "c"}, "A conv2d layer needs its 'filters' option"),
    ({"type": "relu", "inplace": True}, "A relu layer takes the options none. Got 'inplace'"),
    ({"type": "dropout", "rate": 1.0}, "A dropout layer's rate must be a number in [0.0, 1.0)"),
    ({"type": "batchnorm", "name": "b", "eps": 0}, "eps must be a number in (0.0, 1.0)"),
    ({"type": "dense", "name": "d", "units": 3, "layout": "vector"}, "laid out as a vector "
                                                                     "has 1 unit"),
    ({"type": "dense", "units": 1}, "layer 0 (dense) holds tensors (weight, bias): it needs a "
                                    "name or their names"),
    ({"type": "dense", "name": "x\n", "units": 1}, "layer 0's name must be a short printable"),
])
def test_a_wrong_layer_is_one_line_naming_it(entry, message):
    with pytest.raises(ParameterError) as err:
        from_json([entry])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_shapes_that_do_not_fit_are_refused():
    with pytest.raises(ShapeError,
                       match=r"layer 1 \(conv2d\): its 5x5 window is larger than its 4x4"):
        shapes([layer("normalize", "n"), layer("conv2d", "c", filters=2, kernel=5, padding=0)],
               (3, 4, 4))
    with pytest.raises(ShapeError, match=r"layer 0 \(dense\) takes vectors"):
        shapes([layer("dense", "d", units=1)], (3, 4, 4))
    with pytest.raises(ParameterError, match="list of 1 to 256"):
        from_json([{"type": "relu"}] * 257)


def test_the_logit_is_described_by_what_comes_into_the_output_layer():
    from logicat.nn.families import convnet_layers, dense_layers, standardized
    from logicat.nn.layers import logit_description

    class Spec:
        widths, convs_per_block, head, hidden, image_size = (4, 8), 1, "gap", 0, 16

    assert logit_description(dense_layers(())) == "z = w.x + b"
    assert logit_description(standardized(dense_layers(()))) == "z = w.x + b"
    assert logit_description(dense_layers((7,))) == (
        "z = w.a + b, a the last hidden layer's activations")
    assert logit_description(convnet_layers(Spec(), dropout=0.5)) == (
        "z = w.h + b, h the mean of each of the last feature maps")
