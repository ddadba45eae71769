"""Your own photos as a training set (``logicat.data.image_sets``): split stratified and seeded,
or tested on a second folder. (The cache that decodes each folder once:
tests/data/test_folder_cache.py.)"""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from logicat.core.errors import ParameterError
from logicat.data import image_sets


def photo_folder(root, cat_data, n=30, classes=("cat", "non-cat"), start=0):
    """n JPEGs made from the cat data's training images, in root/<class>/ by their labels."""
    for i in range(start, start + n):
        label = classes[0] if cat_data.train_y[i] else classes[1]
        (root / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(cat_data.train_x[i]).save(root / label / f"{i:03d}.jpg", quality=95)
    return root


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "logicat" / "folders"


def test_the_held_out_part_is_stratified_and_seeded(cat_data, tmp_path, cache):
    photos = photo_folder(tmp_path / "photos", cat_data, n=50)
    labels = cat_data.train_y[:50]
    a = image_sets.from_folders(photos, test_fraction=0.2, seed=0)
    for c in (0, 1):
        assert (a.data.test_y == c).sum() == round(0.2 * (labels == c).sum())
    assert len(a.data.train_y) + len(a.data.test_y) == 50
    b = image_sets.from_folders(photos, test_fraction=0.2, seed=1)
    assert not np.array_equal(a.data.test_x, b.data.test_x)
    assert a.test_name.startswith(f"{len(a.data.test_y)} held-out images of {photos}{os.sep}")
    assert a.training_data["n_samples"] == len(a.data.train_y)


def test_a_second_folder_is_the_test(cat_data, tmp_path, cache):
    train = photo_folder(tmp_path / "train", cat_data, n=30)
    test = photo_folder(tmp_path / "test", cat_data, n=12, start=100)
    got = image_sets.from_folders(train, test)
    assert len(got.data.train_y) == 30 and len(got.data.test_y) == 12
    np.testing.assert_array_equal(np.sort(got.data.test_y), np.sort(cat_data.train_y[100:112]))
    other = photo_folder(tmp_path / "dogs", cat_data, n=12, classes=("dog", "non-dog"))
    with pytest.raises(Exception, match="no class folder named 'cat'"):
        image_sets.from_folders(train, other)


@pytest.mark.parametrize("fraction, message", [
    (0.01, "holds out 0 of the"), (0.99, "a held-out test needs at least one image of each"),
    (1.5, "must be in \\(0, 1\\)")])
def test_a_fraction_that_leaves_a_class_out_is_refused(fraction, message):
    y = np.array([0] * 20 + [1] * 10)
    with pytest.raises(ParameterError, match=message):
        image_sets.split(y, fraction, 0)


@pytest.mark.parametrize("how", ["the same path", "a symlink to it", "its photos hard-linked"])
def test_a_test_folder_that_is_the_training_folder_is_refused_before_decoding(
        how, cat_data, tmp_path, cache, monkeypatch):
    """Its "test accuracy" would be the training accuracy (issue 31, also seen)."""
    train = photo_folder(tmp_path / "train", cat_data, n=20)
    if how == "the same path":
        test = train
    elif how == "a symlink to it":
        test = tmp_path / "link"
        test.symlink_to(train)
    else:
        test = tmp_path / "linked"
        for photo in sorted(train.rglob("*.jpg")):
            (test / photo.parent.name).mkdir(parents=True, exist_ok=True)
            os.link(photo, test / photo.parent.name / photo.name)
    monkeypatch.setattr("logicat.data.pack.pack_image_folder", _no_decoding)
    with pytest.raises(ParameterError) as refused:
        image_sets.from_folders(train, test)
    message = str(refused.value)
    assert refused.value.parameter == "test_images" and "\n" not in message
    if how == "its photos hard-linked":
        assert message.startswith(f"--test-images {test}: expected photos other than those of "
                                  "--images; got 20 of its 20 images among them (")
    else:
        assert message.startswith(f"--test-images {test}: expected a folder other than "
                                  f"--images; got the same folder ({os.path.realpath(train)})")


def test_a_test_folder_of_other_files_is_taken(cat_data, tmp_path, cache):
    train = photo_folder(tmp_path / "train", cat_data, n=20)
    test = photo_folder(tmp_path / "test", cat_data, n=20)  # the same pictures, other files
    got = image_sets.from_folders(train, test)
    assert len(got.data.test_y) == 20


def _no_decoding(*args, **kwargs):
    raise AssertionError("decoded before the folders were checked")


def test_the_held_out_part_is_found_again_from_the_record(cat_data, tmp_path, cache):
    """``again``: the record of ``from_folders`` (the folder's real path, the fraction, the
    seed) gives back the same training and held-out images, and says which folder changed."""
    photos = photo_folder(tmp_path / "photos", cat_data, n=40)
    first = image_sets.from_folders(photos, test_fraction=0.25, seed=3)
    record = first.training_data
    assert (record["folder"], record["test_fraction"], record["seed"]) == (
        os.path.realpath(photos), 0.25, 3)
    again, changed = image_sets.again(record, "cat", 64)
    assert changed == []
    for a, b in zip(first.data[:4], again.data[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    (photos / "cat" / sorted(os.listdir(photos / "cat"))[0]).unlink()
    again, changed = image_sets.again(record, "cat", 64)
    assert changed == [f"{os.path.realpath(photos)}{os.sep}"]
    assert len(again.data.train_y) + len(again.data.test_y) == 39


def test_a_second_folder_is_found_again_from_the_record(cat_data, tmp_path, cache):
    photos = photo_folder(tmp_path / "photos", cat_data, n=30)
    test = photo_folder(tmp_path / "test", cat_data, n=20, start=100)
    record = image_sets.from_folders(photos, test).training_data
    assert record["test_folder"] == os.path.realpath(test) and "test_fraction" not in record
    again, changed = image_sets.again(record, "cat", 64)
    assert changed == [] and len(again.data.test_y) == 20
    Image.fromarray(cat_data.train_x[150]).save(test / "cat" / "new.jpg")
    assert image_sets.again(record, "cat", 64)[1] == [f"{os.path.realpath(test)}{os.sep}"]


@pytest.mark.parametrize("record", [
    {"file": "photos/"},  # an older file: no folder recorded
    {"file": "photos/", "folder": "/x", "test_fraction": 1.5, "seed": 0},
    {"file": "photos/", "folder": "/x", "test_fraction": 0.2, "seed": -1},
    {"file": "photos/", "folder": 7, "test_fraction": 0.2, "seed": 0},
])
def test_a_record_that_does_not_say_where_the_photos_are_is_refused(record):
    with pytest.raises(ParameterError, match=r"^m\.safetensors was trained on photos/ and does "
                       "not record where its held-out images are"):
        image_sets.again(record, "cat", 64, source="m.safetensors")
