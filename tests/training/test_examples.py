"""``logicat.training.examples``: where a fit's examples come from - features or images, in
memory or a packed file (or some of its rows) - each read and fingerprinted the same way (the
fits on them: test_fit.py, test_dense_fit.py, test_image_fit.py)."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.data.chunks import H5Images
from logicat.training.examples import (
    Features,
    FileFeatures,
    FileImages,
    InMemoryImages,
    RowsOf,
    as_images,
    image_source,
)


def test_the_run_is_fingerprinted_by_its_data(cat_h5, cat_features):
    X, y, _, _ = cat_features
    one, flipped = Features(X), Features(X[::-1])
    assert one.fingerprint(y, None) == Features(X.copy()).fingerprint(y, None)
    assert one.fingerprint(y, None) != flipped.fingerprint(y, None)
    assert one.fingerprint(y, None) != one.fingerprint(y, np.ones(len(y)))
    with H5Images(cat_h5) as source:
        streamed = FileFeatures(source, np.float64)
        assert (streamed.m, streamed.n_features, streamed.noun) == (*X.shape, "images")
        assert streamed.fingerprint(y, None) == FileFeatures(source, "float32").fingerprint(
            y, None)


def test_a_files_images_are_the_images_in_memory(cat_h5, cat_data):
    """Rows read from the file in any order, their channel statistics (float64 sums of the
    file's chunks against torch's float32 over the whole set) and a subset of rows."""
    pytest.importorskip("torch")
    memory = InMemoryImages(cat_data.train_x)
    idx = np.array([200, 3, 17, 3, 150])
    with H5Images(cat_h5) as source:
        streamed = image_source(source)
        assert isinstance(streamed, FileImages) and streamed.n_features == 3 * 64 * 64
        np.testing.assert_array_equal(streamed.rows(idx), memory.rows(idx))
        for a, b in zip(streamed.channel_stats(), memory.channel_stats(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5)
        some = image_source(RowsOf(source, np.arange(10, 60)))
        assert some.m == 50
        np.testing.assert_array_equal(some.rows(np.array([0, 49])), cat_data.train_x[[10, 59]])
        assert some.digest() != streamed.digest()


def test_images_are_uint8_or_floats_in_0_1_or_the_lessons_features(cat_data):
    x = cat_data.train_x[:4]
    np.testing.assert_array_equal(as_images(x.reshape(4, -1) / 255.0) * 255.0, x)
    assert as_images(x) is x
    with pytest.raises(ValueError, match=r"must hold floats in \[0, 1\]"):
        as_images(x.astype(np.float64))
    with pytest.raises(ValueError, match="the ConvNet takes images of shape"):
        as_images(np.zeros((4, 7)))
    with pytest.raises(TypeError, match="Got dtype int64"):
        as_images(x.astype(np.int64))
