"""``data.pack.pack_image_folder``: a folder of class folders to the cat-data layout, with the data
layer's pixels (the parallel loader: tests/data/test_decode.py; ``logicat pack``:
tests/cli/test_pack.py)."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.core.errors import DataFileError
from logicat.data import list_image_folder, load_h5_dataset, load_images
from logicat.data.pack import pack_image_folder


def test_pack_writes_the_cat_data_layout_with_the_data_layers_pixels(image_root, tmp_path):
    out = tmp_path / "packed.h5"
    progress = []
    result = pack_image_folder(image_root, out, workers=2, chunk_images=16,
                               progress=progress.append)
    samples, classes = list_image_folder(image_root)
    expected, ok_paths, failures = load_images([p for p, _ in samples])
    x, y, stored_classes = load_h5_dataset(out)
    np.testing.assert_array_equal(x, expected)  # same decoding, same order
    labels = dict(samples)
    np.testing.assert_array_equal(y, [labels[p] for p in ok_paths])
    assert stored_classes == classes == ("dog", "cat")
    assert result.n_images == 60 and result.n_positive == 30
    assert [p.name for p, _ in result.skipped] == ["broken.jpg"] == [p.name for p, _ in failures]
    assert sum(progress) == 61
    assert not list(tmp_path.glob(".packed.h5.*"))  # no temporary file left behind


def test_pack_with_no_readable_image_fails_without_writing(tmp_path):
    for name in ("cat", "dog"):
        (tmp_path / "root" / name).mkdir(parents=True)
        (tmp_path / "root" / name / "x.jpg").write_text("not an image")
    out = tmp_path / "out.h5"
    with pytest.raises(DataFileError, match="none of the 2 image files could be read"):
        pack_image_folder(tmp_path / "root", out, workers=1)
    assert not out.exists() and not list(tmp_path.glob(".out.h5.*"))
