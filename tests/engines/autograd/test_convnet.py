"""A small ConvNet trained a few SGD steps in logicat's engine and in PyTorch, from the same
parameters, on real cat images (float64): the same losses, parameters and running statistics.

Nothing is shared between the two but the starting numbers: the engine computes its graph with
``logicat.engines.autograd.conv`` (im2col convolution, max-pooling, batch norm) and its own backward
rules; torch runs ``nn.Sequential``, ``BCEWithLogitsLoss`` and ``torch.optim.SGD``.
"""

from __future__ import annotations

import numpy as np
import pytest

from logicat.core.errors import ParameterError, ShapeError
from logicat.engines.autograd import Tensor
from logicat.engines.autograd.layers import ConvNet, nchw, split_state_dict
from logicat.engines.autograd.static import Graph, placeholder

torch = pytest.importorskip("torch")
nn = torch.nn

STEPS, LEARNING_RATE, TOL = 4, 0.1, 1e-8
pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: spec, and the twin torch.nn modules, layer i for module i
DEEP = [
    ("conv", {"padding": 1, "bias": False}), ("batchnorm", {}), ("relu", {}),
    ("maxpool", {"kernel": 2}),
    ("conv", {"stride": 1, "padding": 1, "bias": False}), ("batchnorm", {"eps": 1e-3}),
    ("relu", {}), ("maxpool", {"kernel": 2}),
    ("gap", {}), ("flatten", {}), ("linear", {}), ("relu", {}), ("dropout", {"p": 0.25}),
    ("linear", {}),
]


def deep_torch():
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, stride=1, padding=1, bias=False), nn.BatchNorm2d(8, eps=1e-3),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 8), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(8, 1))


#: strided, padded, biased convolution, overlapping padded pooling, tanh, momentum, flatten
STRIDED = [
    ("conv", {"stride": 2, "padding": (0, 1)}), ("batchnorm", {"momentum": 0.3}), ("tanh", {}),
    ("maxpool", {"kernel": 3, "stride": 2, "padding": 1}), ("flatten", {}), ("linear", {}),
]


def strided_torch():
    return nn.Sequential(
        nn.Conv2d(3, 4, (3, 2), stride=2, padding=(0, 1)), nn.BatchNorm2d(4, momentum=0.3),
        nn.Tanh(), nn.MaxPool2d(3, stride=2, padding=1), nn.Flatten(), nn.Linear(4 * 8 * 9, 1))


@pytest.fixture(scope="module")
def images(cat_data):
    """16 training images, 8 cats and 8 others, at 32 x 32 (every second pixel): X, y."""
    y = cat_data.train_y
    pick = np.concatenate([np.flatnonzero(y == 1)[:8], np.flatnonzero(y == 0)[:8]])
    return nchw(cat_data.train_x[pick, ::2, ::2]), y[pick].astype(np.float64)


def _train_in_torch(model, X, y, masks_out):
    """STEPS of full-batch SGD in torch. Just before each dropout layer runs, its keep-mask is
    drawn from a copy of the generator's state (nn.Dropout draws bernoulli(1 - p) of its input's
    shape), and what the layer then did is checked against it."""
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.BCEWithLogitsLoss()
    step_masks: list = []

    def read_mask(layer, inputs):
        if not layer.training:
            return
        state = torch.get_rng_state()
        step_masks.append(torch.empty_like(inputs[0]).bernoulli_(1 - layer.p))
        torch.set_rng_state(state)  # the layer makes the very same draw

    def check_mask(layer, inputs, output):
        if not layer.training:
            return
        expected = inputs[0] * (step_masks[-1] / (1 - layer.p))
        torch.testing.assert_close(output, expected, rtol=0, atol=0)

    for layer in model:
        if isinstance(layer, nn.Dropout):
            layer.register_forward_pre_hook(read_mask)
            layer.register_forward_hook(check_mask)
    X_t, y_t = torch.tensor(X), torch.tensor(y)
    losses = []
    for _ in range(STEPS):
        step_masks.clear()
        optimizer.zero_grad()
        loss = loss_fn(model(X_t).reshape(-1), y_t)
        loss.backward()
        optimizer.step()
        masks_out.append([m.numpy() for m in step_masks])
        losses.append(loss.item())
    return losses


def _train_in_logicat(spec, X, y, params, running, masks):
    net = ConvNet(spec)
    losses = []
    for step in range(STEPS):
        J, grads, running = net.cost_and_gradients(X, y, params, running, masks[step])
        params = [p - LEARNING_RATE * g for p, g in zip(params, grads, strict=True)]
        losses.append(J)
    return losses, params, running


@pytest.mark.parametrize(("spec", "make"), [(DEEP, deep_torch), (STRIDED, strided_torch)],
                         ids=["deep", "strided"])
