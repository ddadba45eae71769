"""PyTorch's interpreter of the layer vocabulary: a list of layers (``logicat.nn.layers``) as an
``nn.Module``.

``LayerNet(layers, input_shape)`` holds one ``torch.nn`` module per layer, each built by its
layer type (``Layer.torch_module``: ``Normalize`` - the per-channel statistics as buffers -,
``Conv2d``, ``BatchNorm2d`` (``BatchNorm1d`` on vectors), ``ReLU`` / ``LeakyReLU`` / ``Tanh`` /
``Sigmoid``, ``MaxPool2d``, ``AvgPool2d``, ``GlobalAvgPool``, ``Flatten``, ``Dropout``,
``Linear``, ``Residual`` - ``logicat.nn.torch_modules``) - created in the list's order (so a
seed gives the weights ``torch.manual_seed`` would give the same modules written by hand) and
registered at the path its layer's name says: the layer ``features.0`` is
``self.features[0]``, so the module's ``state_dict`` keys are the tensors' names in model files.
``forward(x)`` runs the layers up to the logit on (m, C, H, W) images in [0, 1] (or (m, n)
vectors) and returns z (m,).

``ConvNet(spec)`` is the ``LayerNet`` of the ConvNet family's list (``nn.convnet.layers``) - its
``state_dict`` names and shapes are ``nn.convnet.param_shapes(spec)`` (plus BN's
``num_batches_tracked``), so model files hold exactly what it holds - with what the family adds:
test-time augmentation (``predict_logits``) and the maps Grad-CAM weighs (``grad_cam``,
``input_gradient``: the explanations torch.autograd computes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from logicat.core.errors import ShapeError
from logicat.nn import convnet, tta
from logicat.nn.layer import where
from logicat.nn.layers import Layer, logit_layers, shapes
from logicat.nn.torch_modules import GlobalAvgPool, Normalize  # noqa: F401  (their home before)


class LayerNet(nn.Module):
    """``forward(x) -> z (m,)``: the layers up to the logit (see the module docstring)."""

    def __init__(self, layers: Sequence[Layer], input_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.layers = logit_layers(layers)
        self.input_shape = tuple(input_shape)
        #: the tensors' names in model files -> (module, attribute, weight layout)
        self.tensor_map: dict[str, tuple[nn.Module, str, str]] = {}
        self.steps: list[nn.Module] = []
        shape = self.input_shape
        for i, lay in enumerate(self.layers):
            module = lay.torch_module(shape)  # each type builds its own
            path = lay.name or f"layer{i}"
            self._place(path, module)
            self.steps.append(module)
            for inner in lay.walk():  # a residual block's layers sit under its module
                held = module if inner is lay else self.get_submodule(inner.name)
                for role, name in inner.tensor_names().items():
                    layout = inner["layout"] if inner.type == "dense" and role == "weight" else ""
                    self.tensor_map[name] = (held, role, layout)
            shape = lay.output_shape(shape, where(i, lay))
        if shape != (1,):
            raise ShapeError(f"the layers must end in one logit per example. They give shape "
                             f"{shape}.")

    def _place(self, path: str, module: nn.Module) -> None:
        """Register ``module`` at ``path`` ("features.0": child 0 of the Sequential features)."""
        *parents, last = path.split(".")
        container: nn.Module = self
        for part in parents:
            if part not in container._modules:
                container.add_module(part, nn.Sequential())
            container = container._modules[part]
        container.add_module(last, module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x).squeeze(1)

    def run(self, x: torch.Tensor, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """The output of layers start..stop-1 on x."""
        for module in self.steps[start:stop]:
            x = module(x)
        return x

    def weights(self) -> list[torch.Tensor]:
        """The dense and convolution weights, in the layers' order: what L2 penalises (no
        bias, no batch-norm scale)."""
        return [getattr(module, role) for module, role, _ in self.tensor_map.values()
                if role == "weight" and isinstance(module, (nn.Linear, nn.Conv2d))]

    def tensor(self, name: str) -> torch.Tensor:
        """The module's tensor that model files call ``name``."""
        module, role, _ = self.tensor_map[name]
        return getattr(module, role)

    def file_layout(self, name: str, value: torch.Tensor) -> np.ndarray:
        """A tensor shaped as the module's ``name`` (its value, or what an optimizer keeps for
        it) in the layout model files hold it in, as a NumPy copy: a dense "in_out" weight
        transposed, a "vector" one flattened."""
        value = value.detach().cpu()
        layout = self.tensor_map[name][2]
        if layout == "in_out":
            value = value.T
        elif layout == "vector":
            value = value.reshape(-1)
        return value.numpy().copy()

    def module_layout(self, name: str, value: np.ndarray) -> torch.Tensor:
        """``file_layout``'s inverse: an array in the files' layout as the module holds it."""
        tensor = torch.as_tensor(np.asarray(value))
        layout = self.tensor_map[name][2]
        if layout == "in_out":
            return tensor.T
        return tensor.view(1, -1) if layout == "vector" else tensor

    def numpy_params(self) -> dict[str, np.ndarray]:
        """Every tensor by its name in model files, in its layout there, as NumPy copies."""
        return {name: self.file_layout(name, self.tensor(name)) for name in self.tensor_map}

    def load_numpy_params(self, params: Mapping[str, np.ndarray]) -> LayerNet:
        """Copy the tensors ``params`` names into the module: exactly the layers' tensors, of
        the shapes ``nn.layers.shapes`` says (a ``ShapeError`` names the first that is missing,
        extra or of another shape)."""
        expected = shapes(self.layers, self.input_shape)[0]
        extra = sorted(set(params) - set(expected))
        if extra:
            raise ShapeError(f"unexpected tensor {extra[0]!r} for these layers.")
        with torch.no_grad():
            for name in self.tensor_map:
                if name not in params:
                    raise ShapeError(f"the tensor {name!r} is missing.")
                value = np.asarray(params[name])
                if value.shape != expected[name]:
                    raise ShapeError(f"the tensor {name!r} has shape {value.shape}; its layer "
                                     f"says {expected[name]}.")
                self.tensor(name).copy_(self.module_layout(name, value))
        return self


