"""One fit of the ConvNet: hyperparameters and images -> the one loop -> a ``Fit``.

The same loop as every other model (``logicat.training.loop``: the cost history, the
divergence rule, callbacks), run by ``torch_backend.convnet_solver.ConvNetSolver`` one epoch
per iteration; ``ConvNetClassifier.fit`` and ``logicat train --model convnet`` both come here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from logicat.convnet import ConvNetSpec
from logicat.errors import ParameterError, ShapeError
from logicat.training.fit import Fit
from logicat.training.hyperparameters import CONVNET_CONSTRAINTS
from logicat.training.loop import Callback, Trainer
from logicat.validation import check_params


def as_images(X: Any) -> np.ndarray:
    """uint8 images (m, s, s, 3) as they are, or the lesson's features (m, s*s*3) = pixel / 255
    folded back into (m, s, s, 3) floats in [0, 1]."""
    X = np.asarray(X)
    if X.ndim == 4 and X.shape[3] == 3 and X.shape[1] == X.shape[2]:
        return X
    if X.ndim == 2:
        side = round((X.shape[1] / 3) ** 0.5)
        if 3 * side * side == X.shape[1] and side > 0:
            return X.reshape(len(X), side, side, 3)
    raise ShapeError("the ConvNet takes images of shape (m, s, s, 3) or the lesson's features "
                     f"of shape (m, s * s * 3). Got shape {X.shape} instead.")


def spec_of(params: Mapping[str, Any], image_size: int) -> ConvNetSpec:
    """The architecture the hyperparameters describe, for images of ``image_size``."""
    spec = ConvNetSpec(tuple(int(w) for w in params["widths"]), int(params["convs_per_block"]),
                       params["head"], int(params["hidden"]), int(image_size),
                       bool(params["tta"]))
    if not spec.widths or image_size % 2 ** len(spec.widths):
        raise ParameterError(f"The 'widths' parameter gives {len(spec.widths)} blocks, each "
                             f"halving the image; {image_size}x{image_size} images need a "
                             f"number of blocks with 2^blocks dividing {image_size}.")
    return spec


def fit_convnet(params: Mapping[str, Any], images: np.ndarray, y01: np.ndarray,
                callbacks: Sequence[Callback] = ()) -> Fit:
    """Train the ConvNet of ``params`` on ``images`` (uint8 or [0, 1] floats (m, s, s, 3)) and
    labels ``y01`` (m,) in {0, 1}."""
    from logicat.torch_backend import require_torch

    require_torch()
    from logicat.torch_backend.convnet_solver import ConvNetSolver
    from logicat.torch_backend.solver import resolve_device

    check_params(CONVNET_CONSTRAINTS, {k: v for k, v in params.items()
                                       if k in CONVNET_CONSTRAINTS})
    images = as_images(images)
    spec = spec_of(params, images.shape[1])
    solver = ConvNetSolver(spec, images, y01, dict(params), int(params["max_iter"]),
                           resolve_device(params["device"]))
    lr = float(params["learning_rate"])
    result = Trainer(max_iter=int(params["max_iter"]), schedule=lambda epoch: lr,
                     callbacks=callbacks).run(solver)
    return Fit(result, "convnet", convnet=spec)  # ConvNetSolver: epochs of mini-batches
