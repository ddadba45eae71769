"""The cat / non-cat HDF5 files, where they are looked for, their validation, and image folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from logicat.core.errors import DataFileError
from logicat.data import (
    SHA256,
    TEST_FILE,
    TRAIN_FILE,
    CatData,
    cache_dir,
    file_sha256,
    find_catvnoncat,
    list_image_folder,
    load_catvnoncat,
    load_h5_dataset,
    load_image,
    load_image_folder,
)
from tests import paths
from tests.conftest import assert_one_line_error

SHARED = paths.CAT_DATA


@pytest.fixture(scope="module")
def real_dir() -> Path:
    if not (SHARED / TRAIN_FILE).is_file():
        pytest.skip(f"{SHARED} does not hold the cat data")
    return SHARED


@pytest.fixture(scope="module")
def data(real_dir) -> CatData:
    return load_catvnoncat(real_dir)


# --- the real data -----------------------------------------------------------------------------


def test_real_data_shapes_dtypes_and_classes(data):
    train_x, train_y, test_x, test_y, classes = data  # unpacks as a 5-tuple
    assert train_x.shape == (209, 64, 64, 3) and train_x.dtype == np.uint8
    assert test_x.shape == (50, 64, 64, 3) and test_x.dtype == np.uint8
    assert train_y.shape == (209,) and train_y.dtype == np.int64
    assert test_y.shape == (50,) and test_y.dtype == np.int64
    assert classes == ("non-cat", "cat") and all(type(name) is str for name in classes)
    assert int(train_y.sum()) == 72 and int(test_y.sum()) == 33
    assert set(np.unique(train_y)) == {0, 1}
    assert data.train_x is train_x and data.classes is classes


def test_real_images_are_pictures(data):
    # Each image has real content, and the training images are not all the same.
    assert (data.train_x.reshape(209, -1).std(axis=1) > 10).all()
    assert len({image.tobytes() for image in data.train_x}) == 209


def test_sha256_of_the_real_files_matches_the_published_digests(real_dir):
    published = dict(
        reversed(line.split()) for line in (real_dir / "SHA256SUMS").read_text().splitlines()
    )
    assert published == SHA256
    assert file_sha256(real_dir / TRAIN_FILE) == SHA256[TRAIN_FILE]
    assert file_sha256(real_dir / TEST_FILE) == SHA256[TEST_FILE]


# --- where the files are looked for ------------------------------------------------------------


@pytest.fixture
def no_data_env(monkeypatch, tmp_path):
    """No LOGICAT_DATA and an empty user cache under tmp_path."""
    monkeypatch.delenv("LOGICAT_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def _copy_data(real_dir: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in (TRAIN_FILE, TEST_FILE):
        shutil.copy(real_dir / name, folder / name)
    return folder


def test_cache_dir_honours_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "logicat" / "catvnoncat"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # invalid per the XDG spec: ignored
    assert cache_dir() == Path.home() / ".cache" / "logicat" / "catvnoncat"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "logicat" / "catvnoncat"


def test_found_through_logicat_data(no_data_env, monkeypatch, real_dir):
    monkeypatch.setenv("LOGICAT_DATA", str(real_dir))
    assert find_catvnoncat() == real_dir


def test_found_in_the_user_cache(no_data_env, real_dir):
    cached = _copy_data(real_dir, no_data_env / "cache" / "logicat" / "catvnoncat")
    assert find_catvnoncat() == cached
    assert load_catvnoncat().train_x.shape == (209, 64, 64, 3)


def test_logicat_data_comes_before_the_cache(no_data_env, monkeypatch, real_dir):
    _copy_data(real_dir, no_data_env / "cache" / "logicat" / "catvnoncat")
    monkeypatch.setenv("LOGICAT_DATA", str(real_dir))
    assert find_catvnoncat() == real_dir


def test_an_explicit_folder_is_the_only_place_looked_in(no_data_env, monkeypatch, real_dir):
    monkeypatch.setenv("LOGICAT_DATA", str(real_dir))
    empty = no_data_env / "empty"
    empty.mkdir()
    with pytest.raises(DataFileError, match="looked in: " + str(empty) + r"\. Run"):
        load_catvnoncat(empty)
    assert find_catvnoncat(real_dir) == real_dir


def test_not_found_says_where_it_looked_and_how_to_fix_it(no_data_env, monkeypatch):
    monkeypatch.setenv("LOGICAT_DATA", str(no_data_env / "elsewhere"))
    with pytest.raises(DataFileError) as err:
        load_catvnoncat()
    message = str(err.value)
    assert TRAIN_FILE in message and TEST_FILE in message
    assert str(no_data_env / "elsewhere") in message
    assert str(no_data_env / "cache" / "logicat" / "catvnoncat") in message
    assert "logicat download" in message and "LOGICAT_DATA" in message
    assert "\n" not in message


def test_one_file_alone_is_not_enough(no_data_env, real_dir):
    folder = no_data_env / "half"
    folder.mkdir()
    shutil.copy(real_dir / TRAIN_FILE, folder / TRAIN_FILE)
    with pytest.raises(DataFileError, match="Cannot find"):
        find_catvnoncat(folder)


def test_train_and_test_classes_must_agree(tmp_path):
    _write_h5(tmp_path / TRAIN_FILE, "train")
    _write_h5(tmp_path / TEST_FILE, "test", classes=[b"dog", b"cat"])
    with pytest.raises(DataFileError, match="training classes"):
        load_catvnoncat(tmp_path)


# --- load_h5_dataset: any file of the layout, validated ----------------------------------------


def _write_h5(path: Path, prefix: str = "train", *, x=None, y=None, classes=None, skip=()) -> Path:
    """A small valid file of the cat-data layout, with any part replaced or left out."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8) if x is None else x
    y = np.array([0, 1, 0, 1, 1, 0]) if y is None else y
    classes = [b"non-cat", b"cat"] if classes is None else classes
    with h5py.File(path, "w") as f:
        for name, value in [
            (f"{prefix}_set_x", x),
            (f"{prefix}_set_y", y),
            ("list_classes", classes),
        ]:
            if name not in skip:
                f.create_dataset(name, data=value)
    return path


