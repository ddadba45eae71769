"""The labels a fit trains on: both classes present, their weights, the rows held out.

Every fit (``logicat.training.fit``) checks and weighs its labels here, whatever the model and
wherever its examples come from, so the rules and their messages are one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from logicat.core.errors import DataFileError, ModelFileError, ParameterError, ShapeError
from logicat.data.splits import held_out_rows
from logicat.io.files import Snapshot


def check_labels(y01: Any, m: int, source: str, noun: str = "examples") -> np.ndarray:
    """Labels (m,) in {0, 1} for ``m`` examples (``noun``) of both classes, or a one-line error
    naming ``source``."""
    y01 = np.asarray(y01)
    if y01.shape != (m,):
        raise ShapeError(f"y must have shape ({m},) for {m} {noun}. Got shape {y01.shape} "
                         "instead.")
    check_both_classes(y01, source)
    return y01


def check_both_classes(y01: np.ndarray, source: str) -> None:
    """A classifier learns from examples of both classes: refuse labels (m,) of one class only,
    wherever they come from (arrays, the cat-data files, ``--train-file``)."""
    present = np.unique(y01)
    if len(present) < 2:
        got = f"only class {int(present[0])}" if len(present) else "no labels"
        raise DataFileError(f"{source}: the training labels must hold both classes (0 and 1). "
                            f"Got {got} ({len(y01)} examples).")


def class_weighted(y01: np.ndarray, sample_weight: np.ndarray | None, class_weight,
                   classes: Sequence[Any], dtype) -> np.ndarray | None:
    """sample_weight times the class weights, shape (m,) in ``dtype``; None if neither.

    "balanced" is m / (2 * count of the class), as in scikit-learn; a dict maps labels to weights
    (labels it leaves out weigh 1; a key that is not a label of y is refused).
    """
    if sample_weight is None and class_weight is None:
        return None
    y01 = y01.astype(int)
    s = np.ones(len(y01)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    if class_weight == "balanced":
        counts = np.bincount(y01, minlength=2)
        per_class = len(y01) / (2.0 * np.maximum(counts, 1))
        s = s * per_class[y01]
    elif class_weight is not None:
        labels = np.asarray(classes).tolist()
        if unknown := [key for key in class_weight if key not in labels]:
            raise ParameterError(f"The 'class_weight' parameter's keys must be labels of y, one "
                                 f"of {labels}. Got {', '.join(map(repr, unknown))} instead.")
        per_class = np.array([float(class_weight.get(c, 1.0)) for c in classes])
        s = s * per_class[y01]
    for c in (0, 1):
        if not s[y01 == c].sum() > 0:
            raise ParameterError(
                "A binary classifier: both classes need a positive total sample weight. "
                f"Got 0 for class {classes[c]!r} instead."
            )
    return s.astype(dtype)


def held_out(y01: np.ndarray, params, rng: np.random.Generator, resume: Snapshot | None):
    """Stratified (train, validation) indices for early stopping; (None, None) without.

    The rows held out are ``data.splits.held_out_rows``' (drawn by ``rng``); a resumed run takes
    the checkpoint's.
    """
    if not params["early_stopping"]:
        return None, None
    m = len(y01)
    if resume is not None:
        val = np.asarray(resume.tensors["validation_indices"], dtype=np.intp)
        if val.size and (val.min() < 0 or val.max() >= m):
            raise ModelFileError(f"{resume.source}: the checkpoint holds out rows up to "
                                 f"{val.max()}, but the training set has {m}.")
    else:
        val = held_out_rows(y01, float(params["validation_fraction"]), rng)
    return np.setdiff1d(np.arange(m), val), val


