"""The ConvNet (``logicat.nn.convnet``): its NumPy forward pass (what predicting uses) against
its PyTorch module."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.model import Model
from logicat.nn import convnet
from logicat.nn.convnet import ConvNetSpec

torch = pytest.importorskip("torch")
from logicat.engines.torch.layers import ConvNet, images_to_tensor  # noqa: E402

SPECS = [ConvNetSpec(widths=(4, 6), convs_per_block=2, head="gap", hidden=5, image_size=16),
         ConvNetSpec(widths=(3, 5, 4), convs_per_block=1, head="flatten", hidden=0,
                     image_size=32)]


def random_net(spec, seed):
    """A module with random weights and BN statistics (not the defaults, which hide bugs)."""
    torch.manual_seed(seed)
    net = ConvNet(spec).double()
    with torch.no_grad():
        for name, buffer in net.state_dict().items():
            if name.endswith(("running_mean", "bias")):
                buffer.normal_(0, 0.3)
            elif name.endswith("running_var") or name == "input.std":
                buffer.uniform_(0.5, 2.0)
            elif name == "input.mean":
                buffer.uniform_(0.3, 0.6)
    return net.eval()


@pytest.mark.parametrize("spec", SPECS, ids=["gap-hidden", "flatten"])
def test_numpy_forward_is_the_modules_to_1e_10(spec, cat_data):
    net = random_net(spec, 0)
    images = cat_data.train_x[:6, ::64 // spec.image_size, ::64 // spec.image_size]
    with torch.no_grad():
        expected = net(images_to_tensor(images, torch.float64)).numpy()
    params = net.numpy_params()
    assert list(params) == list(convnet.param_shapes(spec))
    features = images.reshape(len(images), -1) / 255.0
    model = Model(spec.layers(), params, (3, spec.image_size, spec.image_size))
    np.testing.assert_allclose(model.member_logits(features)[0], expected, rtol=0, atol=1e-10)
    with torch.no_grad():
        maps = net.features[:-1](net.input(images_to_tensor(images, torch.float64))).numpy()
    np.testing.assert_allclose(convnet.feature_maps(spec, params, images), maps, rtol=0,
                               atol=1e-10)
