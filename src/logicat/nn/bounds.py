r"""What a list of layers can do to the numbers and to memory, read from the list before it runs.

Static checks of a model (``logicat.nn.layers``), so that a file's tensors or sizes never end
as a NaN shown as a probability or as an allocation that fails: the reader of model files makes
the first two, what computes checks the memory it needs (``io.model.Model.check_memory``,
``logicat graph``, training):

``check_tensors``   what each layer needs of its tensors beyond finiteness: a BatchNorm's running
                    variance >= 0, a ``normalize``'s standard deviation > 0.
``check_range``     the largest magnitude every intermediate value can reach for inputs in
                    [0, 1] (images / 255), propagated layer by layer, per channel:

    normalize   (bound + |mu|) / sigma
    conv2d      sum over (c, dy, dx) of |W| * bound_c  + |bias|
    dense       |W| bound + |bias|
    batchnorm   |gamma / sqrt(var + eps)| (bound + |mean|) + |beta|
    gap         the sum over the H W pixels before the mean
    relu, maxpool, dropout, flatten: the bound as it is; tanh, sigmoid: 1

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

from logicat.nn.layers import Layer, n_params, shapes, values_per_example


def check_tensors(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray]) -> str | None:
    """The first tensor a layer cannot use, as "the tensor 'x' must be ...", or None."""
    for lay in layers:
        names = lay.tensor_names()
        if lay.type == "batchnorm":
            problem = _below(tensors[names["running_var"]], names["running_var"], 0.0,
                             "a variance: >= 0", strict=False)
        elif lay.type == "normalize":
            problem = _below(tensors[names["std"]], names["std"], 0.0,
                             "a standard deviation: > 0", strict=True)
        else:
            problem = None
        if problem:
            return problem
    return None


def _below(values: np.ndarray, name: str, low: float, what: str, *, strict: bool) -> str | None:
    bad = np.flatnonzero(values <= low if strict else values < low)
    if bad.size == 0:
        return None
    i = int(bad[0])
    return f"the tensor {name!r} must be {what}. Got {float(values.flat[i]):.6g} at index {i}."


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
    it), computed in float64 (an overflow there is infinity)."""
    shape = tuple(input_shape)
    bound = np.ones(shape[0], np.float64)  # per channel (images) or per feature (vectors)
    out = []
    with np.errstate(over="ignore", invalid="ignore"):
        for lay in layers:
            t = {role: np.abs(np.asarray(tensors[name], np.float64))
                 for role, name in lay.tensor_names().items()}
            bound, peak, culprit = _propagate(lay, t, bound, shape)
            out.append((peak, lay.tensor_names().get(culprit, culprit)))
            shape = shapes([lay], shape)[1]
    return out


def _propagate(lay: Layer, t: Mapping[str, np.ndarray], bound: np.ndarray,
               shape: tuple[int, ...]) -> tuple[np.ndarray, float, str]:
    """(the output's bound per channel, the largest intermediate value, the role to blame)."""
    kind = lay.type
    if kind == "normalize":
        out = (bound + t["mean"]) / t["std"]  # |x - mu| <= |x| + |mu|
        return out, float(out.max()), "std"
    if kind == "conv2d":
        out = t["weight"].sum(axis=(2, 3)) @ bound + (t["bias"] if "bias" in t else 0)
        return out, float(out.max()), "weight"
    if kind == "dense":
        W = t["weight"]
        layout = lay["layout"]
        out = W @ bound if layout == "out_in" else (W.T @ bound if layout == "in_out"
                                                     else np.atleast_1d(W @ bound))
        out = out + (t["bias"] if "bias" in t else 0)
        return out, float(out.max()), "weight"
    if kind == "batchnorm":
        inverse = 1 / np.sqrt(np.maximum(t["running_var"], 0) + lay["eps"])
        scale = t["weight"] * inverse
        out = scale * (bound + t["running_mean"]) + t["bias"]
        c = int(np.argmax(np.maximum(out, scale)))
        blame = "weight" if t["weight"][c] >= inverse[c] else "running_var"
        return out, float(max(out.max(), scale.max())), blame
    if kind in ("tanh", "sigmoid"):
        return np.minimum(bound, 1.0), float(bound.max() if kind == "tanh" else 1.0), kind
    if kind == "gap":
        return bound, float(bound.max()) * shape[1] * shape[2], "gap"
    if kind == "flatten":
        per = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        return np.repeat(bound, per), float(bound.max()), "flatten"
    return bound, float(bound.max()), kind  # relu, maxpool, dropout


def forward_bytes(layers: Sequence[Layer], input_shape: tuple[int, ...], dtype: np.dtype,
                  rows: int = 1, *, with_gradients: bool = False) -> int:
    """The bytes a pass of ``rows`` examples through ``layers`` needs at its peak: each layer's
    input and output at once (and a convolution's im2col patches, over at most 32 images), or,
    ``with_gradients``, every layer's output and its gradient kept together."""
    itemsize = np.dtype(dtype).itemsize
    shape = tuple(int(s) for s in input_shape)
    size = int(np.prod(shape))
    peak, kept = 0, size
    for lay in layers:
        out_shape = shapes([lay], shape)[1]
        out = int(np.prod(out_shape))
        patches = 0
        if lay.type == "conv2d":
            k = lay["kernel"]
            patches = int(np.prod(out_shape[1:])) * shape[0] * k * k * min(rows, 32)
        padded = 0
        if lay.type == "conv2d":
            padded = shape[0] * (shape[1] + 2 * lay["padding"]) * (shape[2] + 2 * lay["padding"])
        peak = max(peak, rows * (size + padded + 2 * out) + patches)
        kept += out
        shape, size = out_shape, out
    if with_gradients:
        peak = max(peak, 2 * rows * kept)
    return itemsize * peak


def rows_per_pass(layers: Sequence[Layer], input_shape: tuple[int, ...], dtype: np.dtype,
                  budget: int = 256 << 20, *, with_gradients: bool = False) -> int:
    """How many examples one pass takes so that it needs at most ``budget`` bytes (at least 1;
    the memory of one is checked before computing, ``io.model.Model.check_memory``)."""
    one = forward_bytes(layers, input_shape, dtype, 1, with_gradients=with_gradients)
    return max(1, budget // max(one, 1))


def graph_bytes(layers: Sequence[Layer], input_shape: tuple[int, ...], dtype: np.dtype,
                rows: int) -> int:
    """The bytes a define-by-run graph of ``layers`` on ``rows`` examples holds once its
    backward pass has run (``logicat graph --model``, logicat's own autograd): every layer's
    output and its gradient, what each op keeps for its backward rule (a convolution's im2col
    matrix, a batch norm's normalised input, a max-pool's argmax), the parameters and their
    gradients, and, at the peak of a convolution's backward pass, its im2col matrix's gradient
    and the padded input's."""
    shape = tuple(int(s) for s in input_shape)
    kept, peak = 2 * int(np.prod(shape)), 0  # per example: the input and its gradient
    for lay in layers:
        out_shape = shapes([lay], shape)[1]
        out = int(np.prod(out_shape))
        kept += 2 * out
        if lay.type == "conv2d":
            k, pad = lay["kernel"], lay["padding"]
            patches = int(np.prod(out_shape[1:])) * shape[0] * k * k
            kept += patches
            peak = max(peak, patches + shape[0] * (shape[1] + 2 * pad) * (shape[2] + 2 * pad))
        elif lay.type in ("batchnorm", "maxpool"):
            kept += out
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
