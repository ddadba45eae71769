"""What a model multiplies the image by, as images: logistic regression's w (its positive and
negative parts and their sum over R, G, B) and a network's first-layer units.

    weights_figure(model.pixel_weights())   w as a 64x64 RGB image, + and - parts
    units_figure(W1)                        each hidden unit's weights as an RGB image
    model_weights_figure(model)             the one of the two that fits a Model
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from logicat.core.errors import ShapeError
from logicat.nn.layers import first_weighted
from logicat.viz.canvas import new_figure


def weights_images(coef: ArrayLike, image_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """The weights w as two RGB images: where they vote "positive" and where "negative".

    coef : array of shape (image_size * image_size * 3,), in the pixel order of
        ``logicat.data.features.unroll`` (row, column, channel).

    Returns
    -------
    positive, negative : float arrays of shape (image_size, image_size, 3) in [0, 1]:
        max(w, 0) / max|w| and max(-w, 0) / max|w|, so positive - negative = w / max|w|.
    """
    w = np.asarray(coef, dtype=np.float64)
    expected = image_size * image_size * 3
    if w.ndim != 1 or w.shape[0] != expected:
        raise ShapeError(
            f"coef must have shape ({expected},) for {image_size}x{image_size} RGB images. "
            f"Got shape {w.shape} instead."
        )
    scale = float(np.max(np.abs(w))) or 1.0
    w = w.reshape(image_size, image_size, 3) / scale
    return np.maximum(w, 0.0), np.maximum(-w, 0.0)


def weights_figure(coef: ArrayLike, image_size: int = 64,
                   class_names: Sequence[str] = ("negative", "positive"),
                   narrow: bool = False) -> Any:
    """w as images: its positive part, its negative part (each scaled by max|w|) and the sum
    over the three channels on a diverging colour scale; side by side, or one above the other
    (``narrow``: for a phone's width)."""
    positive, negative = weights_images(coef, image_size)
    total = (positive - negative).sum(axis=2)  # (s, s) per-pixel vote, in units of max|w|
    fig = new_figure(4.4, 11.0) if narrow else new_figure(11.0, 4.0)
    axes = fig.subplots(3, 1) if narrow else fig.subplots(1, 3)
    axes[0].imshow(positive, interpolation="none")
    axes[0].set_title(f"w > 0: pushes towards {class_names[1]}")
    axes[1].imshow(negative, interpolation="none")
    axes[1].set_title(f"w < 0: pushes towards {class_names[0]}")
    bound = float(np.max(np.abs(total))) or 1.0
    shown = axes[2].imshow(total, cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="none")
    axes[2].set_title("sum over R, G, B (red: +)")
    fig.colorbar(shown, ax=axes[2], shrink=0.8,
                 label="the pixel's weight: sum of w over R, G, B\n(in units of max |w|)")
    for ax, gid in zip(axes, ("weights-positive", "weights-negative", "weights-sum"), strict=True):
        ax.set_gid(gid)  # the SVG id of each panel
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def units_figure(W: ArrayLike, image_size: int = 64, columns: int = 10) -> Any:
    """A network's first layer as images: each hidden unit's weights W[:, j] (the column it
    multiplies the image by), folded back to the size x size x 3 image they multiply, as
    0.5 + 0.5 w / max|w| per unit: grey where the weight is 0, brighter in a channel where the
    unit's input grows with that channel's pixel, darker where it shrinks.

    W : array of shape (size * size * 3, n_1).
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != image_size * image_size * 3:
        raise ShapeError(f"W must have shape ({image_size * image_size * 3}, n_1). Got shape "
                         f"{W.shape} instead.")
    units = W.shape[1]
    patches = W.T.reshape(units, image_size, image_size, 3)  # each the image it multiplies
    fig = _patch_grid(patches, columns, (1.6, 1.75), "unit", titled=True)
    fig.suptitle(f"First layer: the weights of its {units} units as RGB images "
                 f"(grey: 0; each unit scaled by its own max |w|{_drawn(units)})")
    return fig


def model_weights_figure(model: Any, narrow: bool = False) -> Any:
    """The weights of a ``logicat.model.Model`` as the image they multiply: ``weights_figure``
    of logistic regression's pixel weights (per pixel / 255, also for a model trained with
    standardisation), ``units_figure`` of a network's first layer, ``filters_figure`` of a
    ConvNet's first convolution; at its image size, with its class names. ``logicat plot
    weights``, the report and the web page all draw this picture; an ensemble's is its first
    member's, and its title says so. ``narrow``: drawn for a phone's width (fewer columns)."""
    first = first_weighted(model.layers)
    if first.type == "conv2d":
        fig = filters_figure(model.tensors[first.tensor_names()["weight"]],
                             columns=6 if narrow else 16)
    else:
        size = int((model.preprocessing or {}).get("image_size", 64))
        weights = model.pixel_weights()
        fig = (units_figure(weights, size, columns=3 if narrow else 10) if weights.ndim == 2
               else weights_figure(weights, size, model.class_names, narrow=narrow))
    if len(model.members) > 1:
        note = f"member 1 of {len(model.members)}: each member has its own"
        title = fig.get_suptitle()
        fig.suptitle(f"{title}\n({note})" if title else note.capitalize(), fontsize=9)
    return fig


def filters_figure(W: ArrayLike, columns: int = 16) -> Any:
    """A ConvNet's first convolution: each 3x3 filter over R, G, B as a tiny RGB image,
    0.5 + 0.5 w / max|w| per filter (grey: 0), the pattern it answers most to.

    W : (C_out, 3, 3, 3), PyTorch's layout (out, in, height, width).
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 4 or W.shape[1] != 3:
        raise ShapeError(f"W must have shape (C_out, 3, k, k). Got shape {W.shape} instead.")
    n = W.shape[0]
    fig = _patch_grid(W.transpose(0, 2, 3, 1), columns, (0.8, 0.9), "filter")  # (n, k, k, 3)
    title = f"First convolution: its {n} filters (3x3 over R, G, B; grey: 0{_drawn(n)})"
    width = fig.get_figwidth() * 72 / (9 * 0.6)  # characters of 9 pt a line holds
    fig.suptitle(textwrap.fill(title, max(20, int(width))), fontsize=9)
    return fig


#: the most panels a picture of units or filters draws (a file may declare thousands)
MAX_PANELS = 128


def _drawn(n: int) -> str:
    """The caption's note of how many of ``n`` panels were drawn, when not all were."""
    return f"; the first {MAX_PANELS} of {n} drawn" if n > MAX_PANELS else ""


def _patch_grid(patches: np.ndarray, columns: int, cell: tuple[float, float], name: str,
                titled: bool = False) -> Any:
    """A grid of RGB patches (n, h, w, 3), each shown as 0.5 + 0.5 p / max|p| (grey: 0, each
    scaled by its own largest weight), panel j's SVG id "{name}-{j+1}"; ``cell`` is a panel's
    (width, height) in inches; at most the first ``MAX_PANELS``."""
    n = min(len(patches), MAX_PANELS)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    fig = new_figure(cell[0] * columns + 0.3, cell[1] * rows + 0.6)
    for j, ax in enumerate(fig.subplots(rows, columns, squeeze=False).ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if j >= n:
            ax.set_axis_off()
            continue
        patch = patches[j]
        ax.imshow(0.5 + 0.5 * patch / (float(np.max(np.abs(patch))) or 1.0),
                  interpolation="none")
        if titled:
            ax.set_title(f"{name} {j + 1}", fontsize=9)
        ax.set_gid(f"{name}-{j + 1}")
    return fig
