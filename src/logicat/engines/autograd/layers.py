"""A small convolutional network as a graph of the engine's ops, fed PyTorch's parameters.

The network is a plain spec, a list of ``(layer, options)`` read in order, each layer the twin of
a ``torch.nn`` module with the same defaults:

    layer        options (defaults)                           torch.nn            parameters
    "conv"       stride 1, padding 0, bias True               Conv2d              weight, bias
    "batchnorm"  eps 1e-5, momentum 0.1, affine True          BatchNorm2d (1d)    weight, bias
    "relu", "tanh"                                            ReLU, Tanh          -
    "maxpool"    kernel (required), stride kernel, padding 0  MaxPool2d           -
    "gap"        (global average pooling, to (m, C, 1, 1))    AdaptiveAvgPool2d(1) -
    "flatten"    (to (m, C H W), as after "gap")              Flatten             -
    "linear"     bias True                                    Linear              weight, bias
    "dropout"    p 0.5                                        Dropout             -

The parameters are one list in the order of ``module.parameters()`` (= ``state_dict()`` without
the buffers) and in PyTorch's layouts: conv weight (out_c, in_c, kh, kw), linear weight
(out, in), each bias and batch-norm weight (out,). The kernel sizes and widths are read from
them. ``running`` lists each batch norm's running_mean and running_var, in that order.
``split_state_dict`` splits a ``state_dict()`` (its tensors or arrays) into the two lists, and
``param_names()`` gives the keys the list stands for in a ``torch.nn.Sequential`` of the twins
(layer i of the spec is module i of the Sequential, so the keys match).
The last layer must give one value per example: the logit z; the cost is the mean
cross-entropy from the logit, PyTorch's ``BCEWithLogitsLoss``.

This module does not import torch: the numbers are the engine's own, and
``tests/engines/autograd/test_convnet.py`` checks that a few SGD steps give PyTorch's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from logicat.core.errors import ParameterError, ShapeError
from logicat.engines.autograd import conv
from logicat.engines.autograd.graphs import cross_entropy_from_logit
from logicat.engines.autograd.tensor import Tensor
from logicat.nn import convnet
from logicat.nn.convnet import ConvNetSpec
from logicat.nn.layers import Layer, logit_layers

#: each layer's options and their defaults (those of its torch.nn twin)
LAYERS: dict[str, dict[str, object]] = {
    "conv": {"stride": 1, "padding": 0, "bias": True},
    "batchnorm": {"eps": 1e-5, "momentum": 0.1, "affine": True},
    "relu": {},
    "tanh": {},
    "maxpool": {"kernel": None, "stride": None, "padding": 0},
    "gap": {},
    "flatten": {},
    "linear": {"bias": True},
    "dropout": {"p": 0.5},
}
_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")

Spec = Sequence[tuple[str, Mapping[str, object]]]


@dataclass
class ConvNetPass:
    """One forward pass: the logits, the cost (when labels were given) and, for the running
    statistics, the input of each batch norm (its ``data`` is refreshed by every static run)."""

    logits: Tensor  # (m,)
    cost: Tensor | None = None  # ()
    batchnorm_inputs: list[Tensor] = field(default_factory=list)


def _layer(i: int, entry) -> tuple[str, dict[str, object]]:
    name, options = entry if isinstance(entry, (tuple, list)) else (entry, {})
    if name not in LAYERS:
        raise ParameterError(f"Layer {i} of the ConvNet must be one of "
                             f"{', '.join(map(repr, LAYERS))}. Got {name!r} instead.")
    unknown = sorted(set(options) - set(LAYERS[name]))
    if unknown:
        allowed = ", ".join(map(repr, LAYERS[name])) or "none"
        raise ParameterError(f"Layer {i} ({name}) takes the options {allowed}. "
                             f"Got {unknown[0]!r} instead.")
    merged = {**LAYERS[name], **options}
    if name == "maxpool" and merged["kernel"] is None:
        raise ParameterError(f"Layer {i} (maxpool) needs its 'kernel' option.")
    return name, merged


def _has_params(name: str, options: Mapping[str, object]) -> bool:
    return name in ("conv", "linear") or (name == "batchnorm" and bool(options["affine"]))


class ConvNet:
    """The cost of a network of ``spec`` (see the module's docstring) as a graph of engine ops."""

    def __init__(self, spec: Spec) -> None:
        self.layers = [_layer(i, entry) for i, entry in enumerate(spec)]
        if not self.layers:
            raise ParameterError("A ConvNet needs at least one layer.")

    def param_names(self) -> list[str]:
        """The keys of ``nn.Sequential(*layers).named_parameters()``: '0.weight', '1.bias', ..."""
        names = []
        for i, (name, options) in enumerate(self.layers):
            if _has_params(name, options):
                names.append(f"{i}.weight")
                if name == "batchnorm" or options["bias"]:
                    names.append(f"{i}.bias")
        return names

    def running_names(self) -> list[str]:
        """What ``running`` holds: '1.running_mean', '1.running_var', ... per batch norm."""
        return [f"{i}.{b}" for i, (name, _) in enumerate(self.layers) if name == "batchnorm"
                for b in _BUFFERS[:2]]

    def forward(
        self,
        X: Tensor | np.ndarray,
        params: Sequence[Tensor | np.ndarray],
        y: Tensor | np.ndarray | None = None,
        *,
        training: bool = True,
        running: Sequence[np.ndarray] | None = None,
        masks: Sequence[Tensor | np.ndarray] = (),
    ) -> ConvNetPass:
        """The graph from the images X (m, C, H, W) to the logits (m,), and to the mean
        cross-entropy J when the labels y (m,) in {0, 1} are given.

        training : batch norms use the batch's statistics (True) or ``running`` (False);
            dropout drops by ``masks`` (one keep-mask per dropout layer, of its input's shape)
            in training, and is the identity in evaluation
        """
        X = X if isinstance(X, Tensor) else Tensor(X, name="X")
        params = [p if isinstance(p, Tensor) else Tensor(p) for p in params]
        names = self.param_names()
        if len(params) != len(names):
            raise ParameterError(f"The ConvNet takes {len(names)} parameters "
                                 f"({', '.join(names)}). Got {len(params)} instead.")
        stat_names = self.running_names()
        if (running is None and not training
                or running is not None and len(running) != len(stat_names)):
            raise ParameterError(
                f"The ConvNet's running statistics are {len(stat_names)} arrays "
                f"({', '.join(stat_names) or 'none'}; needed in evaluation mode). "
                f"Got {0 if running is None else len(running)} instead.")
        n_dropout = sum(name == "dropout" for name, _ in self.layers)
        if masks and len(masks) != n_dropout:
            raise ParameterError(f"The ConvNet has {n_dropout} dropout layers, one keep-mask "
                                 f"each. Got {len(masks)} masks instead.")
        for p, key in zip(params, names, strict=True):
            p.name = p.name or key  # the nodes of the drawn graph carry the state_dict's keys
        taken, stats, dropped = iter(params), iter(running or ()), iter(masks)
        A, batchnorm_inputs = X, []
        for i, (name, options) in enumerate(self.layers):
            if name == "batchnorm":
                batchnorm_inputs.append(A)
            A = self._apply(name, options, A, taken, stats, dropped, training)
            A.name = A.name or f"{name}{i}"
        if A.ndim != 2 or A.shape[1] != 1:
            raise ShapeError(f"The ConvNet's last layer must give one logit per image, (m, 1). "
                             f"It gives {A.shape} instead.")
        z = A.reshape(-1)  # (m,)
        z.name = "z"
        J = None
        if y is not None:
            losses = cross_entropy_from_logit(z, y)
            losses.name = "L"
            J = losses.mean()  # BCEWithLogitsLoss
            J.name = "J"
        return ConvNetPass(z, J, batchnorm_inputs)

    @staticmethod
    def _apply(name, options, A, params, stats, masks, training) -> Tensor:
        """One layer on A, taking its parameters, statistics or mask from the iterators."""
        if name in ("relu", "tanh"):
            return getattr(A, name)()
        if name == "conv":
            weight = next(params)
            bias = next(params) if options["bias"] else None
            return conv.conv2d(A, weight, bias, options["stride"], options["padding"])
        if name == "batchnorm":
            weight, bias = (next(params), next(params)) if options["affine"] else (None, None)
            mean, var = next(stats, None), next(stats, None)
            if training:
                return conv.batch_norm(A, weight, bias, options["eps"])
            return conv.batch_norm_eval(A, mean, var, weight, bias, options["eps"])
        if name == "maxpool":
            return conv.max_pool2d(A, options["kernel"], options["stride"], options["padding"])
        if name == "gap":  # (m, C, 1, 1), as AdaptiveAvgPool2d(1): a "flatten" follows
            return A.mean(axis=(2, 3), keepdims=True)
        if name == "flatten":  # -1: the batch size is free (a static graph's placeholder)
            return A.reshape(-1, int(np.prod(A.shape[1:])))
        if name == "linear":
            weight = next(params)
            bias = next(params) if options["bias"] else None
            if A.ndim != 2 or weight.ndim != 2 or weight.shape[1] != A.shape[1]:
                raise ShapeError(f"A linear layer on inputs {A.shape} needs a weight of shape "
                                 f"(out, {A.shape[-1]}). Got {weight.shape} instead.")
            A = A @ weight.T  # (m, out): PyTorch's weight (out, in) needs no transposing copy
            return A if bias is None else A + bias
        # dropout
        p = float(options["p"])
        if not training or p == 0.0:
            return A
        mask = next(masks, None)
        if mask is None:
            raise ParameterError("A ConvNet with dropout needs a keep-mask per dropout layer "
                                 "in training (masks=[...]), or p = 0.")
        return conv.dropout(A, mask, p)

    def updated_running(self, result: ConvNetPass, running: Sequence[np.ndarray]
                        ) -> list[np.ndarray]:
        """``running`` after the training pass ``result``: PyTorch's momentum update of each
        batch norm's statistics (``conv.updated_running_stats``), in the order of ``running``."""
        momenta = [o["momentum"] for name, o in self.layers if name == "batchnorm"]
        updated: list[np.ndarray] = []
        for k, (x, momentum) in enumerate(zip(result.batchnorm_inputs, momenta, strict=True)):
            updated += conv.updated_running_stats(
                running[2 * k], running[2 * k + 1], x.data, float(momentum))
        return updated

    def cost_and_gradients(
        self,
        X: np.ndarray,
        y: np.ndarray,
        params: Sequence[np.ndarray],
        running: Sequence[np.ndarray] | None = None,
        masks: Sequence[np.ndarray] = (),
    ) -> tuple[float, list[np.ndarray], list[np.ndarray] | None]:
        """One training pass: (J, [dJ/dp for each parameter], the running statistics after it,
        None when ``running`` is None)."""
        leaves = [Tensor(p, requires_grad=True) for p in params]
        result = self.forward(X, leaves, y, running=running, masks=masks)
        result.cost.backward()
        after = None if running is None else self.updated_running(result, running)
        return float(result.cost.data), [p.grad for p in leaves], after


def layers_of(spec: ConvNetSpec, dropout: float = 0.0) -> list[tuple[str, dict]]:
    """The layers of ``ConvNetClassifier``'s network - its one description,
    ``logicat.nn.convnet.layers(spec)`` - in this engine's terms, after its input normalisation:
    its parameters in the order of the PyTorch module's ``parameters()`` are the ones this spec
    takes."""
    return engine_layers(convnet.layers(spec, dropout))


def engine_layers(layers: Sequence[Layer]) -> list[tuple[str, dict]]:
    """A list of the layer vocabulary (``logicat.nn.layers``) as this engine's spec: one entry
    per layer type. The input normalisation (a first ``normalize``) is the caller's, and the
    final ``sigmoid`` the loss's (the spec ends at the logit)."""
    out: list[tuple[str, dict]] = []
    for i, lay in enumerate(logit_layers(layers)):
        o = lay.options
        if lay.type == "normalize":
            if i:
                raise ParameterError("logicat's engine takes the input normalised: a normalize "
                                     "layer must come first.")
            continue
        if lay.type == "conv2d":
            out.append(("conv", {"stride": o["stride"], "padding": o["padding"],
                                 "bias": o["bias"]}))
        elif lay.type == "batchnorm":
            out.append(("batchnorm", {"eps": o["eps"], "momentum": o["momentum"]}))
        elif lay.type == "maxpool":
            out.append(("maxpool", {"kernel": o["kernel"], "stride": o["stride"]}))
        elif lay.type == "gap":  # the engine's gap keeps (m, C, 1, 1), as AdaptiveAvgPool2d(1)
            out += [("gap", {}), ("flatten", {})]
        elif lay.type == "dropout":
            out.append(("dropout", {"p": o["rate"]}))
        elif lay.type == "dense":
            if o["layout"] != "out_in":
                raise ParameterError("logicat's engine takes dense weights laid out as "
                                     "PyTorch's (units, n).")
            out.append(("linear", {"bias": o["bias"]}))
        elif lay.type == "sigmoid":
            raise ParameterError("logicat's ConvNet engine has no sigmoid layer before the "
                                 "logit.")
        else:  # relu, tanh, flatten
            out.append((lay.type, {}))
    return out


def split_state_dict(state: Mapping[str, object]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(parameters, running statistics) of a ``state_dict()``, each in its order, as copied
    arrays (torch's CPU tensors or arrays; torch is not imported here); ``num_batches_tracked``
    is left out (it matters only with momentum None)."""
    params, running = [], []
    for key, value in state.items():
        suffix = key.rsplit(".", 1)[-1]
        if suffix == "num_batches_tracked":
            continue
        array = value.numpy() if hasattr(value, "numpy") else value  # a torch tensor (CPU)
        (running if suffix in _BUFFERS else params).append(np.array(array))  # a copy
    return params, running


def nchw(images: np.ndarray, dtype=np.float64) -> np.ndarray:
    """Images (m, H, W, C) of bytes as the networks' input (m, C, H, W) in [0, 1]."""
    return np.ascontiguousarray(np.asarray(images).transpose(0, 3, 1, 2), dtype=dtype) / 255


#: the tiny network ``logicat graph --example convnet`` draws
EXAMPLE_SPEC: Spec = [("conv", {"padding": 1, "bias": False}), ("batchnorm", {}), ("relu", {}),
                      ("maxpool", {"kernel": 2}), ("gap", {}), ("flatten", {}), ("linear", {})]


def example(images: np.ndarray, y: np.ndarray, width: int = 4, seed: int = 0) -> Tensor:
    """The cost J of the tiny ConvNet ``EXAMPLE_SPEC`` on images (m, H, W, 3) with labels (m,),
    after one forward and one backward pass (each node holds its value and dJ/d(node)).

    conv 3x3 (3 -> width, padding 1, no bias) -> batch norm -> ReLU -> max-pool 2 -> global
    average pool -> flatten -> linear (width -> 1) -> z; J = mean cross-entropy. He-normal conv
    weights and a LeCun-normal linear layer from ``seed``; batch norm starts at gamma 1, beta 0.
    """
    rng = np.random.default_rng(seed)
    X = Tensor(nchw(images), name="X")
    params = [rng.normal(0, np.sqrt(2 / 27), (width, 3, 3, 3)), np.ones(width), np.zeros(width),
              rng.normal(0, np.sqrt(1 / width), (1, width)), np.zeros(1)]
    leaves = [Tensor(p, requires_grad=True) for p in params]
    J = ConvNet(EXAMPLE_SPEC).forward(X, leaves, Tensor(np.asarray(y, X.dtype), name="y")).cost
    J.backward()
    return J
