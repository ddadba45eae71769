"""``Normalize`` and ``BatchNorm`` (``logicat.nn.layer_types.normalization``) through every check
of ``checks.LayerTypeChecks``: backward against finite differences and torch.autograd, forward
against onnxruntime, value bounds, the torch module read back."""

from __future__ import annotations

from logicat.nn.layer_types import BatchNorm, Dense, Normalize, ReLU
from tests.nn.layer_types.checks import IMAGE, VECTOR, LayerTypeChecks, images

#: type -> {variant: (the layers, unresolved; the input's shape)}
CASES = {
    "normalize": {"images": ([Normalize(), *images()], IMAGE)},
    "batchnorm": {"images": (images(), IMAGE),
                  "vectors": ([Dense(5), BatchNorm(eps=1e-3), ReLU(), Dense(1)], VECTOR)},
}


class TestNormalization(LayerTypeChecks):
    pass
