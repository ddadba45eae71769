"""The canvas every picture is drawn on (``viz.canvas``): paths and formats are refused before any
drawing (the pictures themselves: tests/viz/test_plots.py)."""

from __future__ import annotations

import pytest

from logicat.viz import canvas


@pytest.mark.parametrize(("name", "message"), [
    ("picture.jpg", r"must end in \.png, \.svg, \.pdf\. Got '\.jpg' instead"),
    ("missing/picture.png", "does not exist"),
])
def test_bad_paths_are_refused_before_drawing(tmp_path, name, message):
    with pytest.raises(ValueError, match=message):
        canvas.check_plot_path(tmp_path / name)
    with pytest.raises(ValueError, match="'fmt' parameter"):
        canvas.figure_bytes(None, "jpg")
