"""Listing a folder of photos (``logicat.data.folders``): class folders whose names could not
be class names are refused when the folder is listed; entries that cannot be read are listed
and left to the decoder, which skips them (the rest of the module's tests are in
tests/data/test_catvnoncat.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from logicat.core.errors import DataFileError
from logicat.data.folders import list_image_folder, load_image_folder


def _folder(root: Path, negative: str = "dog") -> Path:
    for cls, colour in (("cat", (250, 0, 0)), (negative, (0, 0, 250))):
        (root / cls).mkdir(parents=True)
        Image.new("RGB", (8, 8), colour).save(root / cls / "a.png")
    return root


@pytest.mark.parametrize("name, shown", [
    ("oth\ter", "'oth\\ter'"), ("two\nlines", "'two\\nlines'"), (" ", "' '"),
    (" dog", "' dog'"), ("dog ", "'dog '"), (os.fsdecode(b"oth\xffer"), "'oth\\xffer'")])
def test_a_class_folder_whose_name_cannot_be_a_class_name_is_refused(tmp_path, name, shown):
    root = _folder(tmp_path / "pets", negative=name)
    with pytest.raises(DataFileError) as err:
        list_image_folder(root)
    message = str(err.value)
    assert message.startswith(f"{root}: expected class folders named by printable names")
    assert f"Got the folder {shown} instead" in message and "\n" not in message
    message.encode()  # shown safely: no surrogate left


def test_a_good_class_name_with_inner_spaces_and_accents_is_listed(tmp_path):
    root = _folder(tmp_path / "pets", negative="chien de garde é")
    assert list_image_folder(root)[1] == ("chien de garde é", "cat")


def test_entries_that_cannot_be_read_are_listed_and_skipped_by_the_decoder(tmp_path):
    root = _folder(tmp_path / "pets")
    os.symlink("gone.jpg", root / "cat" / "dangling.jpg")
    os.symlink("loop.jpg", root / "cat" / "loop.jpg")
    os.mkfifo(root / "dog" / "fifo.png")
    (root / "dog" / os.fsdecode(b"junk\xff.jpg")).write_bytes(b"junk")
    names = sorted(path.name for path, _ in list_image_folder(root)[0])
    assert names == sorted(["a.png", "a.png", "dangling.jpg", "loop.jpg", "fifo.png",
                            os.fsdecode(b"junk\xff.jpg")])
    skipped = []
    data = load_image_folder(root, size=8, on_skip=lambda path, why: skipped.append(path.name))
    assert len(data.paths) == 2 and len(skipped) == 4


def test_what_a_folder_loads_to_shows_what_it_holds_not_its_pixels(tmp_path):
    loaded = load_image_folder(_folder(tmp_path / "pets"), size=16)
    assert repr(loaded) == ("ImageFolderData(2 images of 16x16x3 uint8; cat: 1, dog: 1; paths: "
                            "2; classes: ('dog', 'cat'))")
    images, labels, paths, classes = loaded  # still the named tuple it was
    assert images.shape == (2, 16, 16, 3) and classes == ("dog", "cat")
