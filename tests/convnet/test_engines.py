"""The ConvNet in logicat's own engine (``logicat.engines.autograd.layers``, reading the family's
list of layers, its input normalisation included) takes the steps that PyTorch takes in
``ConvNetClassifier``'s solver: the same losses, parameters and running statistics to 1e-8."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from logicat.engines.autograd.layers import LayerGraph, nchw, split_state_dict  # noqa: E402
from logicat.nn import convnet  # noqa: E402
from logicat.nn.convnet import ConvNetSpec  # noqa: E402
from logicat.training.examples import InMemoryImages  # noqa: E402
from logicat.training.hyperparameters import CONVNET_DEFAULTS  # noqa: E402
from logicat.training.image_solver import ConvNetSolver  # noqa: E402
from logicat.training.loop import Trainer  # noqa: E402


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
    trained, statistics = split_state_dict(solver.net.state_dict())
    costs = Trainer.of({"max_iter": 3, "learning_rate": 0.1}).run(
        solver, data=solver.batches, draws=solver.draws).cost_history  # 3 epochs of 1 step

    engine = LayerGraph(convnet.layers(spec), (3, 16, 16))
    assert engine.trained_names() == [n for n, _ in solver.net.named_parameters()]
    x, tensors, own = nchw(images), trained | statistics, []
    for _ in range(3):
        cost, grads, running = engine.cost_and_gradients(x, y, tensors)
        own.append(cost)
        tensors = {n: v - 0.1 * grads[n] if n in grads else v for n, v in tensors.items()}
        tensors |= running
    np.testing.assert_allclose(own, costs, rtol=0, atol=1e-8)
    after, after_statistics = split_state_dict(solver.net.state_dict())
    theirs = after | after_statistics
    assert tensors.keys() == theirs.keys()
    for name, value in theirs.items():
        np.testing.assert_allclose(tensors[name], value, rtol=0, atol=1e-8, err_msg=name)
