"""The network as a PyTorch module, and its two losses computed from the logits.

``TorchNetwork`` is an ``nn.Sequential`` of ``nn.Linear`` layers with the hidden layers'
activation between them, ending in ``nn.Linear(n_in, 1)`` whose output is the logit; logistic
regression is the single ``nn.Linear(n, 1)``. It is built from, and gives back, logicat's
parameters [W_1, b_1, ..., w, b] (``logicat.network``): torch stores a layer's weight as
(n_out, n_in), the transpose of logicat's W. The losses take the logits, never sigma(z), so that
they stay finite when sigma(z) rounds to 0 or 1:

cross-entropy   L = softplus(z) - y z       (``binary_cross_entropy_with_logits``)
squared error   L = 1/2 (sigma(z) - y)^2

Both are summed and divided by ``m_total``, the number of examples over *all* processes: on one
process that is the mean; under data parallelism the gradients then only need summing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from logicat.loss import check_loss
from logicat.network import check_params_chain

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class TorchNetwork(nn.Sequential):
    """``forward(X (m, n)) -> z (m,)`` logits, from logicat's parameters (copied).

    Parameters
    ----------
    params : [W_1 (n_0, n_1), b_1 (n_1,), ..., w (n_{L-1},), b (1,)] NumPy arrays
    activation : "relu", "tanh" or "sigmoid" between the layers
    dtype, device : of the module's parameters
    """

    def __init__(self, params: Sequence[np.ndarray], activation: str = "relu",
                 dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
                 ) -> None:
        check_params_chain(params)
        layers: list[nn.Module] = []
        for i in range(0, len(params), 2):
            W = np.asarray(params[i])
            n_in, n_out = (W.shape[0], 1) if W.ndim == 1 else W.shape
            if layers:
                layers.append(_ACTIVATIONS[activation]())
            layers.append(nn.Linear(n_in, n_out, dtype=dtype, device=device))
        super().__init__(*layers)
        self.set_params(params)

    @property
    def linears(self) -> list[nn.Linear]:
        return [layer for layer in self if isinstance(layer, nn.Linear)]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return super().forward(X).squeeze(-1)  # (m,) one logit per example

    def set_params(self, params: Sequence[np.ndarray]) -> None:
        with torch.no_grad():
            for linear, i in zip(self.linears, range(0, len(params), 2), strict=True):
                W = torch.as_tensor(np.asarray(params[i]))
                linear.weight.copy_(W.view(1, -1) if W.ndim == 1 else W.T)
                linear.bias.copy_(torch.as_tensor(np.asarray(params[i + 1])).view(-1))

    def logicat_params(self) -> list[torch.Tensor]:
        """The parameters in logicat's layout, as detached views: [W_1, b_1, ..., w, b]."""
        out: list[torch.Tensor] = []
        linears = self.linears
        for j, linear in enumerate(linears):
            weight = linear.weight.detach()
            out += [weight.view(-1) if j == len(linears) - 1 else weight.T, linear.bias.detach()]
        return out

    def weights(self) -> list[torch.Tensor]:
        """The weight matrices (what L2 penalises; not the biases)."""
        return [linear.weight for linear in self.linears]


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
