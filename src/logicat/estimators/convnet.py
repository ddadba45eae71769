"""``ConvNetClassifier``: a small convolutional network on the images, with scikit-learn's contract.

The network is ``logicat.nn.convnet``'s (blocks of 3x3 convolutions, BatchNorm, ReLU and 2x2
max-pooling, then global average pooling and one logit), trained by PyTorch with data
augmentation (``logicat.training.image_solver``) through the one training loop; it
predicts with NumPy (``logicat.model.Model``), optionally averaging each image's logit with its
mirror image's (test-time augmentation, ``tta``). The defaults are the recipe chosen by
stratified cross-validation on the 209 training images only (BENCHMARKS.md, "Accuracy").

It takes uint8 images (m, s, s, 3) or the lesson's features (m, s*s*3) = pixel / 255, and
predicts the same way from either.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from logicat.core.errors import ModelFileError, ShapeError
from logicat.core.validation import check_params
from logicat.estimators.base import BinaryClassifier, encode_binary_labels
from logicat.model import Model
from logicat.nn.architectures import convnet, image_spec
from logicat.training.ensemble import fit_recipe
from logicat.training.examples import as_images
from logicat.training.hyperparameters import CONVNET_CONSTRAINTS, CONVNET_DEFAULTS, json_params

_D = CONVNET_DEFAULTS


class ConvNetClassifier(BinaryClassifier):
    """A binary image classifier: a small ConvNet trained with augmentation.

    Parameters
    ----------
    widths : channels of each block (one 2x2 max-pool per block), default (16, 32, 64, 128)
    convs_per_block : 3x3 convolutions (each + BatchNorm + ReLU) per block
    head : "gap" (global average pooling) or "flatten" before the output layer
    hidden : units of a hidden layer in the head (0: none)
    dropout : dropout probability before each linear layer of the head
    max_iter : epochs
    batch_size : images per step
    learning_rate : the peak learning rate of the per-step schedule
    optimizer : the update rule, one of every model's (``LogisticRegression``'s): "gd",
        "momentum", "nesterov" (both with ``momentum``), "adam" or "adamw", as ``torch.optim``
        has them ("sgd", the name of earlier files, is "nesterov", or "gd" with momentum 0)
    weight_decay : on the convolution and linear weights only (decoupled for "adamw", added
        to the gradient otherwise, as ``torch.optim`` does)
    lr_schedule : "cosine" (linear warm-up over ``warmup`` of the steps, then cosine to 0) or
        "constant"
    flip, crop, crop_pad, crop_min_scale, rotation, brightness, contrast, saturation :
        the augmentation (``logicat.engines.torch.augment``): mirror images; "pad" crops
        (shifts of up to ``crop_pad`` pixels) or "resized" crops (down to ``crop_min_scale``
        of the area, rotated by up to ``rotation`` degrees); colour jitter factors
    mixup : the Beta(mixup, mixup) mixing of pairs of examples (0: off)
    cutmix : CutMix, a box of Beta(cutmix, cutmix)-drawn area cut from another image of the
        batch, the labels mixed by area (0: off; with mixup too, one of the two per batch)
    label_smoothing : targets y (1 - e) + e / 2
    average : None, "ema" (an exponential moving average of the weights after every step,
        decay ``average_decay``) or "swa" (the mean of the weights after each epoch from
        ``average_start`` of the run on): the model ends with the averaged weights, their batch
        norms' statistics recomputed on the training images
    average_decay, average_start : see ``average``
    tta : test-time augmentation: True, predict with the mean logit of each image and its mirror
        image; "shifts", and of its 4 diagonal shifts by 4 pixels and their mirrors (10 views,
        ``logicat.nn.tta``); False, the image alone
    class_weight : None, "balanced" (m / (2 * count of the class)) or {label: weight}: each
        image's loss is weighted by its class's weight (times ``sample_weight``)
    early_stopping : hold out a stratified ``validation_fraction`` of the images, stop when
        their cost has not improved for ``n_iter_no_change`` epochs, and keep the parameters
        of the best epoch
    validation_fraction, n_iter_no_change : see ``early_stopping``
    n_members : train the recipe this many times and predict with the members' combination
        (an ensemble, one model: ``logicat.training.ensemble``)
    members : how members differ: "seeds" (every image, seeds random_state + k) or "folds"
        (member k leaves out fold k of n_members stratified folds)
    combine : "logit" (the mean logit) or "proba" (the mean probability) of the members
    calibration : None, or "temperature": the logit divided by the T that fits out-of-fold
        logits of the training images best (the members' own with members="folds", else those
        of ``calibration_cv`` extra fits, dropped afterwards)
    calibration_cv : the folds of those extra fits
    prior : the class mix decisions are made at: "train" (the training images' mix),
        "balanced" (equal) or the fraction of positives in (0, 1): the exact Bayes correction
        of the logit (``logicat.nn.output``); ``predict(X, prior=...)`` overrides it
    random_state : the seed of the initial weights, the shuffling and the augmentation: the
        same seed gives the same model on the same machine
    device : "auto" (CUDA if available), "cpu" or "cuda"
    callbacks : called after every epoch with a ``TrainingState`` (see LogisticRegression)
    verbose : 0 (silent), 1 (a progress bar over the epochs), 2 (also the cost every tenth of
        the run), as LogisticRegression's

    Attributes
    ----------
    classes_ : the two labels; ``classes_[1]`` is the positive class
    n_features_in_ : s*s*3; image_size_ : s
    params_ : {name: array}, PyTorch's ``state_dict`` of the trained network
        (``logicat.nn.convnet``)
    cost_history_ : (n_iter_,) the mean training loss of each epoch
    validation_cost_history_ : (n_iter_,) the held-out images' cost after each epoch, with
        ``early_stopping``; else None
    n_iter_ : epochs run (the first member's)
    members_ : [params_ of each member]; params_ is the first's
    output_ : the output step (``logicat.nn.output.Output``): members, combination, temperature,
        training class mix, decision prior
    temperature_ : the calibration's T (1.0 without); training_prior_ : the fraction of
        (weighted) positives trained on
    oof_logits_ : (m,) the out-of-fold logits T was fitted on, or None
    """

    def __init__(self, widths=_D["widths"], convs_per_block=_D["convs_per_block"],
                 head=_D["head"], hidden=_D["hidden"], dropout=_D["dropout"],
                 max_iter=_D["max_iter"], batch_size=_D["batch_size"],
                 learning_rate=_D["learning_rate"], optimizer=_D["optimizer"],
                 momentum=_D["momentum"], weight_decay=_D["weight_decay"],
                 lr_schedule=_D["lr_schedule"], warmup=_D["warmup"], flip=_D["flip"],
                 crop=_D["crop"], crop_pad=_D["crop_pad"], crop_min_scale=_D["crop_min_scale"],
                 rotation=_D["rotation"], brightness=_D["brightness"], contrast=_D["contrast"],
                 saturation=_D["saturation"], mixup=_D["mixup"], cutmix=_D["cutmix"],
                 label_smoothing=_D["label_smoothing"], average=_D["average"],
                 average_decay=_D["average_decay"], average_start=_D["average_start"],
                 tta=_D["tta"],
                 class_weight=_D["class_weight"], early_stopping=_D["early_stopping"],
                 validation_fraction=_D["validation_fraction"],
                 n_iter_no_change=_D["n_iter_no_change"], n_members=_D["n_members"],
                 members=_D["members"], combine=_D["combine"], calibration=_D["calibration"],
                 calibration_cv=_D["calibration_cv"], prior=_D["prior"],
                 random_state=_D["random_state"],
                 device=_D["device"], callbacks=_D["callbacks"], verbose=_D["verbose"]):
        self.widths = widths
        self.convs_per_block = convs_per_block
        self.head = head
        self.hidden = hidden
        self.dropout = dropout
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.warmup = warmup
        self.flip = flip
        self.crop = crop
        self.crop_pad = crop_pad
        self.crop_min_scale = crop_min_scale
        self.rotation = rotation
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.mixup = mixup
        self.cutmix = cutmix
        self.label_smoothing = label_smoothing
        self.average = average
        self.average_decay = average_decay
        self.average_start = average_start
        self.tta = tta
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.n_members = n_members
        self.members = members
        self.combine = combine
        self.calibration = calibration
        self.calibration_cv = calibration_cv
        self.prior = prior
        self.random_state = random_state
        self.device = device
        self.callbacks = callbacks
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # seeded: the same random_state, the same model
        return tags

    # ------------------------------------------------------------------ training
    def fit(self, X: Any, y: Any, sample_weight: Any = None, *,
            resume_from: str | Path | None = None) -> ConvNetClassifier:
        """Train on images X (m, s, s, 3) uint8 (or features (m, s*s*3) in [0, 1]) and labels
        y (m,) with two classes; ``sample_weight`` (m,) weights each image's loss.
        ``resume_from``: a checkpoint (``logicat.training.callbacks.Checkpoint``) of a fit with
        the same hyperparameters and data, continued exactly where it stopped; for an ensemble
        (or a calibration), the path its ``Checkpoint`` was given: its fits saved one file each
        beside it, and each goes on from its own."""
        images = as_images(X)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(images):
            raise ShapeError(f"y must have shape ({len(images)},) for {len(images)} images. Got "
                             f"shape {y.shape} instead.")
        classes, y01 = encode_binary_labels(type(self).__name__, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, y, dtype=np.float64,
                                                 ensure_non_negative=True)
        params = self.get_params()
        check_params(CONVNET_CONSTRAINTS, params)
        done = fit_recipe(params, images, y01, self._callbacks("epoch"),
                          sample_weight=sample_weight, classes=classes, resume_from=resume_from)
        self._set_fitted(done.to_model(params, classes))
        self.oof_logits_ = done.oof_logits
        self.metadata_ = done.metadata(params)
        return self

    def _set_fitted(self, model: Model) -> ConvNetClassifier:
        """The one way a fitted ConvNetClassifier is made: from a fit or a model file."""
        spec = image_spec(model.layers, model.input_shape, model.tta)
        self.members_ = [{name: np.asarray(t) for name, t in member.items()}
                         for member in model.members]
        self.params_ = self.members_[0]
        self.output_ = model.output
        self.temperature_ = model.output.temperature
        self.training_prior_ = model.output.training_prior
        self.spec_ = spec
        self.classes_ = np.asarray(model.classes)
        self.image_size_ = spec.image_size
        self.n_features_in_ = 3 * spec.image_size ** 2
        self.cost_history_ = np.asarray(model.cost_history)
        self.validation_cost_history_ = model.validation_cost_history
        self.n_iter_ = int(model.n_iter)
        return self

    # ---------------------------------------------------------------- prediction
    def decision_function(self, X: Any, prior: float | str | None = None) -> np.ndarray:
        """The logits z, shape (m,), of images or features, deciding at ``prior`` (None: the
        ``prior`` parameter's)."""
        check_is_fitted(self)
        images = as_images(X)
        if images.shape[1] != self.image_size_:
            raise ShapeError(f"this ConvNet was trained on {self.image_size_}x"
                             f"{self.image_size_} images. Got {images.shape[1]}x"
                             f"{images.shape[2]} instead.")
        model = self.to_model()
        features = (images.reshape(len(images), -1) / 255.0 if images.dtype == np.uint8
                    else images.reshape(len(images), -1))
        return model.decision_function(features, prior)

    # ---------------------------------------------------------------- model files
    def to_model(self) -> Model:
        check_is_fitted(self)
        metadata = dict(getattr(self, "metadata_", None) or {})
        metadata["hyperparameters"] = json_params(self.get_params())
        size = self.spec_.image_size
        return Model(self.spec_.layers(), dict(self.members_[0]), (3, size, size),
                     classes=self.classes_.tolist(), cost_history=self.cost_history_,
                     validation_cost_history=getattr(self, "validation_cost_history_", None),
                     n_iter=self.n_iter_, metadata=metadata, tta=self.spec_.tta,
                     ensemble=[dict(member) for member in self.members_[1:]],
                     output=replace(self.output_, combine=self.combine).at(self.prior))

    @classmethod
    def from_model(cls, model: Model, source: str | Path = "the model") -> ConvNetClassifier:
        if not cls._reads(model):
            raise ModelFileError(f"{source}: a {model.description}, not a {cls.__name__} "
                                 "(read it with load_model).")
        clf = cls(**cls._file_params(model))
        clf._set_fitted(model)
        clf.oof_logits_ = None
        clf.metadata_ = model.metadata
        return clf

    @classmethod
    def _reads(cls, model: Model) -> bool:
        """Whether a model file is this estimator's: the ConvNet's list of layers."""
        return model.takes_images and convnet(model.layers, model.input_shape[-1]) is not None

    @classmethod
    def _file_params(cls, model: Model) -> dict[str, Any]:
        """The hyperparameters a file records (those this estimator has), with its output
        step's prior and combination."""
        known = cls().get_params()
        hyper = {k: (tuple(v) if isinstance(v, list) else v)
                 for k, v in (model.metadata.get("hyperparameters") or {}).items() if k in known}
        return {**hyper, "prior": model.output.prior, "combine": model.output.combine}