def test_sgd_steps_match_pytorch(images, spec, make):
    X, y = images
    torch.manual_seed(0)
    model = make().double().train()
    params, running = split_state_dict(model.state_dict())
    assert ConvNet(spec).param_names() == [k for k, _ in model.named_parameters()]
    assert ConvNet(spec).running_names() == [
        k for k, _ in model.named_buffers() if not k.endswith("num_batches_tracked")]

    masks: list = []
    torch_losses = _train_in_torch(model, X, y, masks)
    losses, params, running = _train_in_logicat(spec, X, y, params, running, masks)
    assert all(0 < mask.mean() < 1 for step in masks for mask in step)  # dropout did drop

    np.testing.assert_allclose(losses, torch_losses, rtol=0, atol=TOL)
    assert torch_losses[-1] < torch_losses[0]  # the steps did train
    torch_params, torch_running = split_state_dict(model.state_dict())
    for ours, theirs in zip(params + running, torch_params + torch_running, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)
    # and in evaluation mode, with the running statistics: the same logits
    z = ConvNet(spec).forward(X, params, training=False, running=running).logits
    with torch.no_grad():
        torch_z = model.eval()(torch.tensor(X)).reshape(-1).numpy()
    np.testing.assert_allclose(z.data, torch_z, rtol=0, atol=TOL)


def test_a_static_graph_gives_the_dynamic_numbers(images, rng):
    X, y = images
    torch.manual_seed(1)
    params, running = split_state_dict(deep_torch().double().state_dict())
    net = ConvNet(DEEP)
    mask = (rng.random((len(X), 8)) > 0.25).astype(float)
    X_p, y_p = placeholder("X", (None, 3, 32, 32)), placeholder("y", (None,))
    mask_p = placeholder("mask", (None, 8))
    param_p = [placeholder(n, p.shape, requires_grad=True)
               for n, p in zip(net.param_names(), params, strict=True)]
    defined = net.forward(X_p, param_p, y_p, masks=[mask_p])
    graph = Graph(defined.cost)
    for batch in (slice(0, 16), slice(3, 9)):  # any batch size, as fed
        feed = {X_p: X[batch], y_p: y[batch], mask_p: mask[batch]}
        J, grads = graph.run(feed | dict(zip(param_p, params, strict=True)), grads=param_p)
        J_dyn, grads_dyn, running_dyn = net.cost_and_gradients(
            X[batch], y[batch], params, running, [mask[batch]])
        assert J == J_dyn
        for a, b in zip(grads, grads_dyn, strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(net.updated_running(defined, running), running_dyn, strict=True):
            np.testing.assert_array_equal(a, b)


def test_split_state_dict_reads_numpy_arrays_too():
    state = {"0.weight": np.ones((2, 3, 3, 3)), "1.weight": np.ones(2), "1.bias": np.zeros(2),
             "1.running_mean": np.zeros(2), "1.running_var": np.ones(2),
             "1.num_batches_tracked": np.array(0)}
    params, running = split_state_dict(state)
    assert [p.shape for p in params] == [(2, 3, 3, 3), (2,), (2,)]
    assert [r.tolist() for r in running] == [[0.0, 0.0], [1.0, 1.0]]


def test_spec_and_parameter_errors(rng):
    X = rng.normal(size=(2, 3, 8, 8))
    with pytest.raises(ParameterError, match="Layer 0 of the ConvNet must be one of 'conv'"):
        ConvNet([("convolution", {})])
    with pytest.raises(ParameterError, match=r"Layer 1 \(relu\) takes the options none. "
                                             r"Got 'inplace' instead"):
        ConvNet([("conv", {}), ("relu", {"inplace": True})])
    with pytest.raises(ParameterError, match="needs its 'kernel'"):
        ConvNet([("maxpool", {})])
    net = ConvNet([("conv", {"bias": False}), ("batchnorm", {}), ("gap", {}), ("flatten", {}),
                   ("linear", {})])
    assert net.param_names() == ["0.weight", "1.weight", "1.bias", "4.weight", "4.bias"]
    good = [rng.normal(size=(4, 3, 3, 3)), np.ones(4), np.zeros(4), rng.normal(size=(1, 4)),
            np.zeros(1)]
    with pytest.raises(ParameterError, match=r"takes 5 parameters \(0.weight, 1.weight"):
        net.forward(X, good[:4])
    with pytest.raises(ParameterError, match="running statistics are 2 arrays"):
        net.forward(X, good, training=False)
    with pytest.raises(ShapeError, match=r"weight of shape \(out_c, 3, kh, kw\)"):
        net.forward(X, [rng.normal(size=(4, 2, 3, 3)), *good[1:]])
    with pytest.raises(ShapeError, match=r"needs a weight of shape \(out, 4\)"):
        net.forward(X, [*good[:3], rng.normal(size=(1, 5)), np.zeros(1)])
    with pytest.raises(ShapeError, match=r"one logit per image, \(m, 1\). It gives \(2, 2\)"):
        net.forward(X, [*good[:3], rng.normal(size=(2, 4)), np.zeros(2)])
    with pytest.raises(ParameterError, match="needs a keep-mask"):
        ConvNet([("flatten", {}), ("dropout", {"p": 0.5}), ("linear", {})]).forward(
            X, [rng.normal(size=(1, 192)), np.zeros(1)])
    with pytest.raises(ParameterError, match="1 dropout layers, one keep-mask each. Got 2"):
        ConvNet([("flatten", {}), ("dropout", {"p": 0.5}), ("linear", {})]).forward(
            X, [rng.normal(size=(1, 192)), np.zeros(1)], masks=[np.ones((2, 192))] * 2)
    # p = 0 and evaluation mode need no mask
    z = ConvNet([("flatten", {}), ("dropout", {"p": 0.0}), ("linear", {"bias": False})]).forward(
        X, [np.ones((1, 192))]).logits
    np.testing.assert_allclose(z.data, X.reshape(2, -1).sum(axis=1))
    assert isinstance(z, Tensor)