# ------------------------------------------------------------------ the ConvNet family
class ConvNet(LayerNet):
    """``forward(x (m, 3, s, s) in [0, 1]) -> z (m,)`` logits (see ``logicat.nn.convnet``)."""

    def __init__(self, spec: convnet.ConvNetSpec, dropout: float = 0.0) -> None:
        super().__init__(convnet.layers(spec, dropout), (3, spec.image_size, spec.image_size))
        self.spec = spec
        self.cam_layer = convnet.grad_cam_layer(self.layers)

    def predict_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The model's logit: with ``spec.tta`` the mean of its views' (``nn.tta``)."""
        each = views(self.spec.tta, x)
        z = self(x)
        for view in each[1:]:
            z = z + self(view)
        return z if len(each) == 1 else z * (1.0 / len(each))

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


def views(choice, x: torch.Tensor) -> list[torch.Tensor]:
    """The views of the images x (m, C, s, s) whose logits TTA ``choice`` averages
    (``nn.tta.views``), x itself first."""
    return [x] + [x.index_select(2, _index(rows, x)).index_select(3, _index(cols, x))
                  for rows, cols in tta.views(choice, x.shape[-1])[1:]]


def _index(index, x: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(index, dtype=torch.long, device=x.device)


def grad_cam(net: ConvNet, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM of each image's logit, signed: (z (m,), maps (m, s, s)).

    For the last block's feature maps A_c (before its max-pool), alpha_c = the mean over the
    pixels of dz/dA_c, and the map is sum_c alpha_c A_c, upsampled (bilinear) to the image:
    positive where the maps push z up. (Classic Grad-CAM keeps only that positive part, with a
    ReLU; here both directions show.) With TTA, each view's map is taken back to the image (the
    gather's transpose: a mirror mirrored back) and the maps are averaged, as the logits are.
    """
    each = tta.views(net.spec.tta, x.shape[-1])
    total_z, total_map = 0.0, 0.0
    for k, (view, image) in enumerate(zip(each, views(net.spec.tta, x), strict=True)):
        image = image.detach().requires_grad_(False)
        maps, z = net.maps_and_logits(image)
        maps.retain_grad()
        z.sum().backward()  # z_i depends on image i only: one pass gives every image's dz/dA
        alpha = maps.grad.mean(dim=(2, 3), keepdim=True)  # (m, C, 1, 1)
        cam = (alpha * maps).sum(dim=1, keepdim=True)  # (m, 1, s', s')
        cam = torch.nn.functional.interpolate(cam, size=x.shape[2:], mode="bilinear",
                                              align_corners=False)[:, 0]
        cam = cam.detach()
        if k:
            cam = torch.from_numpy(tta.back(cam.cpu().numpy(), view)).to(cam)
        total_map = total_map + cam
        total_z = total_z + z.detach()
    n = len(each)
    return (total_z / n).double().cpu().numpy(), (total_map / n).double().cpu().numpy()


def input_gradient(net: ConvNet, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(z (m,), dz/dx (m, 3, s, s)) of the model's logit (TTA included) by its input in [0, 1]."""
    x = x.detach().clone().requires_grad_(True)
    z = net.predict_logits(x)
    z.sum().backward()  # one pass: z_i depends on image i only
    return z.detach().double().cpu().numpy(), x.grad.double().cpu().numpy()

