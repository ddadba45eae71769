"""The update rules (``training.optimizers``): each against its ``torch.optim`` twin, their
measured speed-up over gradient descent, AdamW's decoupled weight decay."""

from __future__ import annotations

import numpy as np
import pytest

from logicat import LogisticRegression, MLPClassifier, ParameterError
from logicat.nn.optimizer_state import OPTIMIZERS
from logicat.training.optimizers import make_optimizer


@pytest.mark.slow  # the 2000 reference iterations: ~3 s on an idle 2-core machine
def test_momentum_nesterov_and_adam_reach_the_reference_cost_in_fewer_iterations(cat_features):
    """The reference cost is what plain GD reaches after the lesson's 2000 iterations."""
    X, y = cat_features[:2]
    reference = LogisticRegression().fit(X, y).cost_history_[-1]

    def iterations_to_reference(optimizer: str) -> int:
        reached = LogisticRegression(
            optimizer=optimizer, callbacks=[lambda s: s.cost <= reference]
        ).fit(X, y)
        assert reached.cost_history_[-1] <= reference
        return reached.n_iter_ - 1  # the index of the first cost <= reference

    counts = {opt: iterations_to_reference(opt) for opt in ("momentum", "nesterov", "adam")}
    # Measured at lr 0.005 (mu 0.9; Adam's betas 0.9, 0.999): about 199, 187 and 151.
    assert all(n < 2000 // 4 for n in counts.values()), counts


@pytest.mark.parametrize("decay", [0.0, 0.3], ids=["no-decay", "weight-decay"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_update_rules_match_torch_optim(name, decay):
    """The same gradients through logicat's optimizer and torch.optim give the same iterates:
    for a weight (which decays) and a bias (which does not), every rule of the registry."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    A = rng.normal(size=(7, 7))
    H = A @ A.T / 7 + np.eye(7)  # a convex quadratic J = 1/2 p^T H p - c^T p, p = (w, b)
    c = rng.normal(size=7)
    w, b = np.zeros(6), np.zeros(1)
    tw, tb = (torch.zeros(k, dtype=torch.float64, requires_grad=True) for k in (6, 1))
    ours = make_optimizer(name, momentum=0.8, weight_decay=decay)
    groups = [{"params": [tw], "weight_decay": decay}, {"params": [tb], "weight_decay": 0.0}]
    theirs = {
        "gd": lambda: torch.optim.SGD(groups, lr=0.1),
        "momentum": lambda: torch.optim.SGD(groups, lr=0.1, momentum=0.8),
        "nesterov": lambda: torch.optim.SGD(groups, lr=0.1, momentum=0.8, nesterov=True),
        "adam": lambda: torch.optim.Adam(groups, lr=0.1, eps=1e-8),
        "adamw": lambda: torch.optim.AdamW(groups, lr=0.1, eps=1e-8),
    }[name]()
    for _ in range(25):
        g = H @ np.concatenate([w, b]) - c
        ours.step([w, b], [g[:6], g[6:]], 0.1)
        theirs.zero_grad()
        tg = torch.from_numpy(H @ torch.cat([tw, tb]).detach().numpy() - c)
        tw.grad, tb.grad = tg[:6].clone(), tg[6:].clone()
        theirs.step()
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, tb.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert w.any()


def test_adamw_without_decay_is_adam_and_decay_shrinks_the_weights_only(problem):
    X, y = problem
    params = dict(hidden_layer_sizes=(5,), init="he_normal", random_state=0, max_iter=40,
                  learning_rate=0.01)
    adam = MLPClassifier(optimizer="adam", **params).fit(X, y)
    adamw = MLPClassifier(optimizer="adamw", **params).fit(X, y)
    np.testing.assert_array_equal(adam.coefs_[0], adamw.coefs_[0])
    decayed = MLPClassifier(optimizer="adamw", weight_decay=5.0, **params).fit(X, y)
    assert np.linalg.norm(decayed.coefs_[0]) < 0.9 * np.linalg.norm(adamw.coefs_[0])
    assert decayed.solver_ == "primal"
    with pytest.raises(ParameterError, match="weight decay"):
        LogisticRegression(solver="gram", weight_decay=0.1).fit(X, y)
