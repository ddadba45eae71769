r"""What a list of layers can do to the numbers and to memory, read from the list before it runs.

Static checks of a model (``logicat.nn.layers``), so that a file's tensors or sizes never end
as a NaN shown as a probability or as an allocation that fails: the reader of model files makes
the first two, what computes checks the memory it needs (``logicat.model.Model.check_memory``,
``logicat graph``, training):

Each layer type holds its own rule (``logicat.nn.layer_types``); this module runs the list.

``check_tensors``   what each layer needs of its tensors beyond finiteness: a BatchNorm's running
                    variance >= 0, a ``normalize``'s standard deviation > 0.
``check_range``     the largest magnitude every intermediate value can reach for inputs in
                    [0, 1] (images / 255), propagated layer by layer, per channel:

    normalize   (bound + |mu|) / sigma
    conv2d      sum over (c, dy, dx) of |W| * bound_c  + |bias|
    dense       |W| bound + |bias|
    batchnorm   |gamma / sqrt(var + eps)| (bound + |mean|) + |beta|
    gap         the sum over the H W pixels before the mean
    relu, leaky_relu, maxpool, avgpool, dropout, flatten: the bound as it is; tanh: at most 1;
                sigmoid: sigma(bound) (1/2 for a bound of 0)
    residual    the body's bound plus the shortcut's

                    If it stays within the dtype's range (with a factor 2 to spare), no input
                    in [0, 1] can overflow in any engine; if not, the tensor that lets it grow
                    is named.
``forward_bytes``   the memory one pass of a batch needs: each layer's input and output, and a
                    convolution's im2col patches; ``with_gradients`` also keeps every layer's
                    output and its gradient (Grad-CAM, the autograd graph).
``graph_bytes``     the memory logicat's own autograd graph of a batch holds after its backward
                    pass (every value, gradient and what each op keeps for its backward rule).
``training_bytes``  the memory a training step needs: the parameters, their gradients and two
                    moments, and every layer's output with its gradient for a batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from logicat.nn.layer import prod, propagate, where
from logicat.nn.layers import Layer, n_params, values_per_example


def check_tensors(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray]) -> str | None:
    """The first tensor a layer cannot use, as "the tensor 'x' must be ...", or None."""
    return next((p for lay in layers if (p := lay.check_values(tensors))), None)


def check_range(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray],
                input_shape: tuple[int, ...], dtype: np.dtype) -> str | None:
    """None if no intermediate value of ``layers`` on inputs in [0, 1] of ``input_shape``
    ((C, H, W) images or (n,) vectors) can exceed half of ``dtype``'s largest value; else which
    tensor lets it, in one sentence."""
    limit = float(np.finfo(dtype).max) / 2
    for i, (peak, name) in enumerate(peaks(layers, tensors, input_shape)):
        if not np.isfinite(peak) or peak > limit:
            reach = f"{peak:.3g}" if np.isfinite(peak) else "beyond any float"
            return (f"the tensor {name!r} lets layer {i} ({layers[i].type}) reach {reach}, more "
                    f"than {np.dtype(dtype).name} holds ({limit * 2:.3g}): its predictions "
                    "would overflow to infinity or NaN.")
    return None


def peaks(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray],
          input_shape: tuple[int, ...]) -> list[tuple[float, str]]:
    """For each layer: (a bound on the magnitude of every value it computes - its output and
    what it sums on the way - for inputs in [0, 1]; the tensor, or the layer type, that sets
    it), computed in float64 (an overflow there is infinity). Each layer type bounds its own
    (``Layer.peak``)."""
    absolute = {name: np.abs(np.asarray(value, np.float64)) for name, value in tensors.items()}
    bound = np.ones(tuple(input_shape)[0], np.float64)  # per channel (images) or feature
    with np.errstate(over="ignore", invalid="ignore"):
        return propagate(layers, absolute, bound, tuple(input_shape))[1]


def forward_bytes(layers: Sequence[Layer], input_shape: tuple[int, ...], dtype: np.dtype,
                  rows: int = 1, *, with_gradients: bool = False) -> int:
    """The bytes a pass of ``rows`` examples through ``layers`` needs at its peak: each layer's
    input and output at once (and what it works with: a convolution's im2col patches, over at
    most 32 images, a residual block's inner outputs), or, ``with_gradients``, every layer's
    output and its gradient kept together."""
    shape = tuple(int(s) for s in input_shape)
    size = prod(shape)
    peak, kept = 0, size
    for i, lay in enumerate(layers):
        out_shape = lay.output_shape(shape, where(i, lay))
        out = prod(out_shape)
        peak = max(peak, rows * (size + 2 * out) + lay.work_values(shape, rows))
        kept += out + lay.inner_values(shape)
        shape, size = out_shape, out
    if with_gradients:
        peak = max(peak, 2 * rows * kept)
    return np.dtype(dtype).itemsize * peak


def rows_per_pass(layers: Sequence[Layer], input_shape: tuple[int, ...], dtype: np.dtype,
                  budget: int = 256 << 20, *, with_gradients: bool = False) -> int:
    """How many examples one pass takes so that it needs at most ``budget`` bytes (at least 1;
    the memory of one is checked before computing, ``logicat.model.Model.check_memory``)."""
    one = forward_bytes(layers, input_shape, dtype, 1, with_gradients=with_gradients)
    return max(1, budget // max(one, 1))


def graph_bytes(layers: Sequence[Layer], input_shape: tuple[int, ...], dtype: np.dtype,
                rows: int) -> int:
    """The bytes a define-by-run graph of ``layers`` on ``rows`` examples holds once its
    backward pass has run (``logicat graph --model``, logicat's own autograd): every layer's
    output and its gradient, what each op keeps for its backward rule (a convolution's im2col
    matrix, a batch norm's normalised input, a max-pool's argmax: ``Layer.kept_values``), the
    parameters and their gradients, and, at the peak of a convolution's backward pass, its
    im2col matrix's gradient and the padded input's."""
    shape = tuple(int(s) for s in input_shape)
    kept, peak = 2 * prod(shape), 0  # per example: the input and its gradient
    for i, lay in enumerate(layers):
        out_shape = lay.output_shape(shape, where(i, lay))
        kept += 2 * prod(out_shape) + lay.kept_values(shape)
        peak = max(peak, lay.work_values(shape, 1))
        shape = out_shape
    return np.dtype(dtype).itemsize * (rows * (kept + peak)
                                       + 2 * n_params(layers, input_shape))


def training_bytes(layers: Sequence[Layer], input_shape: tuple[int, ...], dtype: np.dtype,
                   rows: int) -> int:
    """The bytes training ``layers`` needs, for batches of ``rows`` examples: the parameters,
    their gradients and two moments (Adam's, AdamW's; the other rules keep fewer), and each
    step's layer outputs with their gradients, twice over (BatchNorm and the activations keep
    what their backward pass needs)."""
    return np.dtype(dtype).itemsize * (4 * n_params(layers, input_shape)
                                       + 3 * rows * values_per_example(layers, input_shape))
