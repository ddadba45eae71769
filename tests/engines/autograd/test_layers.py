"""logicat's autograd engine (``LayerGraph``, reading the list of layers) against the NumPy
engine's hand-derived backward pass (``logicat.nn.backward``): the same cost and the same
gradient by every trained tensor, in training mode (batch norms on the batch's statistics),
float64, to 1e-10: for the network of residual blocks and the ConvNet family's list of
``tests/nn/test_forward.py``, and every other list there without dropout (the dense families'
included).

Two derivations that share nothing but the layers' forward formulas: the engine chains each
op's local rule (``Tensor``, ``conv``) through the graph each type's ``autograd`` method builds;
NumPy runs each type's ``backward``, written out by hand. Dropout has rate 0 in these lists
(NumPy's engine draws no mask), and the input normalisation is a layer like the others. The
inputs are random: no ReLU input is 0 and no max-pool window tied, so both engines' rules give
the one derivative there is."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.engines.autograd.layers import LayerGraph, nchw
from logicat.nn import backward
from logicat.nn.layers import shapes, walk
from tests.nn.test_forward import CASES

CHECKED = [case for case in CASES
           if not any(lay.type == "dropout" and lay["rate"] > 0 for lay in walk(case[1]))]


def _tensors(layers, input_shape, seed=0):
    """Random tensors of the layers' shapes (positive deviations, scales and variances)."""
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(0.5, 2.0, shape) if name.endswith(("std", "scale", "running_var"))
            else rng.normal(0, 0.5, shape)
            for name, shape in shapes(layers, input_shape)[0].items()}


def test_the_check_takes_the_residual_network_and_the_convnet_family():
    assert {"residual-blocks", "the ConvNet family"} <= {case[0] for case in CHECKED}


@pytest.mark.parametrize("name, layers, input_shape", CHECKED, ids=[c[0] for c in CHECKED])
def test_the_engines_gradients_are_numpys_hand_derived_ones(name, layers, input_shape):
    tensors = _tensors(layers, input_shape)
    rng = np.random.default_rng(2)
    if len(input_shape) == 3:  # uint8 images (m, H, W, C), as NumPy's engine takes them
        x = rng.integers(0, 256, (6, *input_shape[1:], input_shape[0]), dtype=np.uint8)
    else:
        x = rng.normal(size=(6, *input_shape))
    y = np.array([1, 0, 1, 1, 0, 0], dtype=np.float64)

    J, (expected, _) = backward.logit_and_gradients(layers, tensors, x, y, training=True)
    net = LayerGraph(layers, input_shape)
    cost, grads, running = net.cost_and_gradients(nchw(x) if x.ndim == 4 else x, y, tensors)

    assert cost == pytest.approx(J, rel=0, abs=1e-12)
    assert list(grads) == net.trained_names() and grads.keys() == expected.keys()
    for key, g in grads.items():
        np.testing.assert_allclose(g, expected[key], rtol=0, atol=1e-10, err_msg=key)
    # the pass updated every batch norm's running statistics, and nothing else
    assert set(running) == {n for n in net.statistic_names() if "running" in n}
