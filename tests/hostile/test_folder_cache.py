"""The folder cache cannot lie (issue 31, item 5): whatever was done to the photos or to the
cache file, ``train --images`` trains on the folder's pixels, labels and class names.

- pixels inverted in place, each file's size and modification time restored (``os.utime``),
  and a ``cp -p`` copy of the folder with other pixels: trained as a fresh cache would train;
- cache files edited (``TAMPERED``: other shapes, other class names, fewer rows, every label 1,
  ...) or damaged (the fuzzers: bytes flipped, cut or overwritten; any dataset or attribute
  replaced by any array): decoded again, never used as they are, no temporary file left.
"""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from logicat.data.folder_cache import FolderImages, folder_key, folders_cache, load_cached
from logicat.io.files import read_model
from tests.data.test_folder_cache import bmp_folder, invert_keeping_size_and_times
from tests.hostile.common import FUZZ, apply_edits, byte_edits, cli


def _train(root, out, cache_home, monkeypatch):
    """The parameters ``train --images root`` fits with the cache in ``cache_home``."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    status, output = cli(["train", "--images", root, "-n", 3, "--print-every", 0, "--out", out])
    assert status == 0, output
    return list(read_model(out).tensors.values())


@pytest.mark.parametrize("copied", [False, True], ids=["in place", "a cp -p copy"])
def test_other_pixels_behind_the_same_sizes_and_times_are_trained_on(copied, cat_data,
                                                                     tmp_path, monkeypatch):
    root = bmp_folder(tmp_path / "photos", cat_data, n=20)
    cache = tmp_path / "cache"
    first = _train(root, tmp_path / "first.safetensors", cache, monkeypatch)
    if copied:
        root = tmp_path / "copy"
        shutil.copytree(tmp_path / "photos", root, copy_function=shutil.copy2)  # cp -p
    invert_keeping_size_and_times(root)
    again = _train(root, tmp_path / "again.safetensors", cache, monkeypatch)
    fresh = _train(root, tmp_path / "fresh.safetensors", tmp_path / "fresh-cache", monkeypatch)
    for a, f in zip(again, fresh, strict=True):
        np.testing.assert_array_equal(a, f)  # what no cache would have trained
    assert not np.array_equal(again[0], first[0])


def _replace(f, name, value):
    del f[name]
    f[name] = value


#: edits of a cache file, each a function of the open file (h5py, r+)
TAMPERED = {
    "other shapes": lambda f: _replace(f, "train_set_x", np.zeros((8, 32, 32, 3), np.uint8)),
    "other class names": lambda f: _replace(f, "list_classes", np.array([b"dog", b"bird"])),
    "fewer rows": lambda f: [f[name].resize(3, axis=0) for name in ("train_set_x",
                                                                    "train_set_y")],
    "fewer rows, their source rows too": lambda f: [
        *[f[name].resize(3, axis=0) for name in ("train_set_x", "train_set_y")],
        _replace(f, "source_rows", f["source_rows"][:3])],
    "every label 1": lambda f: f["train_set_y"].__setitem__(slice(None), 1),
    "labels swapped": lambda f: f["train_set_y"].__setitem__(slice(None),
                                                             1 - f["train_set_y"][()]),
    "one pixel changed": lambda f: f["train_set_x"].__setitem__((0, 0, 0, 0),
                                                                f["train_set_x"][0, 0, 0, 0] ^ 1),
    "source rows shifted": lambda f: f["source_rows"].__setitem__(slice(None),
                                                                  f["source_rows"][()] + 1),
    "float images": lambda f: _replace(f, "train_set_x", f["train_set_x"][()] / 255),
    "no source rows": lambda f: f.__delitem__("source_rows"),
    "another key": lambda f: f.attrs.__setitem__("key", np.bytes_("0" * 64)),
    "an older version": lambda f: f.attrs.__setitem__("version", np.int64(2)),
    "no digest": lambda f: f.attrs.__delitem__("digest"),
}


@pytest.fixture
def cached(cat_data, tmp_path, monkeypatch) -> tuple:
    """(the folder, its images as first decoded, its cache file's bytes)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = bmp_folder(tmp_path / "photos", cat_data)
    first = load_cached(root)
    return root, first, first.path.read_bytes()


def _assert_the_folders(got: FolderImages, first: FolderImages) -> None:
    """``got`` is what decoding the folder gives, and the cache folder holds no temporary."""
    for a, b in zip(got, first, strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b
    assert not [p for p in folders_cache().iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("edit", TAMPERED)
def test_a_tampered_cache_file_is_decoded_again(edit, cached, monkeypatch):
    root, first, _ = cached
    with h5py.File(first.path, "r+") as f:
        TAMPERED[edit](f)
    decoded = []
    monkeypatch.setattr("logicat.data.pack.iter_decoded", _spy(decoded))
    _assert_the_folders(load_cached(root), first)
    assert decoded == [True]  # the tampered file was not used
    with h5py.File(first.path) as f:  # and it was replaced
        assert f["train_set_x"].shape == first.x.shape


def _spy(calls):
    from logicat.data.decode import iter_decoded

    def spy(*args, **kwargs):
        calls.append(True)
        return iter_decoded(*args, **kwargs)

    return spy


def test_a_cache_file_of_one_folder_is_not_read_for_another(cached, cat_data, tmp_path):
    root, first, _ = cached
    other = bmp_folder(tmp_path / "other", cat_data, n=9)
    path = folders_cache() / f"{folder_key(other)[:32]}.h5"
    shutil.copy(first.path, path)  # the first folder's file, under the other's name
    got = load_cached(other)
    assert len(got.y) == 9 and got.path == path


@FUZZ
@given(data=st.data())
def test_a_cache_file_with_flipped_or_cut_bytes_is_decoded_again(cached, data):
    root, first, original = cached
    edits = data.draw(st.sampled_from([4096, len(original)]).flatmap(byte_edits))
    first.path.write_bytes(apply_edits(original, edits))
    _assert_the_folders(load_cached(root), first)


NAMES = ["train_set_x", "train_set_y", "list_classes", "source_rows"]
ATTRIBUTES = ["key", "version", "digest"]
ANY_ARRAY = hnp.arrays(
    dtype=st.sampled_from([np.uint8, np.int64, np.int32, np.float64, np.dtype("S8")]),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=9))


@FUZZ
@given(data=st.data())
def test_a_cache_file_with_any_dataset_or_attribute_replaced_is_decoded_again(cached, data):
    root, first, original = cached
    first.path.write_bytes(original)
    name = data.draw(st.sampled_from(NAMES + ATTRIBUTES))
    value = data.draw(ANY_ARRAY)
    with h5py.File(first.path, "r+") as f:
        if name in ATTRIBUTES:
            f.attrs[name] = value
        else:
            _replace(f, name, value)
    _assert_the_folders(load_cached(root), first)
