r"""Any list of layers as a graph of the engine's ops: the network's cost, fed tensors by name.

The engine has no layer vocabulary of its own: it reads the list every engine reads
(``logicat.nn.layers``) and asks each layer for its expression. That expression lives with the
layer's type (``logicat.nn.layer_types``), beside its NumPy forward pass and its hand-derived
backward rule: ``Layer.autograd(A, tensors, ops, run)`` turns the engine's Tensor ``A`` into
the layer's output with the ops of ``conv`` (conv2d, max_pool2d, batch_norm, dropout) and the
Tensor's own (+, @, relu, mean, ...). This module only loops:

    A = X                                    # (m, C, H, W) images in [0, 1], or (m, n)
    for each layer up to the logit:          # a final sigmoid is the loss's
        A = layer.autograd(A, tensors, conv, run)
    z = A (m,);  J = mean cross-entropy(z, y)      # PyTorch's BCEWithLogitsLoss

``tensors`` maps each tensor's name in model files (``features.0.weight``,
``net.4.body.0.running_var``; PyTorch's ``state_dict`` keys) to its value. The trained ones
(the weights and biases) become leaves of the graph under their names, so a drawn graph shows
``conv2d(X, features.0.weight, ...)``; the statistics (a ``normalize``'s mean and std, a batch
norm's running mean and variance) stay constants. Each layer's output node is named after the
layer (its name, or its type and index: ``relu2``).

``run`` is the ``Pass`` being built: whether it trains (batch norms normalise with the batch's
statistics, and record their input for the running statistics' update; dropout drops by the
given keep-masks, one per dropout layer of rate > 0, in the order they run) or evaluates (batch
norms use their running statistics, dropout is the identity). ``LayerGraph.cost_and_gradients``
is one training pass: the cost, its gradient by every trained tensor, and the running statistics
after it (PyTorch's momentum update, ``conv.updated_running_stats``).

This module does not import torch: the numbers are the engine's own. ``tests/engines/
autograd/test_convnet.py`` checks a few SGD steps against PyTorch's and ``test_layers.py`` the
gradients against NumPy's hand-derived backward pass (``logicat.nn.backward``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from logicat.core.errors import ParameterError, ShapeError
from logicat.engines.autograd import conv
from logicat.engines.autograd.graphs import cross_entropy_from_logit
from logicat.engines.autograd.tensor import Tensor
from logicat.nn.layer import TRAINED_ROLES, where
from logicat.nn.layers import Layer, layer, logit_layers, shapes, walk


@dataclass
class Pass:
    """One forward pass through the layers: what the layers' ``autograd`` methods read
    (``training``, ``mask``, ``statistic``) and record (``batchnorm_inputs``), then the logits and
    the cost (when labels were given). Each batch norm input's ``data`` is refreshed by every run
    of a static graph, so ``LayerGraph.updated_running`` also follows a replayed pass."""

    training: bool
    masks: Sequence[Tensor | np.ndarray] = ()
    logits: Tensor | None = None  # (m,)
    cost: Tensor | None = None  # ()
    batchnorm_inputs: list[tuple[Layer, Tensor]] = field(default_factory=list)
    masks_taken: int = 0

    def mask(self, layer: Layer, A: Tensor) -> Tensor | np.ndarray:
        """The keep-mask (1 keep, 0 drop; A's shape) of the next dropout layer in training."""
        if self.masks_taken == len(self.masks):
            raise ParameterError(f"{layer.name or 'a dropout layer'} drops in training: give a "
                                 "keep-mask per dropout layer (masks=[...]), or rate 0.")
        self.masks_taken += 1
        return self.masks[self.masks_taken - 1]

    @staticmethod
    def statistic(value: Any) -> np.ndarray:
        """A running mean or variance as ``conv.batch_norm_eval`` takes it: an array."""
        return np.asarray(value.data if isinstance(value, Tensor) else value)


class LayerGraph:
    """The cost of the network ``layers`` (a list of ``logicat.nn.layers``, up to its logit: a
    final sigmoid is dropped) on inputs of ``input_shape`` - one example's, (C, H, W) images or
    (n,) vectors - as a graph of the engine's ops. Every layer that holds tensors must be named
    (``nn.layers.resolve`` names them); the last must give one logit per example."""

    def __init__(self, layers: Sequence[Layer], input_shape: tuple[int, ...]) -> None:
        self.layers = logit_layers(layers)
        if not self.layers:
            raise ParameterError("A layer graph needs at least one layer.")
        for i, lay in enumerate(self.layers):
            if any(d.roles() and d.name is None and d.tensors is None for d in lay.walk()):
                raise ParameterError(f"{where(i, lay)} holds tensors but has no name "
                                     "(logicat.nn.layers.resolve names them).")
        self.input_shape = tuple(int(s) for s in input_shape)
        #: {tensor name: shape}, in PyTorch's ``state_dict`` order
        self.shapes, out = shapes(self.layers, self.input_shape)
        if out != (1,):
            raise ShapeError(f"The layers must end in one logit per example, (1,). They give "
                             f"{out} instead.")

    def _roles(self) -> list[tuple[str, str]]:
        return [(role, name) for lay in walk(self.layers)
                for role, name in lay.tensor_names().items()]

    def trained_names(self) -> list[str]:
        """The trained tensors, in the order of the torch module's ``named_parameters()``."""
        return [name for role, name in self._roles() if role in TRAINED_ROLES]

    def statistic_names(self) -> list[str]:
        """The other tensors (input statistics, running statistics): the module's buffers."""
        return [name for role, name in self._roles() if role not in TRAINED_ROLES]

    def graph_tensors(self, tensors: Mapping[str, Any]) -> dict[str, Tensor | np.ndarray]:
        """The layers' tensors as the graph takes them: each trained one a Tensor (a given
        Tensor as it is, an array as a constant leaf named after it), each statistic an array;
        a missing tensor or a wrong shape is a one-line error."""
        out: dict[str, Tensor | np.ndarray] = {}
        trained = set(self.trained_names())
        for name, shape in self.shapes.items():
            if name not in tensors:
                raise ParameterError(f"The layers need the tensor {name!r} of shape {shape}. "
                                     "It is missing.")
            value = tensors[name]
            given = tuple(value.shape if isinstance(value, Tensor) else np.shape(value))
            if given != shape:
                raise ShapeError(f"The tensor {name!r} must have shape {shape} for these "
                                 f"layers. Got {given} instead.")
            if name in trained:
                out[name] = value if isinstance(value, Tensor) else Tensor(value, name=name)
                out[name].name = out[name].name or name  # drawn graphs carry the file's names
            else:
                out[name] = Pass.statistic(value)
        return out

    def forward(
        self,
        X: Tensor | np.ndarray,
        tensors: Mapping[str, Any],
        y: Tensor | np.ndarray | None = None,
        *,
        training: bool = True,
        masks: Sequence[Tensor | np.ndarray] = (),
    ) -> Pass:
        """The graph from the inputs X ((m, C, H, W) images in [0, 1], or (m, n)) to the logits
        (m,), and to the mean cross-entropy J when the labels y (m,) in {0, 1} are given.

        training : batch norms use the batch's statistics (True) or their running ones (False);
            dropout drops by ``masks`` (one keep-mask per dropout layer of rate > 0, of its
            input's shape, in the order the layers run) in training, and is the identity in
            evaluation
        """
        X = X if isinstance(X, Tensor) else Tensor(X, name="X")
        if tuple(X.shape[1:]) != self.input_shape:
            raise ShapeError(f"The layers take inputs of shape (m, *{self.input_shape}). Got "
                             f"{X.shape} instead.")
        dropping = sum(lay.type == "dropout" and lay["rate"] > 0 for lay in walk(self.layers))
        if training and masks and len(masks) != dropping:
            raise ParameterError(f"The layers have {dropping} dropout layers that drop, one "
                                 f"keep-mask each. Got {len(masks)} masks instead.")
        given = self.graph_tensors(tensors)
        run = Pass(training, masks)
        A = X
        for i, lay in enumerate(self.layers):
            A = lay.autograd(A, given, conv, run)
            A.name = A.name or lay.name or f"{lay.type}{i}"
        z = A.reshape(-1)  # (m,)
        z.name = "z"
        run.logits = z
        if y is not None:
            losses = cross_entropy_from_logit(z, y)
            losses.name = "L"
            run.cost = losses.mean()  # BCEWithLogitsLoss
            run.cost.name = "J"
        return run

    @staticmethod
    def updated_running(result: Pass, tensors: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """{name: value} of each batch norm's running statistics after the training pass
        ``result``, from their values in ``tensors``: PyTorch's momentum update
        (``conv.updated_running_stats``) with the batch each one normalised."""
        updated: dict[str, np.ndarray] = {}
        for lay, x in result.batchnorm_inputs:
            names = lay.tensor_names()
            mean, var = names["running_mean"], names["running_var"]
            updated[mean], updated[var] = conv.updated_running_stats(
                Pass.statistic(tensors[mean]), Pass.statistic(tensors[var]), x.data,
                float(lay["momentum"]))
        return updated

    def cost_and_gradients(
        self,
        X: np.ndarray,
        y: np.ndarray,
        tensors: Mapping[str, np.ndarray],
        masks: Sequence[np.ndarray] = (),
    ) -> tuple[float, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """One training pass: (J, {name: dJ/d(tensor)} for each trained tensor, {name: value}
        of the running statistics after it)."""
        leaves = {name: Tensor(tensors[name], requires_grad=True, name=name)
                  for name in self.trained_names()}
        result = self.forward(X, {**tensors, **leaves}, y, masks=masks)
        result.cost.backward()
        return (float(result.cost.data), {name: t.grad for name, t in leaves.items()},
                self.updated_running(result, tensors))


def split_state_dict(state: Mapping[str, Any]) -> tuple[dict[str, np.ndarray],
                                                          dict[str, np.ndarray]]:
    """({name: trained tensor}, {name: statistic}) of a ``state_dict()``, each in its order, as
    copied arrays (torch's CPU tensors or arrays; torch is not imported here); the weights and
    biases are the trained ones, ``num_batches_tracked`` is left out (it matters only with
    momentum None)."""
    trained, statistics = {}, {}
    for key, value in state.items():
        role = key.rsplit(".", 1)[-1]
        if role == "num_batches_tracked":
            continue
        array = value.numpy() if hasattr(value, "numpy") else value  # a torch tensor (CPU)
        (trained if role in TRAINED_ROLES else statistics)[key] = np.array(array)  # a copy
    return trained, statistics


def nchw(images: np.ndarray, dtype=np.float64) -> np.ndarray:
    """Images (m, H, W, C) of bytes as the networks' input (m, C, H, W) in [0, 1]."""
    return np.ascontiguousarray(np.asarray(images).transpose(0, 3, 1, 2), dtype=dtype) / 255


def example_layers(width: int = 4) -> list[Layer]:
    """The tiny network ``logicat graph --example convnet`` draws: conv 3x3 (3 -> width,
    padding 1, no bias) -> batch norm -> ReLU -> max-pool 2 -> global average pool -> dense
    (width -> 1) -> z. Each layer is named as its node in the picture."""
    return [layer("conv2d", "conv", filters=width), layer("batchnorm", "bn"),
            layer("relu", "relu"), layer("maxpool", "pool"), layer("gap", "gap"),
            layer("dense", "linear", units=1)]


def example(images: np.ndarray, y: np.ndarray, width: int = 4, seed: int = 0) -> Tensor:
    """The cost J of the tiny network ``example_layers(width)`` on images (m, H, W, 3) with
    labels (m,), after one forward and one backward pass (each node holds its value and
    dJ/d(node)). He-normal conv weights and a LeCun-normal dense layer from ``seed``; batch norm
    starts at gamma 1, beta 0."""
    rng = np.random.default_rng(seed)
    X = Tensor(nchw(images), name="X")
    net = LayerGraph(example_layers(width), X.shape[1:])
    values = {"conv.weight": rng.normal(0, np.sqrt(2 / 27), (width, 3, 3, 3)),
              "bn.weight": np.ones(width), "bn.bias": np.zeros(width),
              "bn.running_mean": np.zeros(width), "bn.running_var": np.ones(width),
              "linear.weight": rng.normal(0, np.sqrt(1 / width), (1, width)),
              "linear.bias": np.zeros(1)}
    tensors = {name: Tensor(values.pop(name), requires_grad=True, name=name)
               for name in net.trained_names()} | values  # the rest: running statistics
    J = net.forward(X, tensors, Tensor(np.asarray(y, X.dtype), name="y")).cost
    J.backward()
    return J
