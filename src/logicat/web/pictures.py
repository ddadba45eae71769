"""The model's pictures for the web page, drawn in memory as PNG bytes.

matplotlib's object API (``matplotlib.figure.Figure`` with the Agg canvas) is used instead of
pyplot: no global figure registry, so it is safe in a server and nothing is written to disk.
"""

from __future__ import annotations

import io

import numpy as np


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def learning_curve_png(cost_history: np.ndarray, title: str = "Learning curve") -> bytes:
    """Cost J against iteration, as a PNG.

    cost_history : array of shape (n_iter,), the cost before each gradient step.
    """
    from matplotlib.figure import Figure

    costs = np.asarray(cost_history, dtype=np.float64)  # (n_iter,)
    fig = Figure(figsize=(5.2, 3.4), dpi=100)
    ax = fig.add_subplot()
    ax.plot(np.arange(costs.size), costs, color="#2b6cb0")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def weights_png(coef: np.ndarray, image_size: int) -> bytes:
    """The weights w, one per input value, folded back into the image they multiply, as a PNG.

    coef : array of shape (image_size * image_size * 3,), in the features' (row, column,
        channel) order. Left: w as an RGB picture, each channel min-max scaled to 0..1.
        Right: w summed over R, G and B; red pixels push p(cat) up, blue ones push it down.
    """
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.figure import Figure

    w = np.asarray(coef, dtype=np.float64).reshape(image_size, image_size, 3)  # (s, s, 3)
    low, high = w.min(axis=(0, 1)), w.max(axis=(0, 1))  # (3,) per channel
    rgb = (w - low) / np.where(high > low, high - low, 1.0)  # (s, s, 3) in [0, 1]
    total = w.sum(axis=2)  # (s, s)
    bound = float(np.abs(total).max()) or 1.0

    fig = Figure(figsize=(6.4, 3.2), dpi=100)
    left, right = fig.subplots(1, 2)
    left.imshow(rgb, interpolation="nearest")
    left.set_title("w as RGB (scaled per channel)", fontsize=9)
    shown = right.imshow(
        total, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -bound, bound), interpolation="nearest"
    )
    right.set_title("w summed over R, G, B", fontsize=9)
    fig.colorbar(shown, ax=right, fraction=0.046, pad=0.04)
    for ax in (left, right):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return _png(fig)
