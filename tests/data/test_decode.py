"""Decoding many files in worker processes (``data.decode``) gives what the serial
``load_images`` gives, in order, with the unreadable files reported."""

from __future__ import annotations

import numpy as np

from logicat.data import load_images
from logicat.data.decode import load_images_parallel


def test_parallel_loader_matches_load_images(image_root, photos_dir):
    paths = sorted(image_root.rglob("*.*")) + sorted(photos_dir.iterdir())
    paths.append(image_root / "missing.jpg")
    expected = load_images(paths, size=32)
    got = load_images_parallel(paths, size=32, workers=2, batch=7)
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[1] == expected[1]
    assert got[2] == expected[2] and len(got[2]) == 2
