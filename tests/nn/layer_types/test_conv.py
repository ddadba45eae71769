"""``Conv2d`` (``logicat.nn.layer_types.conv``) through every check of
``checks.LayerTypeChecks``: backward against finite differences and torch.autograd, forward
against onnxruntime, value bounds, the torch module read back; and the im2col convolution
(``conv2d``) against torch's."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.nn import forward
from logicat.nn.layer_types import BatchNorm, Conv2d, Dense, GlobalAvgPool, ReLU, Tanh
from tests.nn.layer_types.checks import IMAGE, LayerTypeChecks, torch

#: type -> {variant: (the layers, unresolved; the input's shape)}
CASES = {
    "conv2d": {
        "stride-2": ([Conv2d(4, kernel=3, stride=2, bias=True), BatchNorm(), ReLU(),
                      GlobalAvgPool(), Dense(1)], IMAGE),
        "depthwise": ([Conv2d(6), Tanh(), Conv2d(6, groups=6, bias=True), ReLU(),
                       GlobalAvgPool(), Dense(1)], IMAGE),
        "groups-2-kernel-5": ([Conv2d(4, kernel=5, padding=2), Tanh(),
                               Conv2d(6, kernel=2, stride=2, padding=0, groups=2),
                               GlobalAvgPool(), Dense(1)], IMAGE),
    },
}


class TestConv(LayerTypeChecks):
    pass


@pytest.mark.parametrize("kernel, stride, padding", [(3, 1, 1), (5, 2, 0), (2, 3, 2)])
def test_conv2d_against_torch(kernel, stride, padding):
    rng = np.random.default_rng(1)
    x, W = rng.normal(size=(35, 3, 9, 7)), rng.normal(size=(4, 3, kernel, kernel))
    b = rng.normal(size=4)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(W),
                                          torch.from_numpy(b), stride=stride, padding=padding)
    got = forward.conv2d(x.transpose(0, 2, 3, 1), W, b, stride, padding)  # channels last
    np.testing.assert_allclose(got.transpose(0, 3, 1, 2), expected.numpy(), rtol=0, atol=1e-12)
