"""The classifier as a PyTorch module, and its two losses computed from the logits.

y_hat = sigma(z), z = x . w + b: one ``nn.Linear(n, 1)`` whose output is the logit. The losses
take the logits, never sigma(z), so that they stay finite when sigma(z) rounds to 0 or 1:

cross-entropy   L = softplus(z) - y z       (``binary_cross_entropy_with_logits``)
squared error   L = 1/2 (sigma(z) - y)^2

Both are summed and divided by ``m_total``, the number of examples over *all* processes: on one
process that is the mean; under data parallelism the gradients then only need summing.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class CatLogisticModule(nn.Module):
    """Logistic regression as a one-unit linear layer: ``forward(X (m, n)) -> z (m,)`` logits.

    Parameters
    ----------
    n_features : int, n (12288 for 64x64 RGB images)
    dtype : torch dtype of the parameters (float64 or float32)
    coef, intercept : optional initial w (n,) and b; default zeros (the lesson's init)
    """

    def __init__(
        self,
        n_features: int,
        dtype: torch.dtype = torch.float64,
        coef: np.ndarray | None = None,
        intercept: float = 0.0,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, 1, dtype=dtype, device=device)
        with torch.no_grad():
            if coef is None:
                self.linear.weight.zero_()
            else:
                self.linear.weight.copy_(torch.as_tensor(np.asarray(coef)).view(1, -1))
            self.linear.bias.fill_(float(intercept))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.linear(X).squeeze(-1)  # (m,) one logit per example

    @property
    def coef(self) -> torch.Tensor:
        """w, shape (n,): a view of the weight."""
        return self.linear.weight.detach().view(-1)

    @property
    def intercept(self) -> torch.Tensor:
        """b, shape (1,)."""
        return self.linear.bias.detach()


def torch_loss(z: torch.Tensor, y: torch.Tensor, loss: str, m_total: int | None = None):
    """Sum of the per-example losses of logits z (m,) against labels y (m,), divided by m_total.

    ``m_total`` defaults to m (the mean). Returns a 0-d tensor.
    """
    if loss == "cross_entropy":
        total = F.binary_cross_entropy_with_logits(z, y, reduction="sum")
    elif loss == "squared_error":
        total = 0.5 * (torch.sigmoid(z) - y).square().sum()
    else:
        raise ValueError(
            "The 'loss' parameter must be one of 'cross_entropy', 'squared_error'. "
            f"Got {loss!r} instead."
        )
    return total / (z.shape[0] if m_total is None else m_total)
