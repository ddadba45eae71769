"""The folder cache (``logicat.data.folder_cache``): decoded once, keyed by the folder's real
path and its files' status, checked when read, its temporary files never left behind.
(The hostile cases - pixels inverted with the times restored, a ``cp -p`` copy, cache files
edited or damaged - are tests/hostile/test_folder_cache.py.)"""

from __future__ import annotations

import fcntl
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from logicat.data.folder_cache import folder_key, load_cached


def bmp_folder(root, cat_data, n=8):
    """n 64x64 BMPs of the cat data (a fixed size for fixed pixels: inverting keeps it), in
    root/cat and root/other by their labels; root."""
    for i in range(n):
        label = "cat" if cat_data.train_y[i] else "other"
        (root / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(cat_data.train_x[i]).save(root / label / f"{i:03d}.bmp")
    return root


def invert_keeping_size_and_times(root):
    """Every image's pixels inverted in place, its size and modification time restored."""
    for path in sorted(root.rglob("*.bmp")):
        before = os.stat(path)
        Image.fromarray(255 - np.asarray(Image.open(path))).save(path)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = os.stat(path)
        assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "logicat" / "folders"


def no_decoding(*args, **kwargs):
    raise AssertionError("decoded again")


def test_a_folder_is_decoded_once_then_read_from_the_cache(cat_data, tmp_path, cache,
                                                           monkeypatch):
    root = bmp_folder(tmp_path / "photos", cat_data)
    first = load_cached(root)
    assert sorted(p.suffix for p in cache.iterdir()) == [".h5", ".lock"]
    np.testing.assert_array_equal(first.x, cat_data.train_x[np.argsort(
        ["cat" if y else "other" for y in cat_data.train_y[:8]], kind="stable")])
    monkeypatch.setattr("logicat.data.pack.pack_image_folder", no_decoding)
    again = load_cached(root)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_key_is_the_real_folder_and_each_files_status(cat_data, tmp_path, cache):
    root = bmp_folder(tmp_path / "photos", cat_data)
    key = folder_key(root)
    assert folder_key(root, "cat", 32) != key and folder_key(root, "other", 64) != key
    (tmp_path / "link").symlink_to(root)
    assert folder_key(tmp_path / "link") == key  # the same folder, by another name
    shutil.copytree(root, tmp_path / "copy", copy_function=shutil.copy2)  # cp -p
    assert folder_key(tmp_path / "copy") != key
    first = sorted((root / "cat").iterdir())[0]
    os.utime(first, ns=(1, 1))
    changed = folder_key(root)
    assert changed != key
    os.chmod(first, 0o600)  # status only: the status-change time moves on
    assert folder_key(root) not in (key, changed)


def test_pixels_changed_with_size_and_times_restored_are_decoded_again(cat_data, tmp_path,
                                                                      cache):
    root = bmp_folder(tmp_path / "photos", cat_data)
    first = load_cached(root)
    invert_keeping_size_and_times(root)
    again = load_cached(root)
    np.testing.assert_array_equal(again.x, 255 - first.x)
    np.testing.assert_array_equal(again.y, first.y)


def test_unreadable_files_are_counted_and_the_rows_say_which_images_are_kept(cat_data,
                                                                            tmp_path, cache):
    root = bmp_folder(tmp_path / "photos", cat_data)
    (root / "cat" / "000b.jpg").write_bytes(b"not a jpeg")
    skipped = []
    got = load_cached(root, on_skip=lambda path, why: skipped.append(path.name))
    assert skipped == ["000b.jpg"] and got.n_skipped == 1 and len(got.y) == 8
    assert load_cached(root).n_skipped == 1  # from the cache: the listing has 9 files


def test_a_stale_temporary_file_is_removed_by_the_next_run_that_packs(cat_data, tmp_path,
                                                                     cache):
    root = bmp_folder(tmp_path / "photos", cat_data)
    cache.mkdir(parents=True)
    mine, killed, busy = folder_key(root)[:32], "a" * 32, "b" * 32
    stale = [cache / f".{mine}.h5.x1.tmp", cache / f"..{killed}.h5.x2.tmp.y.tmp"]
    kept = [cache / f".{busy}.h5.x3.tmp", cache / "notes.tmp"]
    for path in stale + kept:
        path.write_bytes(b"half an HDF5 file")
    fd = os.open(cache / f"{busy}.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a process still packing that folder
        load_cached(root)
    finally:
        os.close(fd)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)


def test_an_interrupted_decoding_leaves_no_file_and_the_next_run_decodes(cat_data, tmp_path,
                                                                        cache):
    root = bmp_folder(tmp_path / "photos", cat_data)

    class Interrupting:  # the progress bar: Ctrl-C after the first batch
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, k):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_cached(root, show=lambda root, n: Interrupting())
    assert [p.name for p in cache.iterdir()] == [f"{folder_key(root)[:32]}.lock"]
    assert len(load_cached(root).y) == 8

