"""``Dense`` (``logicat.nn.layer_types.dense``), in each of its layouts, through every check of
``checks.LayerTypeChecks``: backward against finite differences and torch.autograd, forward
against onnxruntime, value bounds, the torch module read back."""

from __future__ import annotations

from logicat.nn.layer_types import Dense, ReLU, Tanh
from tests.nn.layer_types.checks import VECTOR, LayerTypeChecks

#: type -> {variant: (the layers, unresolved; the input's shape)}
CASES = {
    "dense": {"layouts": ([Dense(5, bias=False), ReLU(), Dense(3, layout="in_out"), Tanh(),
                           Dense(1, layout="vector")], VECTOR)},
}


class TestDense(LayerTypeChecks):
    pass
