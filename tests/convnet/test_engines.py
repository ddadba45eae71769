"""The ConvNet in logicat's own engine (``logicat.engines.autograd.layers``) takes the steps that
PyTorch takes in ``ConvNetClassifier``'s solver: the same losses and parameters to 1e-8."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from logicat.engines.autograd.layers import ConvNet as EngineConvNet  # noqa: E402
from logicat.engines.autograd.layers import layers_of  # noqa: E402
from logicat.nn.convnet import ConvNetSpec  # noqa: E402
from logicat.training.hyperparameters import CONVNET_DEFAULTS  # noqa: E402
from logicat.training.minibatch import InMemoryImages  # noqa: E402
from logicat.training.minibatch_solver import ConvNetSolver  # noqa: E402


@pytest.mark.parametrize("spec", [ConvNetSpec(widths=(3, 4), image_size=16),
                                  ConvNetSpec(widths=(3,), convs_per_block=2, head="flatten",
                                              hidden=5, image_size=16)],
                         ids=["gap", "flatten-hidden"])
def test_three_sgd_steps_in_both_engines(spec, cat_data):
    images = cat_data.train_x[:12, ::4, ::4]  # 12 cat images at 16x16
    y = cat_data.train_y[:12]
    hyper = {**CONVNET_DEFAULTS, "optimizer": "gd", "momentum": 0.0, "weight_decay": 0.0,
             "lr_schedule": "constant", "learning_rate": 0.1, "batch_size": 12, "flip": False,
             "crop": "none", "random_state": 5}
    solver = ConvNetSolver(spec, InMemoryImages(images), y, np.arange(12), hyper,
                           torch.device("cpu"), dtype=torch.float64)
    params = [p.detach().numpy().copy() for p in solver.net.parameters()]
    state = solver.net.state_dict()
    running = [state[name].numpy().copy() for name in state if name.endswith(
        ("running_mean", "running_var"))]
    mean, std = state["input.mean"].numpy(), state["input.std"].numpy()
    costs = solver.run(0, [0.1, 0.1, 0.1])

    engine = EngineConvNet(layers_of(spec))
    x = (images.transpose(0, 3, 1, 2) / 255.0 - mean[:, None, None]) / std[:, None, None]
    own = []
    for _ in range(3):
        cost, grads, running = engine.cost_and_gradients(x, y, params, running)
        own.append(cost)
        params = [p - 0.1 * g for p, g in zip(params, grads, strict=True)]
    np.testing.assert_allclose(own, costs, rtol=0, atol=1e-8)
    for mine, theirs in zip(params, solver.net.parameters(), strict=True):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=0, atol=1e-8)
    state = solver.net.state_dict()
    theirs = [state[n].numpy() for n in state if n.endswith(("running_mean", "running_var"))]
    for mine, buffer in zip(running, theirs, strict=True):
        np.testing.assert_allclose(mine, buffer, rtol=0, atol=1e-8)
