"""What the reader checks of a list of layers before it runs (``logicat.nn.bounds``): the range
bound is a true bound of every value the NumPy engine computes, it refuses tensors that would
overflow and names them, the layers' tensor needs, and the memory figures."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.nn import bounds, forward
from logicat.nn.layers import layer, n_params, values_per_example
from tests.nn.conftest import extreme_inputs, random_tensors
from tests.nn.test_forward import IMAGES, VECTORS

CASES = {**{k: (v, (3, 16, 16)) for k, v in IMAGES.items()},
         **{k: (v, (10,)) for k, v in VECTORS.items()}}


@pytest.mark.parametrize("case", CASES)
def test_each_layers_bound_holds_every_value_it_computes(case):
    layers, shape = CASES[case]
    tensors = random_tensors(layers, shape)
    x = extreme_inputs(shape)
    limits = bounds.peaks(layers, tensors, shape)
    for i, (peak, _) in enumerate(limits):
        out = forward.run(layers[:i + 1], tensors, x)
        assert np.max(np.abs(out)) <= peak * (1 + 1e-12), (i, layers[i].type)


def test_a_tensor_that_would_overflow_float32_is_named():
    layers, shape = CASES["conv-bn-pools"]
    tensors = random_tensors(layers, shape)
    assert bounds.check_range(layers, tensors, shape, np.dtype(np.float32)) is None
    tensors["c1.weight"] = tensors["c1.weight"] * 1e37
    problem = bounds.check_range(layers, tensors, shape, np.dtype(np.float32))
    assert problem.startswith("the tensor 'c1.weight' lets layer 5 (conv2d) reach")
    assert "float32" in problem
    assert bounds.check_range(layers, tensors, shape, np.dtype(np.float64)) is None


@pytest.mark.parametrize("name, value, why", [
    ("b0.running_var", -1e-5, "'b0.running_var' must be a variance: >= 0. Got -1e-05 at index"),
    ("input.std", 0.0, "'input.std' must be a standard deviation: > 0. Got 0 at index"),
])
def test_what_each_layer_needs_of_its_tensors(name, value, why):
    layers, shape = CASES["conv-bn-pools"]
    tensors = random_tensors(layers, shape)
    assert bounds.check_tensors(layers, tensors) is None
    tensors[name][1] = value
    assert why in bounds.check_tensors(layers, tensors)


def test_a_tiny_standard_deviation_is_an_overflow():
    layers = [layer("normalize", "input"), layer("dense", "d", units=1), layer("sigmoid")]
    tensors = {"input.mean": np.zeros(3), "input.std": np.full(3, 1e-300),
               "d.weight": np.ones((1, 3)) * 1e10, "d.bias": np.zeros(1)}
    assert "'d.weight' lets layer 1 (dense)" in bounds.check_range(layers, tensors, (3,),
                                                                   np.dtype(np.float64))


def test_the_memory_figures():
    layers, shape = CASES["conv-bn-pools"]
    one = bounds.forward_bytes(layers, shape, np.float32, 1)
    assert bounds.forward_bytes(layers, shape, np.float32, 10) > one
    assert bounds.forward_bytes(layers, shape, np.float64, 1) == 2 * one
    kept = bounds.forward_bytes(layers, shape, np.float32, 1, with_gradients=True)
    assert kept >= 2 * 4 * values_per_example(layers, shape)
    assert bounds.rows_per_pass(layers, shape, np.float32, budget=10 * one) == 10
    assert bounds.rows_per_pass(layers, shape, np.float32, budget=1) == 1
    assert bounds.training_bytes(layers, shape, np.float32, 8) == 4 * (
        4 * n_params(layers, shape) + 3 * 8 * values_per_example(layers, shape))


def test_the_graphs_memory_counts_every_value_gradient_and_saved_patch():
    """``graph_bytes`` (``logicat graph --model``) by hand for one convolution, 3 -> 4 channels
    of 3 x 3, padding 1, on 2 images of 8 x 8 in float64: per image the input and its gradient
    (2 x 192), the output and its gradient (2 x 256), the saved im2col matrix (64 x 27 = 1728),
    and at the backward pass's peak its gradient and the padded input (1728 + 3 x 10 x 10);
    then the 108 weights and their gradients (no bias)."""
    conv = [layer("conv2d", "c", filters=4, kernel=3, padding=1, bias=False)]
    per_image = 2 * 192 + 2 * 256 + 1728 + (1728 + 300)
    assert bounds.graph_bytes(conv, (3, 8, 8), np.float64, 2) == 8 * (2 * per_image + 2 * 108)
    layers, shape = CASES["conv-bn-pools"]
    assert bounds.graph_bytes(layers, shape, np.float64, 8) > bounds.forward_bytes(
        layers, shape, np.float64, 8, with_gradients=True)


def test_the_engine_in_passes_gives_the_logits_of_one_pass(monkeypatch):
    layers, shape = CASES["conv-bn-pools"]
    tensors = random_tensors(layers, shape)
    x = np.random.default_rng(0).integers(0, 256, (7, 16, 16, 3), dtype=np.uint8)
    whole = forward.logit(layers, tensors, x)
    monkeypatch.setattr(forward, "rows_per_pass", lambda *a, **k: 2)
    # the same to rounding: BLAS may take another kernel for another number of rows
    np.testing.assert_allclose(forward.logit(layers, tensors, x), whole, rtol=1e-12, atol=0)
