"""The ``torch.nn`` modules some layer types need beyond torch's own (imported only by the
types' ``torch_module``, so that predicting never imports torch)."""

from __future__ import annotations

import torch
from torch import nn


class Normalize(nn.Module):
    """x -> (x - mean_c) / std_c per channel of (m, C, H, W); the statistics are buffers."""

    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("std", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        view = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)
        return (x - self.mean.view(view)) / self.std.view(view)


class GlobalAvgPool(nn.Module):
    """(m, C, H, W) -> (m, C): the mean over the pixels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


class Residual(nn.Module):
    """y = body(x) + shortcut(x); an empty shortcut is the identity."""

    def __init__(self, body: list[nn.Module], shortcut: list[nn.Module]) -> None:
        super().__init__()
        self.body = nn.Sequential(*body)
        self.shortcut = nn.Sequential(*shortcut)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)