def test_a_small_file_of_the_layout_loads(tmp_path):
    path = _write_h5(tmp_path / "mine.h5", "dev", y=np.array([0, 1, 0, 1, 1, 0], np.uint8))
    x, y, classes = load_h5_dataset(path)
    assert x.shape == (6, 8, 8, 3) and x.dtype == np.uint8  # another square size is fine
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 0, 1, 1, 0]
    assert classes == ("non-cat", "cat")


def test_class_names_may_be_variable_length_strings(tmp_path):
    path = _write_h5(tmp_path / "str.h5", classes=np.array(["dog", "cat"], dtype=object))
    assert load_h5_dataset(path)[2] == ("dog", "cat")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"x": np.zeros((6, 8, 8, 3), np.float32)},
            "'train_set_x' must be uint8 pixels, got float32",
        ),
        ({"x": np.zeros((6, 8, 8), np.uint8)}, "must have shape (m, size, size, 3), got (6, 8, 8)"),
        ({"x": np.zeros((6, 8, 8, 4), np.uint8)}, "got (6, 8, 8, 4)"),
        ({"x": np.zeros((6, 8, 10, 3), np.uint8)}, "images must be square, got 8x10"),
        ({"x": np.zeros((0, 8, 8, 3), np.uint8), "y": np.zeros(0, int)}, "holds no images"),
        (
            {"y": np.zeros((1, 6), int)},
            "'train_set_y' must be 1-D integer labels, got int64 of shape (1, 6)",
        ),
        ({"y": np.zeros(6, float)}, "must be 1-D integer labels, got float64"),
        (
            {"y": np.array([0, 1, 2, 1, 0, 0])},
            "dataset 'train_set_y' has labels other than 0 and 1: [0 1 2]",
        ),
        ({"y": np.array([0, 1, -1, 1, 0, 0])}, "labels other than 0 and 1: [-1  0  1]"),
        ({"y": np.array([0, 1, 0])}, "'train_set_x' has 6 images but 'train_set_y' has 3 labels"),
        (
            {"classes": [b"non-cat", b"cat", b"dog"]},
            "'list_classes' must hold 2 class names, got shape (3,)",
        ),
        ({"classes": [1, 2]}, "'list_classes' must hold strings, got int64"),
        ({"skip": ("train_set_y",)}, "no dataset 'train_set_y' (found: list_classes, train_set_x)"),
        ({"skip": ("list_classes",)}, "no dataset 'list_classes'"),
        (
            {"skip": ("train_set_x",)},
            "expected exactly one '<prefix>_set_x' dataset (found: list_classes, train_set_y)",
        ),
    ],
)
def test_layout_errors_name_the_file_and_the_problem(tmp_path, change, problem):
    path = _write_h5(tmp_path / "bad.h5", **change)
    with pytest.raises(DataFileError) as err:
        load_h5_dataset(path)
    assert_one_line_error(err, path, problem)


