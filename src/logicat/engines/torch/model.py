"""The dense family as a PyTorch module, and its two losses computed from the logits.

``dense_net`` is the ``LayerNet`` (``logicat.engines.torch.layers``, PyTorch's interpreter of
the layer vocabulary) of ``logicat.nn.families.dense_layers``: ``nn.Linear`` layers with the
hidden layers' activation between them, the last one's output the logit; logistic regression is
the single ``nn.Linear(n, 1)``. It is built from logicat's parameters [W_1, b_1, ..., w, b]
(``logicat.nn.network``; torch stores a layer's weight as (n_out, n_in), the transpose of
logicat's W) and ``flat_params`` gives them back in that order. The losses take the logits,
never sigma(z), so that they stay finite when sigma(z) rounds to 0 or 1:

cross-entropy   L = softplus(z) - y z       (``binary_cross_entropy_with_logits``)
squared error   L = 1/2 (sigma(z) - y)^2

Both are summed and divided by ``m_total``, the number of examples over *all* processes: on one
process that is the mean; under data parallelism the gradients then only need summing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from logicat.engines.torch.layers import LayerNet
from logicat.nn.families import dense_layers
from logicat.nn.loss import check_loss
from logicat.nn.network import check_params_chain, param_names


def dense_net(params: Sequence[np.ndarray], activation: str = "relu",
              dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
              ) -> LayerNet:
    """``forward(X (m, n)) -> z (m,)`` logits: the network of logicat's parameters
    [W_1 (n_0, n_1), b_1 (n_1,), ..., w (n_{L-1},), b (1,)] (copied), ``activation`` between
    the layers, its tensors of ``dtype`` on ``device``."""
    check_params_chain(params)
    hidden = [int(np.shape(W)[1]) for W in params[:-2:2]]
    net = LayerNet(dense_layers(hidden, activation), (int(np.shape(params[0])[0]),))
    net = net.to(dtype=dtype, device=device)
    set_flat_params(net, params)
    return net


def set_flat_params(net: LayerNet, params: Sequence[np.ndarray]) -> None:
    """Copy [W_1, b_1, ..., w, b] into the network's modules."""
    net.load_numpy_params(dict(zip(param_names(len(params) // 2), params, strict=True)))


def flat_params(net: LayerNet) -> list[np.ndarray]:
    """The network's parameters as NumPy copies, in logicat's order [W_1, b_1, ..., w, b]."""
    by_name = net.numpy_params()
    return [by_name[name] for name in param_names(len(by_name) // 2)]


def torch_loss(z: torch.Tensor, y: torch.Tensor, loss: str, m_total: int | None = None):
    """Sum of the per-example losses of logits z (m,) against labels y (m,), divided by m_total.

    ``m_total`` defaults to m (the mean). Returns a 0-d tensor.
    """
    check_loss(loss)
    if loss == "cross_entropy":
        total = F.binary_cross_entropy_with_logits(z, y, reduction="sum")
    else:
        total = 0.5 * (torch.sigmoid(z) - y).square().sum()
    return total / (z.shape[0] if m_total is None else m_total)
