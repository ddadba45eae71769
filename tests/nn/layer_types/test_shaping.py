"""``Flatten`` and ``Dropout`` (``logicat.nn.layer_types.shaping``) through every check of
``checks.LayerTypeChecks``: backward against finite differences and torch.autograd, forward
against onnxruntime, value bounds, the torch module read back."""

from __future__ import annotations

from logicat.nn.layer_types import Conv2d, Dense, Dropout, Flatten, ReLU, Tanh
from tests.nn.layer_types.checks import IMAGE, LayerTypeChecks, images

#: type -> {variant: (the layers, unresolved; the input's shape)}
CASES = {
    "flatten": {"images": ([Conv2d(2, stride=2), ReLU(), Flatten(), Dense(3), Tanh(), Dense(1)],
                           IMAGE)},
    "dropout": {"images": (images(Dropout(0.5)), IMAGE)},
}


class TestShaping(LayerTypeChecks):
    pass