def test_a_group_where_a_dataset_should_be(tmp_path):
    path = _write_h5(tmp_path / "group.h5", skip=("list_classes",))
    with h5py.File(path, "a") as f:
        f.create_group("list_classes")
    with pytest.raises(DataFileError) as err:
        load_h5_dataset(path)
    assert_one_line_error(err, path, "'list_classes' is a group, not a dataset")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.h5"
    with pytest.raises(DataFileError) as err:
        load_h5_dataset(path)
    assert_one_line_error(err, path, "no such file")


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(DataFileError) as err:
        load_h5_dataset(tmp_path)
    assert_one_line_error(err, tmp_path, "is a folder")


@pytest.mark.parametrize("content", [b"", b"train_set_x,train_set_y\n1,2\n"])
def test_not_an_hdf5_file(tmp_path, content):
    path = tmp_path / "fake.h5"
    path.write_bytes(content)
    with pytest.raises(DataFileError) as err:
        load_h5_dataset(path)
    assert_one_line_error(err, path, "not an HDF5 file")


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.99])
def test_truncated_real_file(tmp_path, real_dir, keep):
    data = (real_dir / TRAIN_FILE).read_bytes()
    path = tmp_path / TRAIN_FILE
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(DataFileError) as err:
        load_h5_dataset(path)
    assert_one_line_error(err, path, f"truncated HDF5 file, {int(len(data) * keep)} bytes long")


# --- image folders -----------------------------------------------------------------------------


def _image(path: Path, colour) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (30, 20), colour).save(path)
    return path


@pytest.fixture
def pets(tmp_path) -> Path:
    """root/cat: 2 images (one upper-case .PNG, one in a sub-folder); root/dog: 2 images plus
    a text file, a hidden file and a broken .jpg; root/.cache is hidden."""
    root = tmp_path / "pets"
    _image(root / "cat" / "a.jpg", (250, 0, 0))
    _image(root / "cat" / "sub" / "b.PNG", (240, 0, 0))
    _image(root / "dog" / "c.webp", (0, 0, 250))
    _image(root / "dog" / "d.bmp", (0, 0, 240))
    (root / "dog" / "notes.txt").write_text("not an image")
    _image(root / "dog" / ".hidden.jpg", (0, 255, 0))
    _image(root / ".cache" / "e.jpg", (0, 255, 0))
    (root / "dog" / "broken.jpg").write_bytes(b"\xff\xd8 this is not a JPEG")
    return root


