"""The three families of models, each a function from its hyperparameters to a list of layers
(``logicat.nn.layers``) - the one description of each architecture.

- logistic regression: ``[dense(1), sigmoid]``, tensors ``coef`` (n,) and ``intercept`` (1,);
- the course's networks: ``[dense(n_1), g, ..., dense(1), sigmoid]``, tensors ``coefs.l``
  (n_{l-1}, n_l) and ``intercepts.l``, the output unit's ``coefs.L`` (n,) and ``intercepts.L``
  (examples are rows: z = x W + b);
- the ConvNet (``logicat.nn.convnet.ConvNetSpec``): ``[normalize] + ([conv2d 3x3, batchnorm, relu]
  x convs_per_block + [maxpool 2]) per width + [gap | flatten] + [dropout, dense(hidden), relu]
  + [dropout, dense(1), sigmoid]``, its tensors named as PyTorch's ``state_dict`` of the
  module that trains it (``features.<i>.weight``, ``head.<j>.bias``, ``input.mean``, ...);
- small residual networks, named presets of ``NetworkClassifier`` (``resnet_layers``,
  ``PRESETS``: "resnet8", "resnet10", "resnet14").
"""

from __future__ import annotations

from collections.abc import Sequence

from logicat.core.errors import ParameterError
from logicat.nn.layer_types import Residual
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


def resnet_layers(blocks: int = 1, widths: Sequence[int] = (16, 32, 64)) -> list[Layer]:
    """A small residual network for small images, in the way of He et al.'s CIFAR networks
    (2016): a 3x3 stem of ``widths[0]`` channels and a 2x2 max-pool (64x64 images to 32x32),
    then one stage per width of ``blocks`` residual blocks of two 3x3 convolutions with batch
    norm (``conv, bn, relu, conv, bn``, the sum, relu); each stage after the first halves the
    side with its first convolution's stride 2 and widens, its shortcut an average pool and a
    1x1 convolution with its batch norm (the "ResNet-D" shortcut, Bag of Tricks, He et al.
    2019: it sees every pixel, and keeps the network off PyTorch's strided 1x1 convolutions);
    then the mean of each channel and one logit. Its depth - weighted layers - is
    2 + 2 blocks len(widths). The list is unnamed: ``nn.layers.resolve`` names it."""
    out: list[Layer] = [layer("conv2d", filters=int(widths[0])), layer("batchnorm"),
                        layer("relu"), layer("maxpool")]
    channels = int(widths[0])
    for stage, width in enumerate(int(w) for w in widths):
        for b in range(blocks):
            stride = 2 if stage and not b else 1
            body = [layer("conv2d", filters=width, stride=stride), layer("batchnorm"),
                    layer("relu"), layer("conv2d", filters=width), layer("batchnorm")]
            pointwise = [layer("conv2d", filters=width, kernel=1, padding=0), layer("batchnorm")]
            shortcut = ([layer("avgpool", kernel=2), *pointwise] if stride == 2
                        else pointwise if width != channels else [])
            out += [Residual(body, shortcut), layer("relu")]
            channels = width
    return out + [layer("gap"), layer("dense", units=1)]


#: the named residual networks ``NetworkClassifier(layers="resnet8")`` and ``logicat train
#: --layers resnet8`` train: name -> (blocks per stage, widths)
PRESETS = {"resnet8": (1, (16, 32, 64)), "resnet10": (1, (16, 32, 64, 128)),
           "resnet14": (2, (16, 32, 64))}


def preset(name: str) -> list[Layer]:
    """The layers of the preset ``name`` (a one-line ``ParameterError`` for another name)."""
    if name not in PRESETS:
        raise ParameterError(f"The 'layers' parameter names a preset: one of "
                             f"{', '.join(PRESETS)}. Got {name!r:.80} instead.")
    blocks, widths = PRESETS[name]
    return resnet_layers(blocks, widths)
