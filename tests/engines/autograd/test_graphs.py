"""The lesson's computation graphs built with the engine (``logicat.engines.autograd.graphs``):
the small examples' values and gradients are the lesson's derivatives, a network's cost graph
gives the hand-derived gradients, and the logistic cost passes ``gradcheck``."""

from __future__ import annotations

import numpy as np
import pytest

from logicat import cost_and_gradients
from logicat.engines.autograd import gradcheck
from logicat.engines.autograd import graphs as examples
from logicat.engines.autograd.graphs import logistic_cost, network_cost
from logicat.engines.autograd.tensor import Tensor, topological_order
from logicat.nn.network import Network


def by_name(root):
    """The graph's named nodes, by name."""
    return {n.name: n for n in topological_order(root) if n.name}


def test_abc_values_and_gradients():
    n = by_name(examples.abc())
    assert [n[k].item() for k in "uvJ"] == [6.0, 11.0, 33.0]
    assert [float(n[k].grad) for k in "abc"] == [3.0, 6.0, 9.0]


def test_logistic_example_has_the_lessons_derivatives():
    n = by_name(examples.logistic(x=(1.0, 2.0), w=(0.5, -0.25), b=0.1, y=1.0))
    a, y, x1, x2 = n["a"].item(), n["y"].item(), n["x1"].item(), n["x2"].item()
    dz = a - y
    assert float(n["a"].grad) == pytest.approx(-y / a + (1 - y) / (1 - a))
    assert float(n["z"].grad) == pytest.approx(dz)
    assert float(n["w1"].grad) == pytest.approx(x1 * dz)
    assert float(n["w2"].grad) == pytest.approx(x2 * dz)
    assert float(n["b"].grad) == pytest.approx(dz)


def test_vectorized_example_matches_the_hand_derived_step(cat_features):
    X, y, _, _ = cat_features
    y = y.astype(float)
    n = by_name(examples.vectorized(X, y))
    J, dw, db = cost_and_gradients(np.zeros(X.shape[1]), 0.0, X, y)
    assert n["J"].item() == pytest.approx(np.log(2)) == pytest.approx(J)
    np.testing.assert_allclose(n["Z"].grad, (n["A"].data - y) / len(y), atol=1e-15)
    np.testing.assert_allclose(n["w"].grad, dw, atol=1e-14)
    assert float(n["b"].grad) == pytest.approx(db, abs=1e-14)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_a_network_graph_matches_the_numpy_backward_pass(activation, rng):
    """Any list of layers: the graph's gradients are the hand-derived ones, weights and L2 too."""
    X, y = rng.normal(size=(12, 5)), (rng.random(12) > 0.5).astype(float)
    s = rng.uniform(0.5, 2.0, 12)
    params = [rng.normal(size=(5, 4)), rng.normal(size=4), rng.normal(size=(4, 3)),
              rng.normal(size=3), rng.normal(size=3), rng.normal(size=1)]
    cost, grads = Network.from_params(params, activation).cost_and_gradients(
        X, y, sample_weight=s, alpha=0.7)
    leaves = [Tensor(p, requires_grad=True) for p in params]
    J = network_cost(Tensor(X), Tensor(y), leaves, activation=activation,
                     sample_weight=Tensor(s), alpha=0.7)
    J.backward()
    assert float(J.data) == pytest.approx(cost, rel=1e-13)
    for leaf, g in zip(leaves, grads, strict=True):
        np.testing.assert_allclose(leaf.grad, g, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_logistic_cost_passes_gradcheck(loss, rng):
    X, y = rng.normal(size=(10, 4)), (rng.random(10) > 0.5).astype(float)
    result = gradcheck(
        lambda w, b: logistic_cost(Tensor(X), Tensor(y), w, b, loss), [rng.normal(size=4), 0.1]
    )
    assert result.max_rel_error < 1e-8