def test_list_image_folder_labels_by_name_not_sort_order(pets):
    samples, classes = list_image_folder(pets)
    assert classes == ("dog", "cat")  # "cat" sorts first, yet it is label 1
    assert [(path.relative_to(pets).as_posix(), label) for path, label in samples] == [
        ("cat/a.jpg", 1),
        ("cat/sub/b.PNG", 1),
        ("dog/broken.jpg", 0),  # listing decodes nothing
        ("dog/c.webp", 0),
        ("dog/d.bmp", 0),
    ]


def test_another_positive_class(pets):
    samples, classes = list_image_folder(pets, positive="dog")
    assert classes == ("cat", "dog")
    assert [label for _, label in samples] == [0, 0, 1, 1, 1]  # cat folder first, now label 0


def test_several_negative_folders_are_all_label_0(pets):
    _image(pets / "bird" / "f.gif", (0, 200, 0))
    samples, classes = list_image_folder(pets)
    assert classes == ("non-cat", "cat")
    labels = {path.name: label for path, label in samples}
    assert labels == {"a.jpg": 1, "b.PNG": 1, "f.gif": 0, "broken.jpg": 0, "c.webp": 0, "d.bmp": 0}


def test_load_image_folder_reports_skipped_files(pets):
    skipped = []
    images, labels, paths, classes = load_image_folder(
        pets, size=16, on_skip=lambda path, reason: skipped.append((path, reason))
    )
    assert images.shape == (4, 16, 16, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and labels.tolist() == [1, 1, 0, 0]
    assert [p.name for p in paths] == ["a.jpg", "b.PNG", "c.webp", "d.bmp"]
    assert classes == ("dog", "cat")
    assert np.array_equal(images[0], load_image(pets / "cat" / "a.jpg", size=16))
    assert images[0, 0, 0, 0] > 200 and images[2, 0, 0, 2] > 200  # red cat, blue dog
    assert skipped == [(pets / "dog" / "broken.jpg", skipped[0][1])]
    assert "cannot" in skipped[0][1] or "not an image" in skipped[0][1]


def test_load_image_folder_warns_without_a_callback(pets):
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable image\(s\): .*broken\.jpg"):
        result = load_image_folder(pets, size=8)
    assert len(result.paths) == 4


def test_folder_errors(tmp_path, pets):
    with pytest.raises(DataFileError) as err:
        list_image_folder(tmp_path / "missing")
    assert_one_line_error(err, tmp_path / "missing", "no such folder")

    with pytest.raises(DataFileError) as err:
        list_image_folder(pets, positive="kitten")
    assert_one_line_error(
        err, pets, "no class folder named 'kitten' (class folders found: cat, dog)"
    )

    shutil.rmtree(pets / "dog")
    with pytest.raises(DataFileError) as err:
        list_image_folder(pets)
    assert_one_line_error(err, pets, "only one class folder ('cat')")


def test_folders_without_images(tmp_path):
    root = tmp_path / "root"
    (root / "cat").mkdir(parents=True)
    (root / "dog").mkdir()
    (root / "dog" / "readme.md").write_text("no pictures here")
    with pytest.raises(DataFileError) as err:
        list_image_folder(root)
    assert_one_line_error(err, root, "no image files (.jpg .jpeg")

    _image(root / "dog" / "a.jpg", (0, 0, 0))
    with pytest.raises(DataFileError) as err:
        list_image_folder(root)
    assert_one_line_error(err, root, f"the folder {root / 'cat'} has no image files (.jpg")

    _image(root / "cat" / "b.jpg", (0, 0, 0))
    (root / "dog" / "a.jpg").unlink()
    with pytest.raises(DataFileError) as err:
        list_image_folder(root)
    assert_one_line_error(err, root, f"the folder {root / 'dog'} has no image files (.jpg")


def test_a_class_with_only_unreadable_images(pets):
    for name in ("c.webp", "d.bmp"):
        (pets / "dog" / name).unlink()
    with pytest.raises(DataFileError) as err:
        load_image_folder(pets, on_skip=lambda path, reason: None)
    assert_one_line_error(err, pets, "no readable 'dog' images (1 file(s) skipped as unreadable)")
