"""logicat's estimators, with scikit-learn's contract: ``LogisticRegression`` and
``MLPClassifier`` (``base.GradientDescentClassifier`` holds what they share),
``ConvNetClassifier``, and the functions that make one from a file or a PyTorch dataset."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from logicat.estimators.base import GradientDescentClassifier
from logicat.estimators.convnet import ConvNetClassifier
from logicat.estimators.logistic import LogisticRegression
from logicat.estimators.mlp import MLPClassifier
from logicat.estimators.network import NetworkClassifier
from logicat.io.files import read_model
from logicat.model import Model
from logicat.nn.architectures import dense
from logicat.training.loop import Callback

__all__ = ["ConvNetClassifier", "GradientDescentClassifier", "LogisticRegression",
           "MLPClassifier", "NetworkClassifier", "estimator_of", "fit_dataset", "load_model"]
Estimator = GradientDescentClassifier | ConvNetClassifier


def load_model(path: str | Path) -> Estimator:
    """Read a model file written by ``save`` or ``logicat train``: a fitted
    ``LogisticRegression`` (no hidden layer), ``MLPClassifier``, ``ConvNetClassifier`` or
    ``NetworkClassifier``, with
    the file's header in ``metadata_``.

    Raises ``ModelFileError`` with a one-line message for a missing, truncated, corrupted or
    foreign file, or one whose tensors do not match its metadata.
    """
    return estimator_of(read_model(path), source=path)


def estimator_of(model: Model, source: str | Path | None = None) -> Estimator:
    """The fitted estimator a ``logicat.model.Model`` is: ``LogisticRegression`` without a
    hidden layer, ``MLPClassifier`` with some, ``ConvNetClassifier``; with the model's
    hyperparameters."""
    found = dense(model.layers)  # the course's network, or the lesson's without hidden layers
    if found is not None:
        cls = MLPClassifier if found.hidden else LogisticRegression
    else:  # the ConvNet's list, or a network of the user's own layers
        cls = ConvNetClassifier if ConvNetClassifier._reads(model) else NetworkClassifier
    return cls.from_model(model, source=source)


def fit_dataset(dataset: Any, *, batch_size: int = 64, seed: int = 0, num_workers: int = 0,
                learning_rate: float = 0.005, max_iter: int = 100, loss: str = "cross_entropy",
                dtype: str = "float64", device: str = "auto",
                callbacks: Sequence[Callback] | None = None) -> LogisticRegression:
    """Train by mini-batch SGD with PyTorch on a ``torch.utils.data.Dataset`` of
    ``(pixels uint8, label)`` (``logicat.engines.torch.H5CatDataset``, ``ImageFolderDataset``)
    through the one fit (``logicat.training.fit``: its ``DataLoader``, in ``num_workers``
    processes, shuffled by the loop's generator seeded with ``seed``).

    Returns a fitted ``LogisticRegression`` with ``classes_ = [0, 1]`` (the dataset's labels;
    their names, ``dataset.classes``, go to ``metadata_["class_names"]`` and so into saved model
    files) that predicts on features as usual.
    """
    from logicat.training.examples import DatasetFeatures
    from logicat.training.fit import fit

    clf = LogisticRegression(learning_rate=learning_rate, max_iter=max_iter, loss=loss,
                             dtype=dtype, engine="torch", device=device, batch_size=batch_size,
                             random_state=seed)
    done = fit(clf.get_params(), DatasetFeatures(dataset, dtype, num_workers), dataset.labels,
               list(callbacks or ()))
    clf._set_fitted(done.result, [0, 1], dataset.n_features)
    clf.solver_ = done.solver
    names = [str(c) for c in dataset.classes]
    clf.metadata_ = {"class_names": names, "positive_class": names[1]}
    return clf
