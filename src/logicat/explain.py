"""Why did the model say "cat"? Which pixels of the image it sees pushed p(cat) up or down.

    explanation = explain(model, images)         # images: uint8 (m, s, s, 3)
    explanation.pixel_map                         # (m, s, s): each pixel's push on the logit z

Methods, all in units of the logit z (p = sigma(z); positive pushes towards the positive class):

- ``contributions`` (logistic regression): z = sum_j c_j + b exactly, with c_j = w_j x_j for
  the feature x_j = pixel / 255 of each of the n = s*s*3 values (w_j (x_j - mu_j) / sigma_j for
  a model trained with standardisation: contributions relative to the mean training image).
  ``values.sum((1, 2, 3)) + offset`` is the logit, to rounding.
- ``gradient_input`` (any dense model): x ⊙ dz/dx, the first-order share of each input in z;
  for logistic regression without standardisation it is exactly the contributions. The
  gradient comes from any of the three engines: the hand-derived backward pass (numpy),
  logicat's own graph (autograd) or torch.autograd - they agree to rounding.

The maps sum over the three channels: one number per pixel, what the pictures draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logicat.errors import ParameterError
from logicat.model import Model
from logicat.scaling import standardize
from logicat.validation import Options, check_param

METHODS = ("auto", "contributions", "gradient_input")
ENGINES = ("numpy", "autograd", "torch")


@dataclass
class Explanation:
    """Per-input pushes on the logit, for m images of size s.

    method : "contributions" or "gradient_input"
    values : (m, s, s, 3) each input value's push on z
    logit, proba : (m,) z and p(positive class)
    offset : what ``values`` leave out of z: b for contributions (values + b sum to z), None
        for gradient x input (no such identity)
    """

    method: str
    values: np.ndarray
    logit: np.ndarray
    proba: np.ndarray
    offset: float | None = None

    @property
    def pixel_map(self) -> np.ndarray:
        """(m, s, s): the pushes of each pixel's R, G and B, added."""
        return self.values.sum(axis=3)

    @property
    def short_title(self) -> str:
        return {"contributions": "contributions w\u00b7x",
                "gradient_input": "gradient \u00d7 input"}[self.method]

    def identity(self, k: int) -> str:
        """What the map of image k adds up to, in words: "sum + b = z = -0.712"."""
        z = float(self.logit[k])
        if self.offset is None:
            return f"z = {z:.3f}"
        return f"sum {float(self.values[k].sum()):.3f} + b {self.offset:.3f} = z {z:.3f}"


def explain(model: Model, images: np.ndarray, method: str = "auto",
            engine: str = "numpy") -> Explanation:
    """Explain ``model``'s logit on each of ``images`` (uint8 (m, s, s, 3), the model's size).

    method : "auto" (contributions for logistic regression, gradient_input for a network),
        "contributions" or "gradient_input"; engine : who computes dz/dx for gradient_input.
    """
    check_param("method", method, [Options(METHODS)])
    check_param("engine", engine, [Options(ENGINES)])
    if method == "auto":
        method = "contributions" if model.n_layers == 1 else "gradient_input"
    if method == "contributions" and model.n_layers != 1:
        raise ParameterError(f"contributions add up to the logit for logistic regression only; "
                             f"this is a {model.description}: use method='gradient_input'.")
    images = np.asarray(images)
    X = model.features(images)  # (m, n), the model's own preprocessing
    if method == "contributions":
        w, b = (np.asarray(p, np.float64) for p in model.params)
        x = np.asarray(X, np.float64)
        if model.feature_mean is not None:
            x = standardize(x, model.feature_mean, model.feature_scale)
        values = x * w  # (m, n): c_j = w_j x_j
        logit = values.sum(axis=1) + b[0]
        offset: float | None = float(b[0])
    else:
        logit, gradient = _logit_gradient(model, X, engine)  # dz/dx (m, n)
        values = np.asarray(X, np.float64) * gradient
        offset = None
    from logicat.loss import sigmoid

    return Explanation(method, values.reshape(images.shape[:1] + images.shape[1:3] + (3,)),
                       logit, sigmoid(logit), offset)


def _logit_gradient(model: Model, X: np.ndarray, engine: str) -> tuple[np.ndarray, np.ndarray]:
    """z (m,) and dz/dx (m, n) by the features x (before standardisation), float64."""
    X = np.asarray(X, np.float64)
    params = [np.asarray(p, np.float64) for p in model.params]
    mean, scale = model.feature_mean, model.feature_scale
    X_in = X if mean is None else standardize(X, mean, scale)
    if engine == "numpy":
        from logicat.network import Network

        z, grad = Network.from_params(params, model.activation).logits_and_input_gradient(X_in)
    elif engine == "autograd":
        from logicat.autograd.graphs import network_logits
        from logicat.autograd.tensor import Tensor

        x = Tensor(X_in, requires_grad=True)
        logits = network_logits(x, [Tensor(p) for p in params], model.activation)
        logits.sum().backward()  # z_i depends on row i only: d(sum z)/dX row i = dz_i/dx_i
        z, grad = logits.data, x.grad
    else:
        import torch

        from logicat.torch_backend.model import TorchNetwork

        net = TorchNetwork(params, model.activation, dtype=torch.float64)
        x = torch.from_numpy(X_in).requires_grad_(True)
        logits = net(x)
        logits.sum().backward()
        z, grad = logits.detach().numpy(), x.grad.numpy()
    if scale is not None:
        grad = grad / np.asarray(scale, np.float64)  # x_std = (x - mu) / sigma
    return np.asarray(z, np.float64), np.asarray(grad, np.float64)
