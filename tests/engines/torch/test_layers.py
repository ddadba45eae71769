"""The PyTorch modules that interpret a list of layers (``logicat.engines.torch.layers``): a
module refuses tensors that do not match its layers. (``tests/nn/test_forward.py`` checks their
logits against NumPy's and ONNX's; ``tests/nn/layer_types/`` their gradients.)"""

from __future__ import annotations

import numpy as np
import pytest

from logicat.core.errors import ShapeError

torch = pytest.importorskip("torch")
from logicat.engines.torch.layers import ConvNet  # noqa: E402
from tests.nn.test_convnet import SPECS, random_net  # noqa: E402


def test_parameters_must_match_the_architecture():
    spec = SPECS[0]
    params = random_net(spec, 0).numpy_params()
    params["features.3.weight"] = np.zeros((6, 5, 3, 3))
    with pytest.raises(ShapeError, match=r"'features.3.weight' has shape \(6, 5, 3, 3\); its "
                       r"layer says \(4, 4, 3, 3\)"):
        ConvNet(spec).double().load_numpy_params(params)
    del params["features.3.weight"]
    with pytest.raises(ShapeError, match="'features.3.weight' is missing"):
        ConvNet(spec).double().load_numpy_params(params)
    params["features.3.weight"], params["head.9.weight"] = np.zeros((4, 4, 3, 3)), np.zeros(1)
    with pytest.raises(ShapeError, match="unexpected tensor 'head.9.weight'"):
        ConvNet(spec).double().load_numpy_params(params)
