"""Every registered layer type (``logicat.nn.layer.TYPES``), each interpretation of it checked on
a small network built around it, so that a type that lacks an interpretation, or whose
interpretations disagree, fails here:

    backward        NumPy's hand-derived rule (``nn.backward.logit_and_gradients``), with batch
                    statistics and with the running ones, against central finite differences of
                    the cost (a few entries of every trained tensor and of the input) and
                    against torch.autograd through ``LayerNet``, in float64
    forward         NumPy's inference against onnxruntime's graph (``io.onnx.layers_to_onnx``)
    to_json         ``nn.layers.from_json`` gives the same list back
    peak            ``nn.bounds.peaks`` bounds what each layer computes on inputs in [0, 1]
    from_torch      each type's ``torch_module`` read back gives the layer

The inputs are kept away from kinks (ReLU inputs at 0, tied max-pool windows): a draw with any
within ``MARGIN`` is redrawn, so that a finite difference crosses none.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from logicat.nn import backward, bounds, forward
from logicat.nn.layer import TRAINED_ROLES, TYPES, where
from logicat.nn.layer_types import (
    AvgPool,
    BatchNorm,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    LeakyReLU,
    MaxPool,
    Normalize,
    ReLU,
    Residual,
    Sigmoid,
    Tanh,
)
from logicat.nn.layers import from_json, resolve, to_json
from tests.nn.conftest import extreme_inputs, onnx_logit, random_tensors

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

from logicat.engines.torch.layers import LayerNet  # noqa: E402

IMAGE, VECTOR = (3, 8, 8), (6,)
#: the finite differences' step, and how far from a kink every input stays (step << margin)
STEP, MARGIN = 1e-6, 1e-4


def _images(*middle, activation=ReLU):
    """A convolution, its batch norm and ``activation``, then ``middle``, pooled to 1 logit."""
    return [Conv2d(4, bias=True), BatchNorm(), activation(), *middle, GlobalAvgPool(),
            Dense(1)]


#: type -> {variant: (the layers, unresolved; the input's shape)}
CASES = {
    "normalize": {"images": ([Normalize(), *_images()], IMAGE)},
    "conv2d": {
        "stride-2": ([Conv2d(4, kernel=3, stride=2, bias=True), BatchNorm(), ReLU(),
                      GlobalAvgPool(), Dense(1)], IMAGE),
        "depthwise": ([Conv2d(6), Tanh(), Conv2d(6, groups=6, bias=True), ReLU(),
                       GlobalAvgPool(), Dense(1)], IMAGE),
        "groups-2-kernel-5": ([Conv2d(4, kernel=5, padding=2), Tanh(),
                               Conv2d(6, kernel=2, stride=2, padding=0, groups=2),
                               GlobalAvgPool(), Dense(1)], IMAGE),
    },
    "batchnorm": {"images": (_images(), IMAGE),
                  "vectors": ([Dense(5), BatchNorm(eps=1e-3), ReLU(), Dense(1)], VECTOR)},
    "relu": {"images": (_images(), IMAGE)},
    "leaky_relu": {"slope-0.2": (_images(activation=lambda: LeakyReLU(0.2)), IMAGE)},
    "tanh": {"images": (_images(activation=Tanh), IMAGE)},
    "sigmoid": {"images": (_images(activation=Sigmoid), IMAGE),
                "vectors": ([Dense(4), Sigmoid(), Dense(1)], VECTOR)},
    "maxpool": {"2": ([Conv2d(4, bias=True), BatchNorm(), MaxPool(2), ReLU(), GlobalAvgPool(),
                       Dense(1)], IMAGE),
                "3-stride-2": ([Conv2d(4), Tanh(), MaxPool(3, stride=2), Flatten(), Dense(1)],
                               IMAGE)},
    "avgpool": {"3-stride-2": (_images(AvgPool(3, stride=2)), IMAGE),
                "2": ([Conv2d(3), AvgPool(), Flatten(), Dense(1)], IMAGE)},
    "gap": {"images": (_images(), IMAGE)},
    "flatten": {"images": ([Conv2d(2, stride=2), ReLU(), Flatten(), Dense(3), Tanh(), Dense(1)],
                           IMAGE)},
    "dropout": {"images": (_images(Dropout(0.5)), IMAGE)},
    "dense": {"layouts": ([Dense(5, bias=False), ReLU(), Dense(3, layout="in_out"), Tanh(),
                           Dense(1, layout="vector")], VECTOR)},
    "residual": {
        "identity": (_images(Residual([Conv2d(4), BatchNorm(), ReLU(), Conv2d(4, bias=True),
                                       BatchNorm()]), ReLU()), IMAGE),
        "1x1-conv": (_images(Residual([Conv2d(6, stride=2), BatchNorm(), ReLU(),
                                       Conv2d(6, groups=2)]), ReLU()), IMAGE),
    },
}
ALL = [(f"{kind}:{variant}", resolve(layers, shape), shape)
       for kind, variants in CASES.items() for variant, (layers, shape) in variants.items()]
IDS = [case[0] for case in ALL]


def test_every_registered_type_is_covered():
    """A new type fails here until it has a case (and so every check below)."""
    assert set(CASES) == set(TYPES)
    for kind, variants in CASES.items():
        for variant, (layers, _) in variants.items():
            assert kind in {inner.type for lay in layers for inner in lay.walk()}, variant
    shortcuts = [lay.shortcut for _, layers, _ in ALL for lay in layers if lay.type == "residual"]
    assert [] in shortcuts and any(shortcuts), "an identity and a 1x1-conv shortcut"


def _problem(layers, shape, seed):
    """(tensors, inputs in [0, 1] or N(0, 1), labels): the first draw whose inputs lie
    ``MARGIN`` or more from every kink, with batch statistics and with the running ones."""
    tensors = random_tensors(layers, shape, seed)
    rng = np.random.default_rng(seed)
    for _ in range(50):
        if len(shape) == 3:
            x = rng.uniform(size=(4, shape[1], shape[2], shape[0]))
        else:
            x = rng.normal(size=(4, *shape))
        if not any(backward.kinks(layers, tensors, x, MARGIN, training)
                   for training in (True, False)):
            return tensors, x, np.array([0, 1, 1, 0])
    raise AssertionError("no input away from the kinks in 50 draws")


def _cost(layers, tensors, x, y, training):
    return backward.logit_and_gradients(layers, tensors, x, y, training=training)[0]


@pytest.mark.parametrize("training", [True, False], ids=["batch-statistics", "running"])
@pytest.mark.parametrize("name, layers, shape", ALL, ids=IDS)
def test_backward_matches_finite_differences(name, layers, shape, training):
    """Central differences (f(t + h) - f(t - h)) / 2h, h = 1e-6: their error, h^2 f''' / 6 plus
    the cost's rounding over h, about 1e-10 here, is what float64 lets them reach; each entry
    agrees to 1e-6 of its value (1e-9 absolute, for entries near 0)."""
    tensors, x, y = _problem(layers, shape, seed=len(name))
    _, (grads, dx) = backward.logit_and_gradients(layers, tensors, x, y, training=training)
    trained = {n for lay in layers for inner in lay.walk()
               for role, n in inner.tensor_names().items() if role in TRAINED_ROLES}
    assert set(grads) == trained
    rng = np.random.default_rng(0)
    for what, value, grad in [(n, tensors[n], grads[n]) for n in sorted(trained)] + [
            ("the input", x, dx)]:
        assert grad.shape == value.shape, what
        for flat in rng.choice(value.size, size=min(3, value.size), replace=False):
            index = np.unravel_index(flat, value.shape)
            costs = []
            for sign in (1, -1):
                moved = value.copy()
                moved[index] += sign * STEP
                given = {**tensors, what: moved} if what in tensors else tensors
                costs.append(_cost(layers, given, moved if what == "the input" else x, y,
                                   training))
            numeric = (costs[0] - costs[1]) / (2 * STEP)
            assert abs(numeric - grad[index]) <= 1e-6 * abs(grad[index]) + 1e-9, (
                what, index, numeric, grad[index])


@pytest.mark.parametrize("training", [True, False], ids=["batch-statistics", "running"])
@pytest.mark.parametrize("name, layers, shape", ALL, ids=IDS)
def test_backward_matches_torch_autograd(name, layers, shape, training):
    """torch.autograd of ``LayerNet`` in float64 (``train()``: batch statistics; dropout's rate
    set to 0 there, as NumPy drops nothing): the same cost and gradients, to 1e-10."""
    tensors, x, y = _problem(layers, shape, seed=len(name))
    cost, (grads, dx) = backward.logit_and_gradients(layers, tensors, x, y, training=training)
    net = LayerNet(layers, shape).double().load_numpy_params(tensors).train(training)
    for module in net.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    given = torch.from_numpy(x.transpose(0, 3, 1, 2) if x.ndim == 4 else x).requires_grad_()
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        net(given), torch.from_numpy(y).double())
    theirs.backward()
    assert abs(cost - theirs.item()) <= 1e-12
    for tensor_name, grad in grads.items():
        np.testing.assert_allclose(
            grad, net.file_layout(tensor_name, net.tensor(tensor_name).grad), rtol=1e-10,
            atol=1e-13, err_msg=tensor_name)
    expected = given.grad.numpy()
    np.testing.assert_allclose(dx, expected.transpose(0, 2, 3, 1) if x.ndim == 4 else expected,
                               rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name, layers, shape", ALL, ids=IDS)
def test_forward_matches_onnxruntime(name, layers, shape):
    """In float32 where a convolution is involved (onnxruntime's only one), to 1e-5; else in
    float64, to 1e-10."""
    tensors, x, _ = _problem(layers, shape, seed=len(name))
    convolves = any(inner.type == "conv2d" for lay in layers for inner in lay.walk())
    dtype, atol = (np.float32, 1e-5) if convolves else (np.float64, 1e-10)
    tensors = {k: v.astype(dtype) for k, v in tensors.items()}
    np.testing.assert_allclose(onnx_logit(layers, tensors, x), forward.logit(layers, tensors, x),
                               rtol=0, atol=atol)


@pytest.mark.parametrize("name, layers, shape", ALL, ids=IDS)
def test_to_json_and_from_json_give_the_same_list(name, layers, shape):
    text = json.dumps(to_json(layers))  # through the file's text
    assert from_json(json.loads(text)) == layers


@pytest.mark.parametrize("name, layers, shape", ALL, ids=IDS)
def test_each_layers_peak_bounds_what_it_computes(name, layers, shape):
    """On inputs in [0, 1] (all 0, all 1, 0/1, uniform), each layer's output stays within the
    bound ``peaks`` gives it; the tensors scaled by 0.05 too (small bounds: sigmoid's output
    is near 1/2 however small its input)."""
    for scale in (1.0, 0.05):
        tensors = {k: v * scale if not k.endswith(("std", "running_var")) else v
                   for k, v in random_tensors(layers, shape).items()}
        x = extreme_inputs(shape)
        for i, (peak, _) in enumerate(bounds.peaks(layers, tensors, shape)):
            out = forward.run(layers[:i + 1], tensors, x)
            assert np.max(np.abs(out)) <= peak * (1 + 1e-12), (scale, i, layers[i].type)


#: the torch module a type reads where its ``torch_module`` is logicat's own
_TORCH_TWIN = {"gap": lambda lay: torch.nn.AdaptiveAvgPool2d(1)}


@pytest.mark.parametrize("name, layers, shape", ALL, ids=IDS)
def test_each_types_torch_module_reads_back_as_the_layer(name, layers, shape):
    """``from_torch`` of ``torch_module`` gives the layer (a dense layer in PyTorch's layout);
    a type without torch twin classes (``TORCH``) is one torch has no module for."""
    for lay, given in _with_shapes(layers, shape):
        cls = type(lay)
        if not cls.TORCH:
            assert lay.type in ("normalize", "residual"), lay.type
            continue
        module = lay.torch_module(given)
        if type(module).__name__ not in cls.TORCH:
            module = _TORCH_TWIN[lay.type](lay)
        back = cls.from_torch(module, lay.name)
        expected = dict(lay.options, layout="out_in") if lay.type == "dense" else lay.options
        assert back.options == expected and back.name == lay.name, lay


def test_no_two_types_read_the_same_torch_class():
    names = [name for cls in TYPES.values() for name in cls.TORCH]
    assert len(names) == len(set(names))


def _with_shapes(layers, shape):
    """Each layer, those inside residual blocks too, with the shape of one example coming in."""
    for i, lay in enumerate(layers):
        yield lay, shape
        for part in (lay.children and (lay.body, lay.shortcut)) or ():
            yield from _with_shapes(part, shape)
        shape = lay.output_shape(shape, where(i, lay))
