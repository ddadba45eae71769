"""Pictures made with matplotlib (headless: the Agg backend, PNG/SVG/PDF by file suffix)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

FORMATS = (".png", ".svg", ".pdf")


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_plot_path(path: str | Path) -> Path:
    """Refuse a suffix matplotlib would not write, before any work is done."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(
            f"{path}: a plot file must end in {', '.join(FORMATS)}. Got {path.suffix!r} instead."
        )
    if not path.parent.is_dir():
        raise ValueError(f"{path}: the folder {path.parent} does not exist.")
    return path


def plot_learning_curves(
    curves: Mapping[str, Sequence[float]], path: str | Path, title: str = "Learning curve"
) -> Path:
    """Plot cost J against iteration for one or more runs; write the figure to ``path``.

    curves : {label: cost history of shape (n_iter,)}
    """
    path = check_plot_path(path)
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for label, costs in curves.items():
        ax.plot(np.arange(len(costs)), costs, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(curves) > 1 or any(curves):
        ax.legend()
    fig.tight_layout()
    _save_atomically(fig, path)
    plt.close(fig)
    return path


def _save_atomically(fig, path: Path) -> None:
    """Render to a temporary file beside ``path``, then rename: no half-written pictures."""
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    try:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
