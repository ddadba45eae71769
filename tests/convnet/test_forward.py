"""The ConvNet's NumPy forward pass (what predicting uses) against its PyTorch module."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.core.errors import ShapeError
from logicat.nn import convnet, forward
from logicat.nn.convnet import ConvNetSpec

torch = pytest.importorskip("torch")
from logicat.engines.torch.layers import ConvNet, images_to_tensor  # noqa: E402

SPECS = [ConvNetSpec(widths=(4, 6), convs_per_block=2, head="gap", hidden=5, image_size=16),
         ConvNetSpec(widths=(3, 5, 4), convs_per_block=1, head="flatten", hidden=0,
                     image_size=32)]


def _random_net(spec, seed):
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
    net = _random_net(spec, 0)
    images = cat_data.train_x[:6, ::64 // spec.image_size, ::64 // spec.image_size]
    with torch.no_grad():
        expected = net(images_to_tensor(images, torch.float64)).numpy()
    params = net.numpy_params()
    assert list(params) == list(convnet.param_shapes(spec))
    features = images.reshape(len(images), -1) / 255.0
    np.testing.assert_allclose(convnet.logits(spec, params, features), expected, rtol=0,
                               atol=1e-10)
    with torch.no_grad():
        maps = net.features[:-1](net.input(images_to_tensor(images, torch.float64))).numpy()
    np.testing.assert_allclose(convnet.feature_maps(spec, params, images), maps, rtol=0,
                               atol=1e-10)


@pytest.mark.parametrize("kernel, stride, padding", [(3, 1, 1), (5, 2, 0), (2, 3, 2)])
def test_conv2d_against_torch(kernel, stride, padding):
    rng = np.random.default_rng(1)
    x, W = rng.normal(size=(35, 3, 9, 7)), rng.normal(size=(4, 3, kernel, kernel))
    b = rng.normal(size=4)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(W),
                                          torch.from_numpy(b), stride=stride, padding=padding)
    got = forward.conv2d(x.transpose(0, 2, 3, 1), W, b, stride, padding)  # channels last
    np.testing.assert_allclose(got.transpose(0, 3, 1, 2), expected.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 3), (3, 2)])
def test_maxpool_against_torch(kernel, stride):
    x = np.random.default_rng(2).normal(size=(3, 2, 9, 8))
    expected = torch.nn.functional.max_pool2d(torch.from_numpy(x), kernel, stride)
    got = forward.maxpool(x.transpose(0, 2, 3, 1), kernel, stride)
    np.testing.assert_array_equal(got.transpose(0, 3, 1, 2), expected.numpy())


def test_parameters_must_match_the_architecture():
    spec = SPECS[0]
    params = _random_net(spec, 0).numpy_params()
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
