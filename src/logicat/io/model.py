"""A trained classifier as plain data: what model files hold and what predicting needs.

``Model`` is the network's parameters (``logicat.nn.network``: [w, b] for logistic regression) with
everything needed to use them: the two classes and which is positive, how images become
features, the feature standardisation fitted in training, the cost history and the metadata of
the run. It predicts with NumPy alone, so the command line's hot paths (``logicat predict``,
``serve``) never import scikit-learn; ``LogisticRegression`` is built from one and gives one back.

    model = logicat.io.files.read_model("model.safetensors")
    p = model.proba(model.features(images))          # (m,) p(positive class | image)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from logicat.core.errors import ModelFileError
from logicat.core.validation import as_matrix, check_memory
from logicat.data.features import apply_preprocessing, preprocessing_spec
from logicat.nn import forward
from logicat.nn.bounds import forward_bytes
from logicat.nn.convnet import ConvNetSpec, NetworkSpec, param_shapes
from logicat.nn.convnet import logits as convnet_logits
from logicat.nn.families import family_layers
from logicat.nn.layers import Layer, takes_images
from logicat.nn.loss import sigmoid
from logicat.nn.network import Network, param_names
from logicat.nn.output import Output


@dataclass
class Model:
    """A trained binary classifier (see the module docstring).

    params : [W_1, b_1, ..., w, b]; logistic regression: [w (n,), b (1,)]; a ConvNet: its
        tensors in the order of ``logicat.nn.convnet.param_shapes(convnet)``
    classes : the labels of class 0 and class 1 (1 is the positive class)
    activation : of the hidden layers
    feature_mean, feature_scale : (n,) each, when trained with standardisation
    cost_history, validation_cost_history : J of each iteration (and on the validation set)
    n_iter : iterations run
    metadata : the model file's header: preprocessing, class names, hyperparameters, metrics,
        training data, ...
    convnet : the architecture of an image network - the ConvNet's
        (``logicat.nn.convnet.ConvNetSpec``) or the user's own layers (``NetworkSpec``) - None
        for the dense models
    ensemble : the tensors of an ensemble's other members (members 2..K, each as ``params``),
        empty for one model
    output : the output step: how the members' logits combine, the calibration's temperature,
        the training class mix and the one decisions are made at (``logicat.nn.output``)
    source : where the model was read from, for messages (not stored)
    """

    params: list[np.ndarray]
    classes: list[Any] = field(default_factory=lambda: [0, 1])
    activation: str = "relu"
    feature_mean: np.ndarray | None = None
    feature_scale: np.ndarray | None = None
    cost_history: np.ndarray = field(default_factory=lambda: np.empty(0))
    validation_cost_history: np.ndarray | None = None
    n_iter: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    convnet: ConvNetSpec | NetworkSpec | None = None
    ensemble: list[list[np.ndarray]] = field(default_factory=list)
    output: Output = field(default_factory=Output)
    source: str = field(default="the model", repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.output.members != 1 + len(self.ensemble):
            self.output = replace(self.output, members=1 + len(self.ensemble))

    @property
    def members(self) -> list[list[np.ndarray]]:
        """Each member's parameters, the first member's being ``params``."""
        return [self.params, *self.ensemble]

    def member_tensors(self, k: int) -> dict[str, np.ndarray]:
        """Every tensor member ``k``'s layers name (as ``tensors`` for the first)."""
        out = dict(zip(self.names, self.members[k], strict=True))
        if self.feature_mean is not None:
            out.update(feature_mean=self.feature_mean, feature_scale=self.feature_scale)
        return out

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
    def kind(self) -> str:
        """"logistic" (no hidden layer), "mlp" (hidden dense layers) or "convnet"."""
        if self.convnet is not None:
            return "convnet"
        return "logistic" if len(self.params) == 2 else "mlp"

    @property
    def named_params(self) -> dict[str, np.ndarray]:
        return dict(zip(self.names, self.params, strict=True))

    @property
    def layers(self) -> list[Layer]:
        """The model as a list of layers (``logicat.nn.layers``), what every engine interprets:
        the ConvNet's, or the dense network's with its feature standardisation (a
        ``normalize`` of each feature) first when it was trained with one."""
        return family_layers(self.convnet, self.hidden_layer_sizes, self.activation,
                             self.feature_mean is not None)

    @property
    def architecture_summary(self) -> dict[str, Any]:
        """What the model is, for a page or an API: its kind ("logistic regression", "network"
        of hidden dense layers, "convnet", or "layers": a network of one's own layers), its
        description, its hidden layers' sizes and activation (networks), its blocks' widths (a
        ConvNet) or its number of layers."""
        summary: dict[str, Any] = {
            "kind": {"logistic": "logistic regression", "mlp": "network",
                     "convnet": "layers" if isinstance(self.convnet, NetworkSpec)
                     else "convnet"}[self.kind],
            "description": self.description,
            "hidden_layer_sizes": list(self.hidden_layer_sizes),
            "activation": self.activation if self.hidden_layer_sizes else None,
        }
        if isinstance(self.convnet, ConvNetSpec):
            summary["widths"] = list(self.convnet.widths)
        elif isinstance(self.convnet, NetworkSpec):
            summary["layers"] = len(self.convnet.body)
        return summary

    @property
    def tta(self) -> bool:
        """Whether the logit is the mean of the image's and its mirror image's (test-time
        augmentation, a ConvNet's choice)."""
        return bool(self.convnet is not None and self.convnet.tta)

    @property
    def tensors(self) -> dict[str, np.ndarray]:
        """Every tensor the layers name (the parameters, and the standardisation's)."""
        out = self.named_params
        if self.feature_mean is not None:
            out.update(feature_mean=self.feature_mean, feature_scale=self.feature_scale)
        return out

    @property
    def network(self) -> Network:
        return Network.from_params(self.params, self.activation)

    @property
    def n_layers(self) -> int:
        return len(self.params) // 2

    @property
    def hidden_layer_sizes(self) -> tuple[int, ...]:
        """The dense hidden layers' widths; () for logistic regression and for a ConvNet."""
        if self.convnet is not None:
            return ()
        return tuple(int(W.shape[1]) for W in self.params[:-2:2])

    @property
    def description(self) -> str:
        """What the model is, in one line: "logistic regression 12288 -> 1" or
        "network 12288 -> 20 -> 7 -> 5 -> 1 (relu)"."""
        if self.convnet is not None:
            return self.convnet.description + self._members_text
        sizes = " -> ".join(map(str, (self.n_features, *self.hidden_layer_sizes, 1)))
        if self.n_layers == 1:
            return f"logistic regression {sizes}{self._members_text}"
        return f"network {sizes} ({self.activation}){self._members_text}"

    @property
    def _members_text(self) -> str:
        return f", an ensemble of {len(self.members)}" if self.ensemble else ""

    @property
    def names(self) -> tuple[str, ...]:
        """The parameters' tensor names in model files."""
        if self.convnet is not None:
            return tuple(param_shapes(self.convnet))
        return param_names(self.n_layers)

    @property
    def n_features(self) -> int:
        if self.convnet is not None:
            return 3 * self.convnet.image_size ** 2
        return int(self.params[0].shape[0])

    @property
    def dtype(self) -> np.dtype:
        return self.params[0].dtype

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
        spec = self.preprocessing
        side = int(spec["image_size"]) if spec is not None else 0
        images = takes_images(self.layers)
        shape = (3, side, side) if images else (self.n_features,)
        dtype = np.dtype(np.float64) if gradients else np.dtype(self.dtype)
        what = (f"one {side}x{side} image" if images else "one example") + (
            " with the float64 gradients explain takes" if gradients else "")
        check_memory(forward_bytes(self.layers, shape, dtype, with_gradients=gradients),
                     f"{self.source}: {what} through this model", ModelFileError)

    def member_logits(self, X: np.ndarray) -> np.ndarray:
        """Each member's logit, shape (K, m), of features X (m, n), before the output step."""
        X = as_matrix("X", X, n_features=self.n_features).astype(self.dtype, copy=False)
        if not np.all(np.isfinite(X)):
            raise ValueError("X must hold finite numbers. Got NaN or infinity.")
        out = []
        for k in range(len(self.members)):
            tensors = self.member_tensors(k)
            if self.convnet is not None:  # images, and the mean logit with the mirror's (TTA)
                z = convnet_logits(self.convnet, tensors, X)
            else:
                z = forward.logit(self.layers, tensors, X)
            out.append(self.checked_logits(z))
        return np.stack(out)

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
        """The weight of each input feature (pixel / 255) in the first layer: shape (n,) for
        logistic regression (w in the logit), (n, n_1) for a network (one column per unit).

        That is the first layer's weights themselves, or divided by ``feature_scale`` for a
        model trained with standardisation (z = sum_j w_j (x_j - mu_j) / sigma_j + b), so that
        both kinds of model draw their weights in the same units.
        """
        W = np.asarray(self.params[0], dtype=np.float64)
        if self.feature_scale is None:
            return W
        scale = np.asarray(self.feature_scale, np.float64)
        return W / (scale if W.ndim == 1 else scale[:, None])
