"""Data augmentation for the ConvNet: random variations of each training image, batch at a time.

Every random number comes from one ``torch.Generator`` on the CPU, drawn in a fixed order, so a
seed gives the same augmented batches on any device; the images themselves stay where they
are. Images are float (B, 3, s, s) in [0, 1] (before the network's own normalisation).

- flip: left-right mirror with probability 1/2;
- crop "pad": pad by ``pad`` pixels (reflection) and cut a random s x s window - shifts of up to
  ``pad`` pixels; crop "resized": a random window of ``scale`` of the area and aspect ratio in
  ``ratio``, resized back to s x s (bilinear), optionally with a random rotation;
- brightness / contrast / saturation: multiply the image / its deviation from its mean / its
  deviation from its grey version by 1 + U(-a, a), then clip to [0, 1];
- mixup (``mix_batch``): convex combinations of pairs of examples and of their labels;
- CutMix (``cut_batch``, Yun et al., 2019): a box of each image replaced by the same box of
  another's, their labels mixed by the areas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class Augmentation:
    flip: bool = True
    crop: str = "pad"  # "none" | "pad" | "resized"
    pad: int = 4
    scale: tuple[float, float] = (0.6, 1.0)
    ratio: tuple[float, float] = (0.8, 1.25)
    rotation: float = 0.0  # degrees, "resized" crops only
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0


def augment(x: torch.Tensor, aug: Augmentation, generator: torch.Generator) -> torch.Tensor:
    """A randomly varied copy of the batch x (B, 3, s, s) in [0, 1]."""
    B = x.shape[0]
    if aug.flip:
        mirror = (torch.rand(B, generator=generator) < 0.5).to(x.device)
        x = torch.where(mirror[:, None, None, None], x.flip(3), x)
    if aug.crop == "pad" and aug.pad > 0:
        x = _shift(x, aug.pad, generator)
    elif aug.crop == "resized":
        x = _resized_crop(x, aug, generator)
    jitter = False
    for amount, kind in ((aug.brightness, "brightness"), (aug.contrast, "contrast"),
                         (aug.saturation, "saturation")):
        if amount > 0:
            factor = (1 + amount * (2 * torch.rand(B, 1, 1, 1, generator=generator) - 1)).to(
                x.device, x.dtype)
            if kind == "brightness":
                x = x * factor
            else:
                centre = (x.mean((1, 2, 3), keepdim=True) if kind == "contrast" else
                          0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
                x = (x - centre) * factor + centre
            jitter = True
    return x.clamp(0, 1) if jitter else x


def _shift(x: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Pad by reflection and cut each image's own random s x s window: a shift of at most
    ``pad`` pixels each way. One slice per image: on the CPU that is several times faster than
    one gather of the whole batch (views, then one copy by ``stack``)."""
    B, _, H, W = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")  # (B, C, H + 2p, W + 2p)
    dy = torch.randint(0, 2 * pad + 1, (B,), generator=generator).tolist()
    dx = torch.randint(0, 2 * pad + 1, (B,), generator=generator).tolist()
    return torch.stack([padded[i, :, dy[i]:dy[i] + H, dx[i]:dx[i] + W] for i in range(B)])


def _resized_crop(x: torch.Tensor, aug: Augmentation, generator: torch.Generator
                  ) -> torch.Tensor:
    """A random window (area fraction in ``scale``, aspect ratio in ``ratio``), rotated by up
    to ``rotation`` degrees, resampled to the full size (an affine grid, reflection padding)."""
    B = x.shape[0]
    area = aug.scale[0] + (aug.scale[1] - aug.scale[0]) * torch.rand(B, generator=generator)
    low, high = math.log(aug.ratio[0]), math.log(aug.ratio[1])
    ratio = torch.exp(low + (high - low) * torch.rand(B, generator=generator))
    sx = torch.sqrt(area * ratio).clamp(max=1.0)
    sy = torch.sqrt(area / ratio).clamp(max=1.0)
    tx = (1 - sx) * (2 * torch.rand(B, generator=generator) - 1)
    ty = (1 - sy) * (2 * torch.rand(B, generator=generator) - 1)
    angle = (2 * torch.rand(B, generator=generator) - 1) * math.radians(aug.rotation)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([sx * cos, -sy * sin, tx], 1),
                         torch.stack([sx * sin, sy * cos, ty], 1)], 1)  # (B, 2, 3)
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection",
                         align_corners=False)


def mix_batch(x: torch.Tensor, y: torch.Tensor, alpha: float, generator: torch.Generator,
              w: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """mixup: lam x + (1 - lam) x[perm], the same for y (and the sample weights w, if any),
    lam ~ Beta(alpha, alpha)."""
    lam = _beta(alpha, generator)
    perm = torch.randperm(x.shape[0], generator=generator).to(x.device)
    mixed_w = None if w is None else lam * w + (1 - lam) * w[perm]
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm], mixed_w


def cut_batch(x: torch.Tensor, y: torch.Tensor, alpha: float, generator: torch.Generator,
              w: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """CutMix: lam ~ Beta(alpha, alpha); a box of (1 - lam) of the area, its centre uniform on
    the image and its sides clipped at the border, is cut from x[perm] into x (the same box for
    the whole batch); the labels (and weights) mix by the share of each image that remains,
    lam' = 1 - (the box's area) / (the image's)."""
    lam = _beta(alpha, generator)
    perm = torch.randperm(x.shape[0], generator=generator).to(x.device)
    H, W = x.shape[2], x.shape[3]
    cy, cx = (torch.rand(2, generator=generator) * torch.tensor([H, W])).tolist()
    half_h, half_w = H * math.sqrt(1 - lam) / 2, W * math.sqrt(1 - lam) / 2
    top, bottom = int(round(max(cy - half_h, 0))), int(round(min(cy + half_h, H)))
    left, right = int(round(max(cx - half_w, 0))), int(round(min(cx + half_w, W)))
    x = x.clone()
    x[:, :, top:bottom, left:right] = x[perm][:, :, top:bottom, left:right]
    kept = 1 - (bottom - top) * (right - left) / (H * W)
    mixed_w = None if w is None else kept * w + (1 - kept) * w[perm]
    return x, kept * y + (1 - kept) * y[perm], mixed_w


def _beta(alpha: float, generator: torch.Generator) -> float:
    """A Beta(alpha, alpha) draw from two Gamma draws of ``generator`` (torch's own Beta
    sampler takes no generator)."""
    a = torch._standard_gamma(torch.full((2,), float(alpha)), generator=generator)
    return float(a[0] / a.sum())
