"""The ConvNet of ``logicat.convnet`` as a PyTorch module, which trains it.

``ConvNet(spec)`` is ``input`` (the per-channel normalisation, as buffers), ``features``
(``[Conv2d 3x3 -> BatchNorm2d -> ReLU] x convs_per_block -> MaxPool2d(2)`` per width) and
``head`` (``Dropout -> Linear`` [``-> ReLU -> Dropout -> Linear``]); its ``state_dict`` names and
shapes are ``logicat.convnet.param_shapes(spec)`` (plus BN's ``num_batches_tracked``), so model
files hold exactly what it holds.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from logicat.convnet import ConvNetSpec, check_params, param_shapes


class Normalize(nn.Module):
    """x -> (x - mean_c) / std_c per channel of (m, 3, s, s); the statistics are buffers."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(3))
        self.register_buffer("std", torch.ones(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean.view(1, 3, 1, 1)) / self.std.view(1, 3, 1, 1)


class ConvNet(nn.Module):
    """``forward(x (m, 3, s, s) in [0, 1]) -> z (m,)`` logits (see ``logicat.convnet``)."""

    def __init__(self, spec: ConvNetSpec, dropout: float = 0.0) -> None:
        super().__init__()
        self.spec = spec
        self.input = Normalize()
        layers: list[nn.Module] = []
        channels = 3
        for width in spec.widths:
            for _ in range(spec.convs_per_block):
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False),
                           nn.BatchNorm2d(width), nn.ReLU()]
                channels = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        head: list[nn.Module] = [nn.Dropout(dropout)]
        if spec.hidden:
            head += [nn.Linear(spec.head_inputs, spec.hidden), nn.ReLU(), nn.Dropout(dropout)]
        head.append(nn.Linear(spec.hidden or spec.head_inputs, 1))
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits_from(self.features(self.input(x)))

    def predict_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The model's logit: with ``spec.tta`` the mean of the image's and its mirror's."""
        z = self(x)
        return 0.5 * (z + self(x.flip(3))) if self.spec.tta else z

    def maps_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(the last block's output before its max-pool (m, C_K, s', s'), the logits (m,))."""
        maps = self.features[:-1](self.input(x))
        return maps, self.logits_from(self.features[-1](maps))

    def logits_from(self, maps: torch.Tensor) -> torch.Tensor:
        """The head: (m, C_K, s', s') feature maps -> (m,) logits."""
        h = maps.mean(dim=(2, 3)) if self.spec.head == "gap" else maps.flatten(1)
        return self.head(h).squeeze(1)

    def numpy_params(self) -> dict[str, np.ndarray]:
        """The parameters and buffers by name (``param_shapes`` order), as float NumPy arrays."""
        state = self.state_dict()
        return {name: state[name].detach().cpu().numpy().copy() for name in param_shapes(self.spec)}

    def load_numpy_params(self, params: Mapping[str, np.ndarray]) -> ConvNet:
        check_params(self.spec, params)
        state = self.state_dict()
        with torch.no_grad():
            for name in param_shapes(self.spec):
                state[name].copy_(torch.as_tensor(np.asarray(params[name])))
        return self


def images_to_tensor(images: np.ndarray, dtype: torch.dtype = torch.float32,
                     device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 (m, s, s, 3) images, or [0, 1] floats of that shape -> (m, 3, s, s) in [0, 1]."""
    images = np.asarray(images)
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    x = x.permute(0, 3, 1, 2).to(dtype)
    return x / 255.0 if images.dtype == np.uint8 else x


def grad_cam(net: ConvNet, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM of each image's logit, signed: (z (m,), maps (m, s, s)).

    For the last block's feature maps A_c (before its max-pool), alpha_c = the mean over the
    pixels of dz/dA_c, and the map is sum_c alpha_c A_c, upsampled (bilinear) to the image:
    positive where the maps push z up. (Classic Grad-CAM keeps only that positive part, with a
    ReLU; here both directions show.) With TTA, the mirror image's map is mirrored back and the
    two are averaged, as the logits are.
    """
    views = [(x, False)] + ([(x.flip(3), True)] if net.spec.tta else [])
    total_z, total_map = 0.0, 0.0
    for image, mirrored in views:
        image = image.detach().requires_grad_(False)
        maps, z = net.maps_and_logits(image)
        maps.retain_grad()
        z.sum().backward()  # z_i depends on image i only: one pass gives every image's dz/dA
        alpha = maps.grad.mean(dim=(2, 3), keepdim=True)  # (m, C, 1, 1)
        cam = (alpha * maps).sum(dim=1, keepdim=True)  # (m, 1, s', s')
        cam = torch.nn.functional.interpolate(cam, size=x.shape[2:], mode="bilinear",
                                              align_corners=False)[:, 0]
        total_map = total_map + (cam.flip(2) if mirrored else cam).detach()
        total_z = total_z + z.detach()
    n = len(views)
    return (total_z / n).double().cpu().numpy(), (total_map / n).double().cpu().numpy()


def input_gradient(net: ConvNet, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(z (m,), dz/dx (m, 3, s, s)) of the model's logit (TTA included) by its input in [0, 1]."""
    x = x.detach().clone().requires_grad_(True)
    z = net.predict_logits(x)
    z.sum().backward()  # one pass: z_i depends on image i only
    return z.detach().double().cpu().numpy(), x.grad.double().cpu().numpy()

