"""The three families of models, each a function from its hyperparameters to a list of layers
(``logicat.nn.layers``) - the one description of each architecture.

- logistic regression: ``[dense(1), sigmoid]``, tensors ``coef`` (n,) and ``intercept`` (1,);
- the course's networks: ``[dense(n_1), g, ..., dense(1), sigmoid]``, tensors ``coefs.l``
  (n_{l-1}, n_l) and ``intercepts.l``, the output unit's ``coefs.L`` (n,) and ``intercepts.L``
  (examples are rows: z = x W + b);
- the ConvNet (``logicat.nn.convnet.ConvNetSpec``): ``[normalize] + ([conv2d 3x3, batchnorm, relu]
  x convs_per_block + [maxpool 2]) per width + [gap | flatten] + [dropout, dense(hidden), relu]
  + [dropout, dense(1), sigmoid]``, its tensors named as PyTorch's ``state_dict`` of the
  module that trains it (``features.<i>.weight``, ``head.<j>.bias``, ``input.mean``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

from logicat.nn.layers import Layer, layer

#: what the ConvNet puts between its blocks and its head
HEADS = ("gap", "flatten")


def logistic_layers() -> list[Layer]:
    """z = x w + b, p = sigma(z)."""
    return dense_layers(())


def dense_layers(hidden: Sequence[int] = (), activation: str = "relu") -> list[Layer]:
    """The course's networks: hidden dense layers with ``activation``, then the output unit;
    no hidden layer is logistic regression."""
    if not hidden:
        return [layer("dense", tensors={"weight": "coef", "bias": "intercept"}, units=1,
                      layout="vector"), layer("sigmoid")]
    layers: list[Layer] = []
    for i, units in enumerate(hidden):
        layers += [layer("dense", tensors={"weight": f"coefs.{i}", "bias": f"intercepts.{i}"},
                         units=int(units), layout="in_out"), layer(activation)]
    last = len(hidden)
    return layers + [layer("dense", tensors={"weight": f"coefs.{last}",
                                             "bias": f"intercepts.{last}"},
                           units=1, layout="vector"), layer("sigmoid")]


def convnet_layers(spec, dropout: float = 0.0) -> list[Layer]:
    """The layers of the ConvNet ``spec`` (a ``logicat.nn.convnet.ConvNetSpec``)."""
    layers = [layer("normalize", "input")]
    index = 0  # the module's index in PyTorch's ``features`` Sequential
    for width in spec.widths:
        for _ in range(spec.convs_per_block):
            layers += [layer("conv2d", f"features.{index}", filters=int(width)),
                       layer("batchnorm", f"features.{index + 1}"),
                       layer("relu", f"features.{index + 2}")]
            index += 3
        layers.append(layer("maxpool", f"features.{index}"))
        index += 1
    layers.append(layer("gap") if spec.head == "gap" else layer("flatten"))
    j = 0  # the module's index in the ``head`` Sequential
    for units in ([spec.hidden] if spec.hidden else []):
        layers += [layer("dropout", f"head.{j}", rate=float(dropout)),
                   layer("dense", f"head.{j + 1}", units=int(units)),
                   layer("relu", f"head.{j + 2}")]
        j += 3
    return layers + [layer("dropout", f"head.{j}", rate=float(dropout)),
                     layer("dense", f"head.{j + 1}", units=1), layer("sigmoid")]


def standardized(layers: Sequence[Layer]) -> list[Layer]:
    """A dense network trained on standardised features: a ``normalize`` of each feature
    (tensors ``feature_mean``, ``feature_scale``, (n,)) before its layers."""
    return [layer("normalize", tensors={"mean": "feature_mean", "std": "feature_scale"}),
            *layers]


def family_layers(convnet=None, hidden: Sequence[int] = (), activation: str = "relu",
                  standardize: bool = False) -> list[Layer]:
    """The list of layers a family's description gives: the ConvNet ``convnet`` (a
    ``ConvNetSpec``), or the dense network of ``hidden`` layers (logistic regression without),
    on standardised features with ``standardize``. ``Model.layers`` and the reader of model
    files both come here."""
    if convnet is not None:  # the ConvNet's, or a network of the user's own layers
        return convnet.layers()
    layers = dense_layers(hidden, activation)
    return standardized(layers) if standardize else layers
