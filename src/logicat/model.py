"""A trained classifier as plain data: its list of layers and their tensors, and what
predicting needs around them.

``Model`` is the network - its layers (``logicat.nn.layers``: the whole architecture, from the
input's normalisation to the final sigmoid) and every tensor they name - with what is needed
to use it: the shape of one example it takes, the two classes and which is positive, how images
become its input, the output step (an ensemble's members, calibration, class mix), the cost
history and the metadata of the run. It predicts with NumPy alone, so the command line's hot
paths (``logicat predict``, ``serve``) never import scikit-learn or torch. Which preset made
the list (logistic regression, the course's networks, the ConvNet) is the estimators' question
(``logicat.nn.architectures``), never this class's.

    model = logicat.io.files.read_model("model.safetensors")
    p = model.proba(model.features(images))          # (m,) p(positive class | image)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from logicat.core.errors import ModelFileError, ShapeError
from logicat.core.validation import as_matrix, check_memory
from logicat.data.features import apply_preprocessing, preprocessing_spec
from logicat.nn import forward, tta
from logicat.nn.architectures import describe, summary
from logicat.nn.bounds import forward_bytes
from logicat.nn.layer import prod
from logicat.nn.layers import Layer, first_weighted, shapes
from logicat.nn.loss import sigmoid
from logicat.nn.output import Output


@dataclass
class Model:
    """A trained binary classifier (see the module docstring).

    layers : the network, the whole of its architecture (the last layer a sigmoid)
    tensors : every tensor the layers name, in their order (the first member's)
    input_shape : one example's: (n,) feature vectors, or (3, s, s) images (whose features are
        their pixels / 255 in (row, column, channel) order)
    classes : the labels of class 0 and class 1 (1 is the positive class)
    cost_history, validation_cost_history : J of each iteration (and on the validation set)
    n_iter : iterations run
    metadata : the model file's header: preprocessing, class names, hyperparameters, metrics,
        training data, ...
    tta : test-time augmentation: False, True (the logit is the mean of the image's and its
        mirror image's) or "shifts" (and of 4 shifted views and their mirrors: ``nn.tta``)
    ensemble : the tensors of an ensemble's other members (members 2..K, each as ``tensors``),
        empty for one model
    output : the output step: how the members' logits combine, the calibration's temperature,
        the training class mix and the one decisions are made at (``logicat.nn.output``)
    source : where the model was read from, for messages (not stored)
    """

    layers: list[Layer]
    tensors: dict[str, np.ndarray]
    input_shape: tuple[int, ...]
    classes: list[Any] = field(default_factory=lambda: [0, 1])
    cost_history: np.ndarray = field(default_factory=lambda: np.empty(0))
    validation_cost_history: np.ndarray | None = None
    n_iter: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    tta: bool | str = False
    ensemble: list[dict[str, np.ndarray]] = field(default_factory=list)
    output: Output = field(default_factory=Output)
    source: str = field(default="the model", repr=False, compare=False)

    def __post_init__(self) -> None:
        self.layers = list(self.layers)
        self.input_shape = tuple(int(s) for s in self.input_shape)
        if self.output.members != 1 + len(self.ensemble):
            self.output = replace(self.output, members=1 + len(self.ensemble))

    @classmethod
    def of(cls, layers: Sequence[Layer], input_shape: Sequence[int],
           members: Sequence[Sequence[np.ndarray]], **fields: Any) -> Model:
        """The model of ``layers`` whose members' tensors come as lists in the layers' order
        (what the solvers train): each list named by ``nn.layers.shapes``."""
        names = list(shapes(layers, tuple(input_shape))[0])
        named = []
        for member in members:
            if len(member) != len(names):
                raise ShapeError(f"the layers name {len(names)} tensors; got {len(member)}.")
            named.append(dict(zip(names, member, strict=True)))
        return cls(list(layers), named[0], tuple(input_shape), ensemble=named[1:], **fields)

    @property
    def members(self) -> list[dict[str, np.ndarray]]:
        """Each member's tensors, the first member's being ``tensors``."""
        return [self.tensors, *self.ensemble]

    def at_prior(self, prior: float | str | None) -> Model:
        """This model deciding at the class mix ``prior`` ("train", "balanced" or a number in
        (0, 1); None: as it is), or a one-line ``ModelFileError`` naming it when it does not
        record the mix it was trained on."""
        if prior is None:
            return self
        output = self.output.at(prior)
        try:
            output.shift()
        except ValueError as e:
            raise ModelFileError(f"{self.source}: {e}") from None
        return replace(self, output=output)

    @property
    def takes_images(self) -> bool:
        """Whether the layers take images (3, s, s) rather than feature vectors (n,)."""
        return len(self.input_shape) == 3

    @property
    def architecture_summary(self) -> dict[str, Any]:
        """What the model is, for a page or an API (``nn.architectures.summary``): its kind,
        its description, its hidden layers' widths and activation, its blocks' widths or its
        number of layers."""
        return summary(self.layers, self.input_shape, self.tta)

    @property
    def names(self) -> tuple[str, ...]:
        """The tensors' names in model files, in the layers' order."""
        return tuple(self.tensors)

    @property
    def description(self) -> str:
        """What the model is, in one line: "logistic regression 12288 -> 1" or
        "network 12288 -> 20 -> 7 -> 5 -> 1 (relu)"."""
        members = f", an ensemble of {len(self.members)}" if self.ensemble else ""
        return describe(self.layers, self.input_shape, self.tta) + members

    @property
    def n_features(self) -> int:
        return prod(self.input_shape)

    @property
    def dtype(self) -> np.dtype:
        return forward.dtype_of(self.tensors)

    @property
    def preprocessing(self) -> dict | None:
        """How images become this model's features, or None if it was not trained on images.

        Recorded in the file; for a model without the record whose width is size * size * 3,
        the lesson's preprocessing at that size.
        """
        spec = self.metadata.get("preprocessing")
        if spec:
            return spec
        size = round((self.n_features / 3) ** 0.5)
        return preprocessing_spec(size) if size > 0 and 3 * size * size == self.n_features else None

    def image_preprocessing(self, source: Any = "the model") -> dict:
        """``preprocessing``, or a one-line ``ModelFileError`` naming ``source`` for a model
        that does not take images (what every command and the web app that predict on images
        ask first)."""
        spec = self.preprocessing
        if not spec:
            raise ModelFileError(f"{source}: this model was not trained on images (no "
                                 "preprocessing in its metadata, and its width is no size x "
                                 "size x 3).")
        return spec

    @property
    def class_names(self) -> list[str]:
        return [str(c) for c in self.metadata.get("class_names", self.classes)]

    @property
    def positive_class(self) -> str:
        return str(self.metadata.get("positive_class", self.class_names[1]))

    def features(self, images: np.ndarray) -> np.ndarray:
        """uint8 images (m, s, s, 3) -> the features (m, n) this model was trained on."""
        spec = self.preprocessing
        if spec is None:
            raise ModelFileError("this model was not trained on images (no preprocessing).")
        return apply_preprocessing(images, spec, self.dtype)

    def check_memory(self, *, gradients: bool = False) -> None:
        """Refuse, before computing, a model one example of which does not fit in memory: one
        image (or feature vector) through its layers in its dtype, to predict, or, with
        ``gradients``, with every layer's output and its float64 gradient kept, as ``explain``
        takes them (``nn.bounds.forward_bytes``): a one-line ``ModelFileError`` naming it.
        The commands that compute call it first, each with its own need (``predict``,
        ``evaluate``, the web app: predicting; ``explain``, ``report``: explaining;
        ``logicat.evaluate.explain`` too); reading a file does not, so ``info`` shows any
        valid file."""
        images = self.takes_images
        dtype = np.dtype(np.float64) if gradients else np.dtype(self.dtype)
        what = (f"one {self.input_shape[-1]}x{self.input_shape[-1]} image" if images
                else "one example") + (" with the float64 gradients explain takes"
                                       if gradients else "")
        check_memory(forward_bytes(self.layers, self.input_shape, dtype, with_gradients=gradients),
                     f"{self.source}: {what} through this model", ModelFileError)

    def member_logits(self, X: np.ndarray) -> np.ndarray:
        """Each member's logit, shape (K, m), of features X (m, n), before the output step."""
        X = as_matrix("X", X, n_features=self.n_features).astype(self.dtype, copy=False)
        if not np.all(np.isfinite(X)):
            raise ValueError("X must hold finite numbers. Got NaN or infinity.")
        return np.stack([self.checked_logits(self._logit(tensors, X)) for tensors in self.members])

    def _logit(self, tensors: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
        """One member's z (m,): of the images whose features X are, with ``tta`` the mean of
        the logits of each image's views (``nn.tta``); or of the feature vectors X."""
        if not self.takes_images:
            return forward.logit(self.layers, tensors, X)
        s = self.input_shape[-1]
        images = X.reshape(-1, s, s, 3)
        each = tta.views(self.tta, s)
        z = forward.logit(self.layers, tensors, images)
        for view in each[1:]:
            z = z + forward.logit(self.layers, tensors, tta.apply(images, view))
        return z if len(each) == 1 else z * (1.0 / len(each))

    def decision_function(self, X: np.ndarray, prior: float | str | None = None) -> np.ndarray:
        """The logits z, shape (m,), of features X (m, n) (standardised first, if trained so):
        the members' logits through the output step (``logicat.nn.output``), deciding at
        ``prior`` (None: the model's own)."""
        return self.at_prior(prior).output.logit(self.member_logits(X))

    def checked_logits(self, z: np.ndarray) -> np.ndarray:
        """``z``, or a one-line ``ModelFileError`` naming the model if any logit is not finite:
        no engine's answer is ever shown as a probability that is not a number (the reader's
        range check, ``logicat.nn.bounds``, keeps files that could give one out)."""
        bad = np.flatnonzero(~np.isfinite(z))
        if bad.size:
            raise ModelFileError(f"{self.source}: its logit is not a finite number for "
                                 f"{bad.size} of the {len(z)} examples (example {bad[0]}: "
                                 f"{z[bad[0]]}); its tensors overflow {self.dtype}.")
        return z

    def proba(self, X: np.ndarray, prior: float | str | None = None) -> np.ndarray:
        """p(classes[1] | x) = sigma(z) for each row of X, shape (m,)."""
        return sigmoid(self.decision_function(X, prior))

    def predict(self, X: np.ndarray, prior: float | str | None = None) -> np.ndarray:
        """``classes[1]`` where sigma(z) > 0.5, as the lesson decides; shape (m,)."""
        return np.asarray(self.classes)[(self.proba(X, prior) > 0.5).astype(int)]

    def label_names(self, proba: np.ndarray) -> list[str]:
        """The class name of each decision p > 0.5."""
        names = self.class_names
        return [names[int(p > 0.5)] for p in proba]

    def pixel_weights(self) -> np.ndarray:
        """The weight of each input feature (pixel / 255) in the first dense layer: shape (n,)
        for logistic regression (w in the logit), (n, n_1) for a network (one column per unit).

        That is the layer's weights themselves or, after a ``normalize`` of each feature
        (trained with standardisation), divided by its scale (z = sum_j w_j (x_j - mu_j) /
        sigma_j + b), so that both kinds of model draw their weights in the same units.
        """
        first = first_weighted(self.layers)
        W = np.asarray(self.tensors[first.tensor_names()["weight"]], dtype=np.float64)
        if first["layout"] == "out_in":
            W = W.T
        if self.layers[0].type != "normalize" or self.takes_images:
            return W
        scale = np.asarray(self.tensors[self.layers[0].tensor_names()["std"]], np.float64)
        return W / (scale if W.ndim == 1 else scale[:, None])
