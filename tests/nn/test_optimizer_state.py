"""``logicat.nn.optimizer_state``: the state each update rule keeps, by name - checked against
what ``torch.optim`` itself keeps after a step, since every checkpoint holds it in that layout."""

from __future__ import annotations

import pytest

from logicat.nn.optimizer_state import (
    LEGACY_OPTIMIZERS,
    OPTIMIZERS,
    moments,
    optimizer_state_shapes,
    update_rule,
)


@pytest.mark.parametrize("optimizer", OPTIMIZERS + LEGACY_OPTIMIZERS)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_the_state_named_is_the_state_torch_optim_keeps(optimizer, momentum):
    torch = pytest.importorskip("torch")
    from logicat.training.optimizers import torch_optimizer

    w = torch.nn.Parameter(torch.ones(3, 2))
    step = torch_optimizer(update_rule(optimizer, momentum), [{"params": [w]}], 0.1, momentum)
    w.grad = torch.ones(3, 2)
    step.step()
    kept = {key for key, value in step.state[w].items() if value is not None}
    shapes = optimizer_state_shapes({"w": (3, 2)}, optimizer, momentum)
    assert {name.split(".")[-1] for name in shapes if name != "optimizer.step"} == (
        kept - {"step"})
    assert ("optimizer.step" in shapes) == (update_rule(optimizer, momentum) in ("adam", "adamw"))
    assert all(shape == (3, 2) for name, shape in shapes.items() if name != "optimizer.step")


def test_a_legacy_sgd_is_nesterov_with_momentum_and_gd_without():
    assert update_rule("sgd", 0.9) == "nesterov" and update_rule("sgd", 0.0) == "gd"
    assert moments("adamw", 0.0) == ("exp_avg", "exp_avg_sq")
    assert moments("momentum", 0.0) == () and moments("gd", 0.9) == ()
