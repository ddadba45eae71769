"""One network, three engines: numpy's backward pass, logicat's graph (dynamic and static) and
PyTorch agree, and all of them agree with finite differences and ``torch.autograd``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logicat import MLPClassifier
from logicat.nn.init import initial_params
from logicat.nn.layers import ACTIVATIONS
from logicat.nn.network import Network
from logicat.training.objectives import make_objective, static_objective

DEEP = dict(hidden_layer_sizes=(20, 7, 5), init="lecun_normal", random_state=1,
            learning_rate=0.0075)


@pytest.mark.parametrize("engine", ["autograd", "torch"])
def test_the_engines_train_the_deep_model_alike(cat_features, engine):
    """The first 25 iterations of the course's deep model, float64: every cost and parameter
    of each engine against the numpy engine's (primal and span solvers), to 1e-10."""
    if engine == "torch":
        pytest.importorskip("torch")
    X, y, _, _ = cat_features
    runs = {"gram": MLPClassifier(**DEEP, max_iter=25).fit(X, y),
            "primal": MLPClassifier(**DEEP, max_iter=25, solver="primal").fit(X, y),
            engine: MLPClassifier(**DEEP, max_iter=25, engine=engine, device="cpu").fit(X, y)}
    ref = runs.pop("primal")
    for run in runs.values():
        np.testing.assert_allclose(run.cost_history_, ref.cost_history_, rtol=0, atol=1e-10)
        for a, b in zip(run.coefs_ + run.intercepts_, ref.coefs_ + ref.intercepts_, strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_static_and_dynamic_graphs_and_numpy_give_one_objective(cat_features, activation):
    X, y, _, _ = cat_features
    X, y = X[:60], y[:60].astype(float)
    params = initial_params("lecun_normal", X.shape[1], (6, 3), random_state=0)
    cost, grads = Network.from_params(params, activation).cost_and_gradients(X, y)
    shapes = [p.shape for p in params]
    for objective in (make_objective("autograd", X, y, activation=activation, n_layers=3),
                      static_objective(X, y, shapes, activation=activation)):
        c, g = objective(params)
        assert c == pytest.approx(cost, rel=1e-13)
        for a, b in zip(g, grads, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


@st.composite
def networks(draw):
    """A small random network, its data, weights and L2: (params, X, y, s, alpha, activation)."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    n, m = draw(st.integers(1, 5)), draw(st.integers(2, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params = initial_params("glorot_uniform", n, tuple(sizes),
                            random_state=np.random.default_rng(rng.integers(2**32)))
    params = [p + 0.1 * rng.normal(size=p.shape) for p in params]  # biases off zero too
    X, y = rng.normal(size=(m, n)), (rng.random(m) > 0.5).astype(float)
    s = rng.uniform(0.2, 2.0, m) if draw(st.booleans()) else None
    alpha = draw(st.sampled_from([0.0, 0.3]))
    # relu's kink: keep pre-activations away from 0 by testing tanh and sigmoid here, relu below
    return params, X, y, s, alpha, draw(st.sampled_from(["tanh", "sigmoid"]))


@settings(max_examples=40, deadline=None)
@given(networks(), st.sampled_from(["cross_entropy", "squared_error"]))
def test_the_backward_pass_against_finite_differences(case, loss):
    params, X, y, s, alpha, activation = case
    network = Network.from_params(params, activation)
    _, grads = network.cost_and_gradients(X, y, loss, sample_weight=s, alpha=alpha)
    eps = 1e-6
    for p, g in zip(params, grads, strict=True):
        numeric = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            saved = p[i]
            p[i] = saved + eps
            plus = network.cost_and_gradients(X, y, loss, sample_weight=s, alpha=alpha)[0]
            p[i] = saved - eps
            minus = network.cost_and_gradients(X, y, loss, sample_weight=s, alpha=alpha)[0]
            p[i] = saved
            numeric[i] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(networks(), st.sampled_from(["relu", "tanh", "sigmoid"]))
def test_the_backward_pass_against_torch_autograd(case, activation):
    torch = pytest.importorskip("torch")
    from logicat.engines.torch.model import dense_net, torch_loss

    params, X, y, s, alpha, _ = case
    cost, grads = Network.from_params(params, activation).cost_and_gradients(
        X, y, sample_weight=s, alpha=alpha)
    module = dense_net(params, activation, torch.float64)
    z = module(torch.from_numpy(X))
    yt = torch.from_numpy(y)
    if s is None:
        J = torch_loss(z, yt, "cross_entropy")
        total = len(y)
    else:
        st_ = torch.from_numpy(s)
        J = (st_ * torch.nn.functional.binary_cross_entropy_with_logits(
            z, yt, reduction="none")).sum() / st_.sum()
        total = float(s.sum())
    J = J + 0.5 * alpha / total * sum((W * W).sum() for W in module.weights())
    J.backward()
    assert float(J.detach()) == pytest.approx(cost, rel=1e-12, abs=1e-14)
    torch_grads = []
    linears = [m for m in module.steps if isinstance(m, torch.nn.Linear)]
    for j, linear in enumerate(linears):
        last = j == len(linears) - 1
        torch_grads += [linear.weight.grad.reshape(-1) if last else linear.weight.grad.T,
                        linear.bias.grad]
    for a, b in zip(grads, torch_grads, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-12)
