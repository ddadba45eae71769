"""PyTorch's interpreter of the layer vocabulary: a list of layers (``logicat.nn.layers``) as an
``nn.Module``.

``LayerNet(layers, input_shape)`` holds one ``torch.nn`` module per layer - ``Normalize``
(the per-channel statistics as buffers), ``Conv2d``, ``BatchNorm2d`` (``BatchNorm1d`` on
vectors), ``ReLU`` / ``Tanh`` / ``Sigmoid``, ``MaxPool2d``, ``GlobalAvgPool``, ``Flatten``,
``Dropout``, ``Linear`` - created in the list's order (so a seed gives the weights
``torch.manual_seed`` would give the same modules written by hand) and registered at the path
its layer's name says: the layer ``features.0`` is ``self.features[0]``, so the module's
``state_dict`` keys are the tensors' names in model files. ``forward(x)`` runs the layers up to
the logit on (m, C, H, W) images in [0, 1] (or (m, n) vectors) and returns z (m,).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from logicat.errors import ShapeError
from logicat.nn.layers import Layer, logit_layers, shapes


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


def _module(lay: Layer, shape: tuple[int, ...]) -> nn.Module:
    """The torch module of one layer whose input has ``shape`` (one example)."""
    o = lay.options
    if lay.type == "normalize":
        return Normalize(shape[0])
    if lay.type == "conv2d":
        return nn.Conv2d(shape[0], o["filters"], o["kernel"], stride=o["stride"],
                         padding=o["padding"], bias=o["bias"])
    if lay.type == "batchnorm":
        norm = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
        return norm(shape[0], eps=o["eps"], momentum=o["momentum"])
    if lay.type == "maxpool":
        return nn.MaxPool2d(o["kernel"], o["stride"])
    if lay.type == "dense":
        return nn.Linear(shape[0], o["units"], bias=o["bias"])
    if lay.type == "dropout":
        return nn.Dropout(o["rate"])
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gap": GlobalAvgPool,
            "flatten": nn.Flatten}[lay.type]()


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
            module = _module(lay, shape)
            self._place(lay.name or f"layer{i}", module)
            self.steps.append(module)
            for role, name in lay.tensor_names().items():
                layout = lay["layout"] if lay.type == "dense" and role == "weight" else ""
                self.tensor_map[name] = (module, role, layout)
            shape = shapes([lay], shape)[1]
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

    def numpy_params(self) -> dict[str, np.ndarray]:
        """Every tensor by its name in model files, in its layout there, as NumPy copies."""
        out = {}
        for name, (module, role, layout) in self.tensor_map.items():
            value = getattr(module, role).detach().cpu()
            if layout == "in_out":
                value = value.T
            elif layout == "vector":
                value = value.reshape(-1)
            out[name] = value.numpy().copy()
        return out

    def load_numpy_params(self, params: Mapping[str, np.ndarray]) -> LayerNet:
        """Copy the tensors ``params`` names into the module (shapes as ``nn.layers.shapes``
        says; a ``ShapeError`` names the first tensor that does not fit)."""
        expected = shapes(self.layers, self.input_shape)[0]
        with torch.no_grad():
            for name, (module, role, layout) in self.tensor_map.items():
                if name not in params:
                    raise ShapeError(f"the tensor {name!r} is missing.")
                value = np.asarray(params[name])
                if value.shape != expected[name]:
                    raise ShapeError(f"the tensor {name!r} has shape {value.shape}; its layer "
                                     f"says {expected[name]}.")
                tensor = torch.as_tensor(value)
                if layout == "in_out":
                    tensor = tensor.T
                elif layout == "vector":
                    tensor = tensor.view(1, -1)
                getattr(module, role).copy_(tensor)
        return self
