"""Why did the model say "cat"? Which pixels of the image it sees pushed p(cat) up or down.

    explanation = explain(model, images)         # images: uint8 (m, s, s, 3)
    explanation.pixel_map                         # (m, s, s): each pixel's push on the logit z

Methods, all in units of the logit z (p = sigma(z); positive pushes towards the positive class):

- ``contributions`` (logistic regression): z = sum_j c_j + b exactly, with c_j = w_j x_j for
  the feature x_j = pixel / 255 of each of the n = s*s*3 values (w_j (x_j - mu_j) / sigma_j for
  a model trained with standardisation: contributions relative to the mean training image).
  ``values.sum((1, 2, 3)) + offset`` is the logit, to rounding.
- ``gradient_input`` (any model): x ⊙ dz/dx, the first-order share of each input in z; for
  logistic regression without standardisation it is exactly the contributions. For the dense
  models the gradient comes from any of the three engines: the hand-derived backward pass
  (numpy), logicat's own graph (autograd) or torch.autograd - they agree to rounding; for a
  ConvNet from the NumPy engine's backward pass of its layers (``logicat.nn.backward``) or
  torch.autograd, which agree to 1e-10.
- ``grad_cam`` (ConvNets, their default): the last block's feature maps weighted by the mean
  gradient of z over each map, added and upsampled to the image (signed: positive where the
  maps push z up; classic Grad-CAM keeps only that part). Relative units, not the logit's. An
  ensemble's maps are the mean of its members' maps.

The maps sum over the three channels: one number per pixel, what the pictures draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logicat.core.errors import ParameterError, ShapeError
from logicat.core.validation import Options, check_param
from logicat.model import Model
from logicat.nn import tta
from logicat.nn.bounds import rows_per_pass
from logicat.nn.convnet import NetworkSpec
from logicat.nn.layers import has, is_linear, logit_layers
from logicat.nn.loss import sigmoid

METHODS = ("auto", "contributions", "gradient_input", "grad_cam")
ENGINES = ("numpy", "autograd", "torch")


@dataclass
class Explanation:
    """Per-input pushes on the logit, for m images of size s.

    method : "contributions", "gradient_input" or "grad_cam"
    pixel_map : (m, s, s) each pixel's push on z (its R, G and B added)
    logit, proba : (m,) z and p(positive class)
    values : (m, s, s, 3) each input value's push on z; None for Grad-CAM (one per pixel)
    offset : what ``values`` leave out of z: b for contributions (values + b sum to z), None
        otherwise (no such identity)
    """

    method: str
    pixel_map: np.ndarray
    logit: np.ndarray
    proba: np.ndarray
    values: np.ndarray | None = None
    offset: float | None = None

    @property
    def short_title(self) -> str:
        return {"contributions": "contributions w\u00b7x",
                "gradient_input": "gradient \u00d7 input",
                "grad_cam": "Grad-CAM (signed)"}[self.method]

    def identity(self, k: int) -> str:
        """What the map of image k adds up to, in words: "sum + b = z = -0.712"."""
        z = float(self.logit[k])
        if self.offset is None:
            return f"z = {z:.3f}"
        return f"sum {float(self.values[k].sum()):.3f} + b {self.offset:.3f} = z {z:.3f}"


def explain(model: Model, images: np.ndarray, method: str = "auto",
            engine: str = "numpy") -> Explanation:
    """Explain ``model``'s logit on each of ``images`` (uint8 (m, s, s, 3), the model's size).

    method : "auto" - read from the model's layers: contributions when the logit is one dense
        unit of the input (logistic regression), grad_cam where there is a convolution,
        gradient_input otherwise - or "contributions", "gradient_input" or "grad_cam"; engine : who
        computes the gradients: "numpy" (the hand-derived backward pass, every model), "autograd"
        (logicat's own graph, dense models) or "torch".
    """
    check_param("method", method, [Options(METHODS)])
    check_param("engine", engine, [Options(ENGINES)])
    layers = model.layers  # the method follows from what the model is made of
    convolutional, linear = has(layers, "conv2d"), is_linear(layers)
    if method == "auto":
        method = ("grad_cam" if convolutional else "contributions" if linear
                  else "gradient_input")
    if method == "contributions" and not linear:
        raise ParameterError(f"contributions add up to the logit for logistic regression only; "
                             f"this is a {model.description}: use method='gradient_input'.")
    if method == "grad_cam" and not convolutional:
        raise ParameterError(f"Grad-CAM needs a ConvNet's feature maps; this is a "
                             f"{model.description}: use method='gradient_input'.")
    images = np.asarray(images)
    side = int(model.image_preprocessing()["image_size"])
    if images.ndim != 4 or images.shape[1:] != (side, side, 3) or images.dtype != np.uint8:
        raise ShapeError(f"images must be uint8 of shape (m, {side}, {side}, 3) for this model. "
                         f"Got shape {images.shape} of dtype {images.dtype} instead.")
    model.check_memory(gradients=True)  # one image with its gradients, before any work
    if convolutional:
        return _explain_convnet(model, images, method, engine)
    X = model.features(images)  # (m, n), the model's own preprocessing
    if method == "contributions":  # z = w.x + b, x after the list's normalize if it has one
        from logicat.nn import forward

        net, tensors = logit_layers(model.layers), _float64(model.tensors)
        x = forward.run(net[:-1], tensors, np.asarray(X, np.float64))
        names = net[-1].tensor_names()
        w, b = tensors[names["weight"]].reshape(-1), tensors[names["bias"]]
        values = x * w  # (m, n): c_j = w_j x_j
        logit = values.sum(axis=1) + b[0]
        offset: float | None = float(b[0])
    else:
        logit, gradient = _logit_gradient(model, X, engine)  # dz/dx (m, n)
        values = np.asarray(X, np.float64) * gradient
        offset = None
    values = values.reshape(images.shape[:3] + (3,))
    return Explanation(method, values.sum(axis=3), logit, sigmoid(logit), values, offset)


def _explain_convnet(model: Model, images: np.ndarray, method: str, engine: str
                     ) -> Explanation:
    """Grad-CAM or gradient x input of a ConvNet in float64, by the NumPy engine's backward pass
    (``logicat.nn.backward``) or torch.autograd on its module (``engine="torch"``); with TTA,
    the mirror image's map mirrored back and averaged in; an ensemble's maps are the mean of its
    members'. The logit is the model's own (its members and output step included): what
    ``predict`` says."""
    if engine == "autograd":
        raise ParameterError("logicat's own autograd explains the dense models; a ConvNet's "
                             "gradients come from engine='numpy' or engine='torch'.")
    side = images.shape[1]
    step = rows_per_pass(model.layers, (3, side, side), np.dtype(np.float64), with_gradients=True)
    explain_rows = _numpy_rows if engine == "numpy" else _torch_rows
    maps, inputs = [], []
    for member in model.members:
        tensors = _float64(member)
        parts = [explain_rows(model, tensors, images[start:start + step], method)
                 for start in range(0, max(len(images), 1), step)]  # as memory allows
        maps.append(np.concatenate([part[0] for part in parts]))
        if method != "grad_cam":
            inputs.append(np.concatenate([part[1] for part in parts]))
    logit = np.asarray(model.decision_function(model.features(images)), np.float64)
    values = np.mean(inputs, axis=0) if inputs else None
    return Explanation(method, np.mean(maps, axis=0), logit, sigmoid(logit), values)


def _numpy_rows(model: Model, tensors: dict, images: np.ndarray, method: str):
    """(maps (m, s, s), values (m, s, s, 3) or None) of one member, by ``nn.backward``."""
    from logicat.nn import backward, forward
    from logicat.nn.convnet import grad_cam_layer
    from logicat.nn.layers import logit_layers

    net = logit_layers(model.layers)
    cut = grad_cam_layer(net) if method == "grad_cam" else None
    x = images.astype(np.float64) / 255.0
    views = tta.views(model.tta, x.shape[1])  # each view's map goes back to the image
    total_map, total_grad = 0.0, 0.0
    for k, way in enumerate(views):
        view = tta.apply(x, way) if k else x
        if method == "grad_cam":
            maps = forward.run(net[:cut], tensors, view)  # (m, H, W, C), before the max-pool
            _, grad = backward.gradients(net[cut:], tensors, maps, np.ones(len(view)))
            cam = (grad.mean(axis=(1, 2), keepdims=True) * maps).sum(axis=3)  # (m, H, W)
            cam = upsample_bilinear(cam, view.shape[1])
            total_map = total_map + (tta.back(cam, way) if k else cam)
        else:  # dz/dx through the gather: its transpose (the chain rule)
            _, grad = backward.gradients(net, tensors, view, np.ones(len(view)) / len(views))
            total_grad = total_grad + (tta.back(grad, way) if k else grad)
    if method == "grad_cam":
        return total_map / len(views), None
    values = x * total_grad
    return values.sum(axis=3), values


def _torch_rows(model: Model, tensors: dict, images: np.ndarray, method: str):
    """(maps (m, s, s), values (m, s, s, 3) or None) of one member, by torch.autograd."""
    import torch

    from logicat.engines.torch.layers import ConvNet, grad_cam, images_to_tensor, input_gradient

    network = NetworkSpec(tuple(model.layers[1:-1]), model.input_shape[-1], model.tta)
    net = ConvNet(network).double().load_numpy_params(tensors).eval()  # its whole list
    x = images_to_tensor(images, torch.float64)
    if method == "grad_cam":
        logit, pixel_map = grad_cam(net, x)
        model.checked_logits(logit)
        return pixel_map, None
    logit, gradient = input_gradient(net, x)
    model.checked_logits(logit)
    values = (x.numpy() * gradient).transpose(0, 2, 3, 1)  # (m, s, s, 3)
    return values.sum(axis=3), values


def upsample_bilinear(maps: np.ndarray, size: int) -> np.ndarray:
    """(m, h, w) -> (m, size, size) by bilinear interpolation with half-pixel centres, as
    ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``: output pixel o
    samples the input at (o + 1/2) h / size - 1/2 (at least 0), between its two neighbours."""
    def weights(n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = np.maximum((np.arange(size) + 0.5) * (n_in / size) - 0.5, 0.0)
        low = np.minimum(np.floor(src).astype(int), n_in - 1)
        return low, np.minimum(low + 1, n_in - 1), src - low

    lo, hi, t = weights(maps.shape[1])
    rows = maps[:, lo] * (1 - t)[None, :, None] + maps[:, hi] * t[None, :, None]
    lo, hi, t = weights(maps.shape[2])
    return rows[:, :, lo] * (1 - t) + rows[:, :, hi] * t


def _logit_gradient(model: Model, X: np.ndarray, engine: str) -> tuple[np.ndarray, np.ndarray]:
    """z (m,) and dz/dx (m, n) by the features x, through the whole list (its normalize of
    each feature included), in float64: the NumPy engine's hand-derived backward pass,
    logicat's own autograd graph of the list, or torch.autograd on its module."""
    X, tensors = np.asarray(X, np.float64), _float64(model.tensors)
    if engine == "numpy":
        from logicat.nn import backward, forward

        z = forward.logit(model.layers, tensors, X)
        _, grad = backward.gradients(model.layers, tensors, X, np.ones(len(X)))
    elif engine == "autograd":
        from logicat.engines.autograd.layers import LayerGraph
        from logicat.engines.autograd.tensor import Tensor

        x = Tensor(X, requires_grad=True)
        logits = LayerGraph(model.layers, model.input_shape).forward(
            x, tensors, training=False).logits
        logits.sum().backward()  # z_i depends on row i only: d(sum z)/dX row i = dz_i/dx_i
        z, grad = logits.data, x.grad
    else:
        import torch

        from logicat.engines.torch.layers import LayerNet

        net = LayerNet(model.layers, model.input_shape).double()
        net = net.load_numpy_params(tensors).eval()
        x = torch.from_numpy(X).requires_grad_(True)
        logits = net(x)
        logits.sum().backward()
        z, grad = logits.detach().numpy(), x.grad.numpy()
    return np.asarray(z, np.float64), np.asarray(grad, np.float64)


def _float64(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.asarray(t, np.float64) for name, t in tensors.items()}
