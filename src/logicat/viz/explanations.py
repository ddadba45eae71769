"""Explanation maps as pictures: each image the model sees beside which of its pixels pushed
p(positive) up (red) or down (blue), with the probability and the label in the title.

    explanation_figure(images, explanation, names, positive, labels)   one row per image
    map_colors(pixel_map)      one map as an RGB image (the web page shows it beside the photo)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from logicat.core.errors import ShapeError
from logicat.viz.canvas import new_figure

#: The diverging colour scale of every explanation map: red raises z, blue lowers it.
MAP_COLORS = "RdBu_r"


def map_colors(pixel_map: np.ndarray) -> np.ndarray:
    """uint8 RGB (s, s, 3) of a map (s, s) on ``MAP_COLORS``, symmetric around 0 (white)."""
    import matplotlib

    values = np.asarray(pixel_map, np.float64)
    bound = float(np.max(np.abs(values))) or 1.0
    rgba = matplotlib.colormaps[MAP_COLORS](0.5 + 0.5 * values / bound)  # (s, s, 4) in [0, 1]
    return np.round(255 * rgba[..., :3]).astype(np.uint8)


def explanation_figure(images: np.ndarray, explanation: Any, names: Sequence[str],
                       positive: str, labels: Sequence[str], pairs_per_row: int = 1,
                       truths: Sequence[str] | None = None) -> Any:
    """For each image, two panels: the image (uint8 (s, s, 3), what the model sees) and its
    ``explanation.pixel_map`` (s, s) over a faded grey copy of it, on one diverging colour scale
    per image (symmetric around 0: red raises the logit z, blue lowers it).

    images : (m, s, s, 3); explanation : ``logicat.evaluate.explain.Explanation`` of those images;
    names : a title for each (e.g. the file name); labels : the predicted class names;
    truths : the true class names, when known (the report's misclassified images).
    """
    images = np.asarray(images)
    maps = explanation.pixel_map
    if images.ndim != 4 or maps.shape != images.shape[:3] or len(names) != len(images):
        raise ShapeError(f"images (m, s, s, 3), maps (m, s, s) and m names expected. Got "
                         f"{images.shape}, {maps.shape} and {len(names)} names instead.")
    m = len(images)
    pairs_per_row = max(1, min(pairs_per_row, m))
    rows = max(1, -(-m // pairs_per_row))
    fig = new_figure(4.6 * pairs_per_row + 0.4, 2.55 * rows + 0.5)
    if m == 0:
        fig.text(0.5, 0.5, "No images.", ha="center", va="center")
        return fig
    axes = fig.subplots(rows, 2 * pairs_per_row, squeeze=False).reshape(rows, pairs_per_row, 2)
    for k in range(rows * pairs_per_row):
        seen, shown = axes[k // pairs_per_row, k % pairs_per_row]
        for ax in (seen, shown):
            ax.set_xticks([])
            ax.set_yticks([])
        if k >= m:
            seen.set_axis_off()
            shown.set_axis_off()
            continue
        p = float(explanation.proba[k])
        truth = f"\ntrue: {truths[k]}" if truths is not None else ""  # a line of its own
        seen.imshow(images[k], interpolation="none")
        seen.set_title(f"{names[k]}\np({positive}) = {p:.4f}: {labels[k]}{truth}", fontsize=9)
        grey = images[k].astype(np.float64).mean(axis=2)
        bound = float(np.max(np.abs(maps[k]))) or 1.0
        shown.imshow(grey, cmap="gray", vmin=0, vmax=255, alpha=0.35, interpolation="none")
        picture = shown.imshow(maps[k], cmap=MAP_COLORS, vmin=-bound, vmax=bound, alpha=0.85,
                               interpolation="none")
        shown.set_title(f"{explanation.short_title}\n{explanation.identity(k)}", fontsize=9)
        shown.set_gid(f"explanation-{k}")
        fig.colorbar(picture, ax=shown, shrink=0.8, label="push on z" + (
            " (relative units)" if explanation.method == "grad_cam" else ""))
    fig.suptitle(f"red pixels push p({positive}) up, blue ones down", fontsize=9)
    return fig
