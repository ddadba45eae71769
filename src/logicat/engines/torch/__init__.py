"""The PyTorch engine: the same networks as ``nn.Module`` objects, trained with ``torch.optim``.

Submodules (each imports torch; this package imports them only when a name is first used, so
``import logicat`` never needs torch). None of them builds an estimator or knows of the command
line, and none imports the training package: the solvers that train with torch are training's
(``logicat.training.torch_solver``: ``TorchSolver``, ``train_torch``;
``logicat.training.image_solver``: the ConvNet's), named here too for their users.

- ``model``: ``dense_net``, the dense family's ``LayerNet``, and the two losses from logits
- ``layers``: any list of layers (``logicat.nn.layers``) as an ``nn.Module``; the ConvNet's
- ``augment``: the ConvNet's data augmentation
- ``fused``: the fused gradient-descent loop and its CUDA-graph capture
- ``datasets``: ``H5CatDataset`` and ``ImageFolderDataset`` (lazy torch ``Dataset`` objects)
- ``distributed``: process-group set-up, sharding and the ``torchrun`` launcher
- ``export``: ONNX export of a model
"""

from __future__ import annotations

from logicat.core.lazy import lazy_exports

_WHERE = {
    "dense_net": "logicat.engines.torch.model",
    "LayerNet": "logicat.engines.torch.layers",
    "torch_loss": "logicat.engines.torch.model",
    "TorchSolver": "logicat.training.torch_solver",
    "train_torch": "logicat.training.torch_solver",
    "resolve_device": "logicat.training.torch_solver",
    "H5CatDataset": "logicat.engines.torch.datasets",
    "ImageFolderDataset": "logicat.engines.torch.datasets",
    "shard_range": "logicat.engines.torch.distributed",
    "export_onnx": "logicat.io.onnx",
    "to_onnx": "logicat.io.onnx",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)


def require_torch():
    """Import torch, or fail with a one-line error that says which extra to install."""
    try:
        import torch
    except ImportError:
        from logicat.core.errors import MissingDependencyError

        raise MissingDependencyError(
            "The torch engine needs PyTorch, which is not installed. "
            "Install it with: pip install 'logicat[torch]'"
        ) from None
    return torch
