"""``ReLU``, ``LeakyReLU``, ``Tanh``, ``Sigmoid`` and ``GELU``
(``logicat.nn.layer_types.activations``) through every check of ``checks.LayerTypeChecks``:
backward against finite differences and torch.autograd, forward against onnxruntime, value
bounds, the torch module read back."""

from __future__ import annotations

from logicat.nn.layer_types import GELU, Dense, LeakyReLU, Sigmoid, Tanh
from tests.nn.layer_types.checks import IMAGE, VECTOR, LayerTypeChecks, images

#: type -> {variant: (the layers, unresolved; the input's shape)}
CASES = {
    "relu": {"images": (images(), IMAGE)},
    "leaky_relu": {"slope-0.2": (images(activation=lambda: LeakyReLU(0.2)), IMAGE)},
    "tanh": {"images": (images(activation=Tanh), IMAGE)},
    "sigmoid": {"images": (images(activation=Sigmoid), IMAGE),
                "vectors": ([Dense(4), Sigmoid(), Dense(1)], VECTOR)},
    "gelu": {"images": (images(activation=GELU), IMAGE),
             "tanh": (images(activation=lambda: GELU("tanh")), IMAGE),
             "vectors": ([Dense(4), GELU(), Dense(1)], VECTOR)},
}


class TestActivations(LayerTypeChecks):
    pass
