"""A small ConvNet trained a few SGD steps in logicat's engine and in PyTorch, from the same
tensors, on real cat images (float64): the same losses, parameters and running statistics.

Nothing is shared between the two but the starting numbers: the engine reads a list of
logicat's layers (``logicat.nn.layers``), each layer named as its twin's index in an
``nn.Sequential`` so the ``state_dict`` keys are the tensors' names, and computes its graph with
each type's ``autograd`` expression, ``logicat.engines.autograd.conv`` (im2col convolution,
max-pooling, batch norm) and its own backward rules; torch runs plain ``nn.Sequential`` modules,
``BCEWithLogitsLoss`` and ``torch.optim.SGD``. ``nn.AdaptiveAvgPool2d(1), nn.Flatten()`` are the
one ``gap`` layer (so the dense layer after them keeps the Sequential's index).

The layer vocabulary has square kernels and no padded pooling: the strided case, which once
took a (3, 2) kernel with padding (0, 1) and a padded 3x3 max-pool, takes a 3x3 kernel with
padding 1 and an unpadded overlapping max-pool; a third case checks the grouped convolution,
batch norm after it, leaky ReLU and overlapping average pooling.
"""

from __future__ import annotations

import numpy as np
import pytest

from logicat.core.errors import ParameterError, ShapeError
from logicat.engines.autograd import Tensor
from logicat.engines.autograd.layers import LayerGraph, nchw, split_state_dict
from logicat.engines.autograd.static import Graph, placeholder
from logicat.nn.layers import layer as L

torch = pytest.importorskip("torch")
nn = torch.nn

STEPS, LEARNING_RATE, TOL = 4, 0.1, 1e-8
INPUT = (3, 32, 32)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: the layers, each named as its twin torch.nn module's index
DEEP = [
    L("conv2d", "0", filters=4), L("batchnorm", "1"), L("relu"), L("maxpool"),
    L("conv2d", "4", filters=8), L("batchnorm", "5", eps=1e-3), L("relu"), L("maxpool"),
    L("gap"), L("dense", "10", units=8), L("relu"), L("dropout", rate=0.25),
    L("dense", "13", units=1),
]


def deep_torch():
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, stride=1, padding=1, bias=False), nn.BatchNorm2d(8, eps=1e-3),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 8), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(8, 1))


#: strided, padded, biased convolution, overlapping pooling, tanh, momentum, flatten
STRIDED = [
    L("conv2d", "0", filters=4, stride=2, bias=True), L("batchnorm", "1", momentum=0.3),
    L("tanh"), L("maxpool", kernel=3, stride=2), L("flatten"), L("dense", "5", units=1),
]


def strided_torch():
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4, momentum=0.3),
        nn.Tanh(), nn.MaxPool2d(3, stride=2), nn.Flatten(), nn.Linear(4 * 7 * 7, 1))


#: a grouped, strided convolution, leaky ReLU, overlapping average pooling
GROUPED = [
    L("conv2d", "0", filters=4, bias=True), L("conv2d", "1", filters=8, stride=2, groups=2),
    L("batchnorm", "2"), L("leaky_relu", slope=0.2), L("avgpool", kernel=3, stride=2),
    L("flatten"), L("dense", "6", units=1),
]


def grouped_torch():
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2,
                                                 bias=False),
        nn.BatchNorm2d(8), nn.LeakyReLU(0.2), nn.AvgPool2d(3, stride=2), nn.Flatten(),
        nn.Linear(8 * 7 * 7, 1))


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


def _train_in_logicat(layers, X, y, tensors, masks):
    net = LayerGraph(layers, INPUT)
    losses = []
    for step in range(STEPS):
        J, grads, running = net.cost_and_gradients(X, y, tensors, masks[step])
        tensors = {name: value - LEARNING_RATE * grads[name] if name in grads else value
                   for name, value in tensors.items()} | running
        losses.append(J)
    return losses, tensors


@pytest.mark.parametrize(("layers", "make"), [(DEEP, deep_torch), (STRIDED, strided_torch),
                                              (GROUPED, grouped_torch)],
                         ids=["deep", "strided", "grouped"])
def test_sgd_steps_match_pytorch(images, layers, make):
    X, y = images
    torch.manual_seed(0)
    model = make().double().train()
    trained, statistics = split_state_dict(model.state_dict())
    net = LayerGraph(layers, INPUT)
    assert net.trained_names() == [k for k, _ in model.named_parameters()] == list(trained)
    assert net.statistic_names() == list(statistics)

    masks: list = []
    torch_losses = _train_in_torch(model, X, y, masks)
    losses, tensors = _train_in_logicat(layers, X, y, trained | statistics, masks)
    assert all(0 < mask.mean() < 1 for step in masks for mask in step)  # dropout did drop

    np.testing.assert_allclose(losses, torch_losses, rtol=0, atol=TOL)
    assert torch_losses[-1] < torch_losses[0]  # the steps did train
    torch_trained, torch_statistics = split_state_dict(model.state_dict())
    theirs = torch_trained | torch_statistics
    assert tensors.keys() == theirs.keys()
    for name, value in tensors.items():
        np.testing.assert_allclose(value, theirs[name], rtol=0, atol=TOL, err_msg=name)
    # and in evaluation mode, with the running statistics: the same logits
    z = net.forward(X, tensors, training=False).logits
    with torch.no_grad():
        torch_z = model.eval()(torch.tensor(X)).reshape(-1).numpy()
    np.testing.assert_allclose(z.data, torch_z, rtol=0, atol=TOL)


