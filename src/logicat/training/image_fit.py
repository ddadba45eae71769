"""How an image network trains - the ConvNet, or any list of layers (``NetworkClassifier``):
its images checked against the recipe, and its solver prepared for the one fit.

``logicat.training.fit`` runs every fit the same way; for an image network it asks
``examples`` for the images (``training.examples``: in memory, uint8 (m, s, s, 3) or [0, 1]
floats, or a packed HDF5 file read a mini-batch at a time) and ``prepare`` the rest: the rows
held out for early stopping, the memory a step needs, the device, and
``training.image_solver.ConvNetSolver`` - one step per batch of augmented images the loop
hands it, the loop holding the run's generator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from logicat.core.errors import ParameterError
from logicat.core.validation import check_memory
from logicat.io.files import Snapshot
from logicat.nn.bounds import training_bytes
from logicat.nn.convnet import spec_of
from logicat.nn.output import training_prior
from logicat.training.examples import FileImages, InMemoryImages, image_source
from logicat.training.hyperparameters import CONVNET_CONSTRAINTS as CONSTRAINTS
from logicat.training.labels import held_out
from logicat.training.setup import Setup

__all__ = ["CONSTRAINTS", "examples", "prepare"]

#: The name of the ConvNet's solver in model files: torch.optim steps on augmented mini-batches.
SOLVER = "minibatch"


# ------------------------------------------------------------------------- the preparation
def examples(images: Any, params: Mapping[str, Any], chunk_rows: int = 0
             ) -> InMemoryImages | FileImages:
    """Where the images come from (``image_source``), checked against the recipe."""
    source = image_source(images)
    if params["crop"] == "pad" and int(params["crop_pad"]) >= source.image_size:
        raise ParameterError(f"The 'crop_pad' parameter must be smaller than the images' side "
                             f"(their border is reflected): {source.image_size}x"
                             f"{source.image_size} images take at most "
                             f"{source.image_size - 1}. Got {params['crop_pad']} instead.")
    if params.get("average") and params["early_stopping"]:
        raise ParameterError("The 'average' parameter averages the weights over the run, and "
                             "early stopping keeps one epoch's: choose one.")
    return source


def prepare(params: Mapping[str, Any], source: InMemoryImages | FileImages, y01: np.ndarray,
            weights: np.ndarray | None, *, resume: Snapshot | None = None,
            distributed: bool = False, **_: Any) -> Setup:
    """The image network of ``params`` on ``source``, ready for the loop: the rows held out
    for early stopping, the memory it needs, the device, and ``ConvNetSolver`` with its
    batches and the run's generator. ``distributed``: train data-parallel in the
    ``torch.distributed`` group this process is in (every process calls the fit with the same
    arguments; each trains on its share of each batch, the gradients and batch-norm statistics
    summed over all)."""
    from logicat.engines.torch import require_torch

    require_torch()
    import torch

    from logicat.training.image_solver import ConvNetSolver
    from logicat.training.torch_solver import resolve_device

    spec = spec_of(params, source.image_size)
    train, val = held_out(y01, params, np.random.default_rng(params["random_state"]), resume)
    if train is None:
        train = np.arange(source.m)
    size, net = spec.image_size, spec.layers()
    # before anything is allocated: training the layers in float32, a batch at a time
    rows = int(params["batch_size"])
    check_memory(training_bytes(net, (3, size, size), np.float32, rows),
                 f"the {spec.description} in steps of {rows} examples", ParameterError)
    device = resolve_device(params["device"])
    if distributed:
        import torch.distributed as torch_dist

        if torch.cuda.is_available() and device.type == "cuda":
            device = torch.device("cuda", torch.cuda.current_device())
        if not torch_dist.is_initialized():
            raise ParameterError("distributed=True needs a torch.distributed process group "
                                 "(logicat train --nproc N starts one).")
    solver = ConvNetSolver(spec, source, y01, train, dict(params), device, weights,
                           distributed=distributed)
    validation = None if val is None else (lambda params: solver.validation_cost(val))
    return Setup(solver, solver.batches, solver.draws, SOLVER, net, (3, size, size),
                 validation=validation, held_out=val, tta=spec.tta,
                 training_prior=training_prior(y01[train], None if weights is None
                                               else weights[train]),
                 scheduled=True)
