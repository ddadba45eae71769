"""The datasets the PyTorch engine reads lazily (``logicat.engines.torch.datasets``): an HDF5
file in shards, a folder of photos, and ``fit_dataset`` training on them as in memory."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from logicat import fit_dataset  # noqa: E402
from logicat.engines.torch import H5CatDataset, ImageFolderDataset, train_torch  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_h5_dataset_reads_lazily_and_in_shards(cat_data):
    path = Path(os.environ["LOGICAT_DATA"]) / "train_catvnoncat.h5"
    from logicat.engines.torch.datasets import h5_rows

    ds = H5CatDataset(path)
    assert len(ds) == 209 == h5_rows(path)
    assert ds.n_features == 12288 and ds.classes == ("non-cat", "cat")
    x, label = ds[7]
    assert x.dtype == torch.uint8 and x.shape == (12288,)
    np.testing.assert_array_equal(x.numpy(), cat_data.train_x[7].reshape(-1))
    assert int(label) == cat_data.train_y[7]
    shard = H5CatDataset(path, 105, 209)
    images, labels = shard.read()
    np.testing.assert_array_equal(images, cat_data.train_x[105:])
    np.testing.assert_array_equal(labels, cat_data.train_y[105:])
    with pytest.raises(IndexError):
        shard[104]
    # two DataLoader workers, each with its own h5py handle, see every image once
    loader = torch.utils.data.DataLoader(ds, batch_size=50, num_workers=2)
    seen = torch.cat([xb for xb, _ in loader]).numpy()
    np.testing.assert_array_equal(seen, cat_data.train_x.reshape(209, -1))
    ds.close()


def test_h5_dataset_bad_files(tmp_path):
    from logicat import DataFileError

    with pytest.raises(DataFileError, match="no such file"):
        H5CatDataset(tmp_path / "missing.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(DataFileError, match="junk.h5: not an HDF5 file"):
        H5CatDataset(junk)


def test_fit_dataset_equals_in_memory_minibatches(cat_features):
    """Lazy uint8 batches turned into floats at batch time train exactly as the in-memory path."""
    X, y, X_test, y_test = cat_features
    ds = H5CatDataset(Path(os.environ["LOGICAT_DATA"]) / "train_catvnoncat.h5")
    clf = fit_dataset(ds, batch_size=64, seed=5, max_iter=3, device="cpu")
    ref = train_torch(X, y, max_iter=3, batch_size=64, seed=5, device="cpu")
    np.testing.assert_array_equal(clf.coef_, ref.coef)
    np.testing.assert_array_equal(clf.cost_history_, ref.cost_history)
    assert clf.metadata_["class_names"] == ["non-cat", "cat"]
    assert clf.predict(X_test).shape == y_test.shape


def test_image_folder_dataset(photos_dir, tmp_path):
    from logicat import load_image

    for name, files in {
        "cat": ["tabby_cat.jpg", "cat_in_iran.jpg", "chelsea_cat.png"],
        "other": ["coffee.png", "rocket.jpg", "camera_gray.png", "logo_rgba.png"],
    }.items():
        (tmp_path / name).mkdir()
        for f in files:
            shutil.copy(photos_dir / f, tmp_path / name / f)
    ds = ImageFolderDataset(tmp_path, size=32)
    assert len(ds) == 7 and ds.classes == ("other", "cat") and ds.n_features == 32 * 32 * 3
    assert ds.labels.sum() == 3
    x, label = ds[0]
    path, expected_label = ds.samples[0]
    np.testing.assert_array_equal(x.numpy(), load_image(path, 32).reshape(-1))
    assert int(label) == expected_label
    clf = fit_dataset(ds, batch_size=4, max_iter=3, learning_rate=0.01, device="cpu")
    assert clf.n_iter_ == 3 and clf.coef_.shape == (32 * 32 * 3,)