def test_a_static_graph_gives_the_dynamic_numbers(images, rng):
    X, y = images
    torch.manual_seed(1)
    trained, statistics = split_state_dict(deep_torch().double().state_dict())
    net = LayerGraph(DEEP, INPUT)
    mask = (rng.random((len(X), 8)) > 0.25).astype(float)
    X_p, y_p = placeholder("X", (None, *INPUT)), placeholder("y", (None,))
    mask_p = placeholder("mask", (None, 8))
    trained_p = {name: placeholder(name, value.shape, requires_grad=True)
                 for name, value in trained.items()}
    defined = net.forward(X_p, statistics | trained_p, y_p, masks=[mask_p])
    graph = Graph(defined.cost)
    fed = {trained_p[name]: value for name, value in trained.items()}
    for batch in (slice(0, 16), slice(3, 9)):  # any batch size, as fed
        feed = {X_p: X[batch], y_p: y[batch], mask_p: mask[batch]}
        J, grads = graph.run(feed | fed, grads=list(trained_p.values()))
        J_dyn, grads_dyn, running_dyn = net.cost_and_gradients(
            X[batch], y[batch], trained | statistics, [mask[batch]])
        assert J == J_dyn
        for name, g in zip(trained_p, grads, strict=True):
            np.testing.assert_array_equal(g, grads_dyn[name])
        replayed = net.updated_running(defined, statistics)
        assert replayed.keys() == running_dyn.keys() == {
            f"{i}.{s}" for i in (1, 5) for s in ("running_mean", "running_var")}
        for name, value in replayed.items():
            np.testing.assert_array_equal(value, running_dyn[name])


def test_split_state_dict_reads_numpy_arrays_too():
    state = {"0.weight": np.ones((2, 3, 3, 3)), "1.weight": np.ones(2), "1.bias": np.zeros(2),
             "1.running_mean": np.zeros(2), "1.running_var": np.ones(2),
             "1.num_batches_tracked": np.array(0)}
    trained, statistics = split_state_dict(state)
    assert {k: v.shape for k, v in trained.items()} == {
        "0.weight": (2, 3, 3, 3), "1.weight": (2,), "1.bias": (2,)}
    assert {k: v.tolist() for k, v in statistics.items()} == {
        "1.running_mean": [0.0, 0.0], "1.running_var": [1.0, 1.0]}


def test_layer_and_tensor_errors(rng):
    X = rng.normal(size=(2, 3, 8, 8))
    with pytest.raises(ParameterError, match=r"layer 0 \(conv2d\) holds tensors but has no "
                                             "name"):
        LayerGraph([L("conv2d", filters=4), L("gap"), L("dense", "2", units=1)], (3, 8, 8))
    with pytest.raises(ShapeError, match=r"one logit per example, \(1,\). They give \(2,\)"):
        LayerGraph([L("gap"), L("dense", "1", units=2)], (3, 8, 8))
    with pytest.raises(ShapeError, match=r"layer 0 \(dense\) takes vectors"):
        LayerGraph([L("dense", "0", units=1)], (3, 8, 8))
    layers = [L("conv2d", "0", filters=4), L("batchnorm", "1"), L("gap"),
              L("dense", "3", units=1), L("sigmoid")]  # the sigmoid is the loss's
    net = LayerGraph(layers, (3, 8, 8))
    assert net.trained_names() == ["0.weight", "1.weight", "1.bias", "3.weight", "3.bias"]
    assert net.statistic_names() == ["1.running_mean", "1.running_var"]
    good = {"0.weight": rng.normal(size=(4, 3, 3, 3)), "1.weight": np.ones(4),
            "1.bias": np.zeros(4), "1.running_mean": np.zeros(4), "1.running_var": np.ones(4),
            "3.weight": rng.normal(size=(1, 4)), "3.bias": np.zeros(1)}
    with pytest.raises(ParameterError, match=r"need the tensor '3.bias' of shape \(1,\)"):
        net.forward(X, {k: v for k, v in good.items() if k != "3.bias"})
    with pytest.raises(ShapeError, match=r"'0.weight' must have shape \(4, 3, 3, 3\) for these "
                                         r"layers. Got \(4, 2, 3, 3\)"):
        net.forward(X, good | {"0.weight": rng.normal(size=(4, 2, 3, 3))})
    with pytest.raises(ShapeError, match=r"take inputs of shape \(m, \*\(3, 8, 8\)\)"):
        net.forward(X[:, :, :4], good)
    flat = [L("flatten"), L("dropout", "drop", rate=0.5), L("dense", "2", units=1, bias=False)]
    weight = {"2.weight": rng.normal(size=(1, 192))}
    with pytest.raises(ParameterError, match="drop drops in training: give a keep-mask"):
        LayerGraph(flat, (3, 8, 8)).forward(X, weight)
    with pytest.raises(ParameterError, match="1 dropout layers that drop, one keep-mask each. "
                                             "Got 2"):
        LayerGraph(flat, (3, 8, 8)).forward(X, weight, masks=[np.ones((2, 192))] * 2)
    # rate 0 and evaluation mode need no mask
    flat[1] = L("dropout", rate=0.0)
    z = LayerGraph(flat, (3, 8, 8)).forward(X, {"2.weight": np.ones((1, 192))}).logits
    np.testing.assert_allclose(z.data, X.reshape(2, -1).sum(axis=1))
    assert isinstance(z, Tensor)
