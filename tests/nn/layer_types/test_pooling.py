"""``MaxPool``, ``AvgPool`` and ``GlobalAvgPool`` (``logicat.nn.layer_types.pooling``) through
every check of ``checks.LayerTypeChecks``: backward against finite differences and
torch.autograd, forward against onnxruntime, value bounds, the torch module read back; and
max pooling (``nn.forward.maxpool``) against torch's."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.nn import forward
from logicat.nn.layer_types import (
    AvgPool,
    BatchNorm,
    Conv2d,
    Dense,
    Flatten,
    GlobalAvgPool,
    MaxPool,
    ReLU,
    Tanh,
)
from tests.nn.layer_types.checks import IMAGE, LayerTypeChecks, images, torch

#: type -> {variant: (the layers, unresolved; the input's shape)}
CASES = {
    "maxpool": {"2": ([Conv2d(4, bias=True), BatchNorm(), MaxPool(2), ReLU(), GlobalAvgPool(),
                       Dense(1)], IMAGE),
                "3-stride-2": ([Conv2d(4), Tanh(), MaxPool(3, stride=2), Flatten(), Dense(1)],
                               IMAGE)},
    "avgpool": {"3-stride-2": (images(AvgPool(3, stride=2)), IMAGE),
                "2": ([Conv2d(3), AvgPool(), Flatten(), Dense(1)], IMAGE)},
    "gap": {"images": (images(), IMAGE)},
}


class TestPooling(LayerTypeChecks):
    pass


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 3), (3, 2)])
def test_maxpool_against_torch(kernel, stride):
    x = np.random.default_rng(2).normal(size=(3, 2, 9, 8))
    expected = torch.nn.functional.max_pool2d(torch.from_numpy(x), kernel, stride)
    got = forward.maxpool(x.transpose(0, 2, 3, 1), kernel, stride)
    np.testing.assert_array_equal(got.transpose(0, 3, 1, 2), expected.numpy())
