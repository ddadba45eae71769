"""What every layer type's test runs (``tests/nn/layer_types/test_<module>.py``): each module's
``CASES`` (small networks built around its types) go through each check of ``LayerTypeChecks``,
so that a type that lacks an interpretation, or whose interpretations disagree, fails:

    backward        NumPy's hand-derived rule (``nn.backward.logit_and_gradients``), with batch
                    statistics and with the running ones, against central finite differences of
                    the cost (a few entries of every trained tensor and of the input) and
                    against torch.autograd through ``LayerNet``, in float64
    forward         NumPy's inference against onnxruntime's graph (``io.onnx.layers_to_onnx``)
    peak            ``nn.bounds.peaks`` bounds what each layer computes on inputs in [0, 1]
    from_torch      each type's ``torch_module`` read back gives the layer

``tests/nn/test_layer.py`` gathers every module's cases (``every_case``): each registered type
has one in its module's file, and each list goes through the JSON round trip.

The inputs are kept away from kinks (ReLU inputs at 0, tied max-pool windows): a draw with any
within ``MARGIN`` is redrawn, so that a finite difference crosses none.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from logicat.nn import backward, bounds, forward
from logicat.nn.layer import TRAINED_ROLES, TYPES, where
from logicat.nn.layer_types import BatchNorm, Conv2d, Dense, GlobalAvgPool, ReLU
from logicat.nn.layers import resolve
from tests.nn.conftest import extreme_inputs, onnx_logit, random_tensors

torch = pytest.importorskip("torch")

from logicat.engines.torch.layers import LayerNet  # noqa: E402

IMAGE, VECTOR = (3, 8, 8), (6,)
#: the finite differences' step, and how far from a kink every input stays (step << margin)
STEP, MARGIN = 1e-6, 1e-4


def images(*middle, activation=ReLU):
    """A convolution, its batch norm and ``activation``, then ``middle``, pooled to 1 logit."""
    return [Conv2d(4, bias=True), BatchNorm(), activation(), *middle, GlobalAvgPool(),
            Dense(1)]


def resolved(cases) -> list:
    """``CASES`` (type -> {variant: (the layers, unresolved; the input's shape)}) as
    ``("type:variant", the resolved layers, the input's shape)``."""
    return [(f"{kind}:{variant}", resolve(layers, shape), shape)
            for kind, variants in cases.items() for variant, (layers, shape) in variants.items()]


def cases_module(kind: str):
    """Where a registered type's cases live: ``tests/nn/layer_types/test_<its module>.py``."""
    return importlib.import_module(
        f"tests.nn.layer_types.test_{TYPES[kind].__module__.rsplit('.', 1)[1]}")


def every_case() -> dict:
    """The ``CASES`` of every layer type's test module, merged."""
    cases = {}
    for module in sorted({cases_module(kind).__name__ for kind in TYPES}):
        cases.update(importlib.import_module(module).CASES)
    return cases


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


#: the torch module a type reads where its ``torch_module`` is logicat's own
_TORCH_TWIN = {"gap": lambda lay: torch.nn.AdaptiveAvgPool2d(1)}


def _with_shapes(layers, shape):
    """Each layer, those inside residual blocks too, with the shape of one example coming in."""
    for i, lay in enumerate(layers):
        yield lay, shape
        for part in (lay.children and (lay.body, lay.shortcut)) or ():
            yield from _with_shapes(part, shape)
        shape = lay.output_shape(shape, where(i, lay))


@pytest.mark.usefixtures("one_torch_thread")
class LayerTypeChecks:
    """Subclassed once per test module (``class TestConv(LayerTypeChecks)``): every test below
    runs on each of that module's ``CASES``."""

    def pytest_generate_tests(self, metafunc):
        if "layers" in metafunc.fixturenames:
            cases = resolved(metafunc.module.CASES)
            metafunc.parametrize("name, layers, shape", cases, ids=[c[0] for c in cases])

    @pytest.mark.parametrize("training", [True, False], ids=["batch-statistics", "running"])
    def test_backward_matches_finite_differences(self, name, layers, shape, training):
        """Central differences (f(t + h) - f(t - h)) / 2h, h = 1e-6: their error, h^2 f''' / 6
        plus the cost's rounding over h, about 1e-10 here, is what float64 lets them reach; each
        entry agrees to 1e-6 of its value (1e-9 absolute, for entries near 0)."""
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
    def test_backward_matches_torch_autograd(self, name, layers, shape, training):
        """torch.autograd of ``LayerNet`` in float64 (``train()``: batch statistics; dropout's
        rate set to 0 there, as NumPy drops nothing): the same cost and gradients, to 1e-10."""
        tensors, x, y = _problem(layers, shape, seed=len(name))
        cost, (grads, dx) = backward.logit_and_gradients(layers, tensors, x, y,
                                                         training=training)
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
        np.testing.assert_allclose(
            dx, expected.transpose(0, 2, 3, 1) if x.ndim == 4 else expected, rtol=1e-10,
            atol=1e-13)

    def test_forward_matches_onnxruntime(self, name, layers, shape):
        """In float32 where a convolution is involved (onnxruntime's only one), to 1e-5; else in
        float64, to 1e-10."""
        tensors, x, _ = _problem(layers, shape, seed=len(name))
        float32_only = any(inner.type == "conv2d" or (inner.type == "gelu" and inner[
            "approximate"] == "none") for lay in layers for inner in lay.walk())  # Conv, Erf
        dtype, atol = (np.float32, 1e-5) if float32_only else (np.float64, 1e-10)
        tensors = {k: v.astype(dtype) for k, v in tensors.items()}
        np.testing.assert_allclose(onnx_logit(layers, tensors, x),
                                   forward.logit(layers, tensors, x), rtol=0, atol=atol)

    def test_each_layers_peak_bounds_what_it_computes(self, name, layers, shape):
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

    def test_each_types_torch_module_reads_back_as_the_layer(self, name, layers, shape):
        """``from_torch`` of ``torch_module`` gives the layer (a dense layer in PyTorch's
        layout); a type without torch twin classes (``TORCH``) is one torch has no module for."""
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
