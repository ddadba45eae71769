"""The ConvNet of ``logicat.convnet`` as a PyTorch module, which trains it.

``ConvNet(spec)`` is the ``LayerNet`` (``torch_backend.layers``) of the ConvNet's list of layers
(``logicat.nn.families.convnet_layers``): ``input`` (the per-channel normalisation, as buffers),
``features`` (``[Conv2d 3x3 -> BatchNorm2d -> ReLU] x convs_per_block -> MaxPool2d(2)`` per
width) and ``head`` (``Dropout -> Linear`` [``-> ReLU -> Dropout -> Linear``]); its
``state_dict`` names and shapes are ``logicat.convnet.param_shapes(spec)`` (plus BN's
``num_batches_tracked``), so model files hold exactly what it holds. What it adds to the list:
test-time augmentation (``predict_logits``) and the maps Grad-CAM weighs.
"""

from __future__ import annotations

import numpy as np
import torch

from logicat.convnet import ConvNetSpec, grad_cam_layer, layers
from logicat.torch_backend.layers import LayerNet


class ConvNet(LayerNet):
    """``forward(x (m, 3, s, s) in [0, 1]) -> z (m,)`` logits (see ``logicat.convnet``)."""

    def __init__(self, spec: ConvNetSpec, dropout: float = 0.0) -> None:
        super().__init__(layers(spec, dropout), (3, spec.image_size, spec.image_size))
        self.spec = spec
        self.cam_layer = grad_cam_layer(self.layers)

    def predict_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The model's logit: with ``spec.tta`` the mean of the image's and its mirror's."""
        z = self(x)
        return 0.5 * (z + self(x.flip(3))) if self.spec.tta else z

    def maps_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(the last block's output before its max-pool (m, C_K, s', s'), the logits (m,))."""
        maps = self.run(x, stop=self.cam_layer)
        return maps, self.run(maps, start=self.cam_layer).squeeze(1)


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

