"""The canvas every logicat picture is drawn on and written from: headless matplotlib Figures
(no pyplot, no global state, no display) saved atomically as PNG, SVG or PDF by suffix, with
no dates or random ids inside, so that the same picture gives the same bytes.

matplotlib is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from logicat.core.errors import ParameterError
from logicat.core.paths import atomic_write_bytes
from logicat.core.validation import Options, check_param

FORMATS = (".png", ".svg", ".pdf")
#: Line colours, one per run, the same in every panel of a figure.
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
# No dates or random ids in the files: the same picture gives the same bytes.
_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}
_RC = {"svg.hashsalt": "logicat", "svg.fonttype": "path"}


def check_plot_path(path: str | Path) -> Path:
    """Refuse a suffix matplotlib would not write, before any work is done."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ParameterError(
            f"{path}: a plot file must end in {', '.join(FORMATS)}. Got {path.suffix!r} instead."
        )
    if not path.parent.is_dir():
        raise ParameterError(f"{path}: the folder {path.parent} does not exist.")
    return path


def save_figure(fig: Any, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix) atomically; return the path."""
    path = check_plot_path(path)
    return atomic_write_bytes(path, figure_bytes(fig, path.suffix.lstrip(".").lower()),
                              "picture")


def figure_bytes(fig: Any, fmt: str = "png") -> bytes:
    """Render ``fig`` in memory as ``fmt`` ("png", "svg" or "pdf")."""
    import matplotlib

    check_param("fmt", fmt, [Options(f.lstrip(".") for f in FORMATS)])
    buffer = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format=fmt, metadata=_METADATA[fmt])
    return buffer.getvalue()


def new_figure(width: float, height: float) -> Any:
    """A Figure not registered with pyplot: nothing to close, nothing shown, thread-safe."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def cycle(items: Sequence[str]):
    """``items`` over and over: one colour per run, however many runs."""
    while True:
        yield from items
