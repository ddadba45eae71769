"""``Residual`` (``logicat.nn.layer_types.residual``), with an identity and with a 1x1-conv
shortcut, through every check of ``checks.LayerTypeChecks``: backward against finite differences
and torch.autograd, forward against onnxruntime, value bounds, the torch modules read back."""

from __future__ import annotations

from logicat.nn.layer_types import BatchNorm, Conv2d, ReLU, Residual
from tests.nn.layer_types.checks import IMAGE, LayerTypeChecks, images, resolved

#: type -> {variant: (the layers, unresolved; the input's shape)}
CASES = {
    "residual": {
        "identity": (images(Residual([Conv2d(4), BatchNorm(), ReLU(), Conv2d(4, bias=True),
                                      BatchNorm()]), ReLU()), IMAGE),
        "1x1-conv": (images(Residual([Conv2d(6, stride=2), BatchNorm(), ReLU(),
                                      Conv2d(6, groups=2)]), ReLU()), IMAGE),
    },
}


def test_the_cases_hold_an_identity_and_a_1x1_conv_shortcut():
    shortcuts = [lay.shortcut for _, layers, _ in resolved(CASES) for lay in layers
                 if lay.type == "residual"]
    assert [] in shortcuts and any(shortcuts)


class TestResidual(LayerTypeChecks):
    pass


def test_a_layer_inside_a_block_that_cannot_take_its_input_is_named_by_its_path():
    import pytest

    from logicat.core.errors import ShapeError
    from logicat.nn.layer_types import Dense, Flatten, GlobalAvgPool
    from logicat.nn.layers import resolve

    with pytest.raises(ShapeError, match=r"^layer 1 \(residual\): body layer 1 \(residual\): "
                       r"body layer 0 \(dense\) takes vectors \(n,\)\. Its input has shape "
                       r"\(8, 16, 16\)\.$"):
        resolve([Conv2d(4), Residual([Conv2d(8), Residual([Dense(3)])]), GlobalAvgPool(),
                 Dense(1)], (3, 16, 16))
    with pytest.raises(ShapeError, match=r"^layer 1 \(residual\) turns \(4, 16, 16\) into "
                       r"\(2048,\): a 1x1 convolution cannot"):
        resolve([Conv2d(4), Residual([Conv2d(8), Flatten()]), GlobalAvgPool(), Dense(1)],
                (3, 16, 16))
