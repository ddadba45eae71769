"""The PyTorch engine: the same classifier as an ``nn.Module`` trained with ``torch.optim.SGD``.

Submodules (each imports torch; this package imports them only when a name is first used, so
``import logicat`` never needs torch):

- ``model``: ``CatLogisticModule`` (``nn.Linear(n, 1)``) and the two losses computed from logits
- ``trainer``: ``train_torch`` (full batch, mini-batches, data-parallel, CUDA graphs), the
  ``"torch"`` entry of ``logicat.engines.TRAINERS``, and ``fit_dataset`` for ``DataLoader`` input
- ``datasets``: ``H5CatDataset`` and ``ImageFolderDataset`` (lazy ``torch.utils.data.Dataset``\\ s)
- ``distributed``: process-group set-up, sharding and the ``torchrun`` launcher
- ``export``: ONNX export of a fitted model
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CatLogisticModule": "model",
    "torch_loss": "model",
    "train_torch": "trainer",
    "torch_trainer": "trainer",
    "fit_dataset": "trainer",
    "H5CatDataset": "datasets",
    "ImageFolderDataset": "datasets",
    "shard_range": "distributed",
    "export_onnx": "export",
    "to_onnx": "export",
    "resolve_device": "trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"logicat.torch_backend.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'logicat.torch_backend' has no attribute {name!r}")


def require_torch() -> Any:
    """Import torch, or fail with a one-line error that says which extra to install."""
    try:
        import torch
    except ImportError:
        from logicat.errors import LogicatError

        raise LogicatError(
            "The torch engine needs PyTorch, which is not installed. "
            "Install it with: pip install 'logicat[torch]'"
        ) from None
    return torch
