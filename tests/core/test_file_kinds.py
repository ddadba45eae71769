"""What a file is by its first bytes (``logicat.core.file_kinds``): the signatures that cannot
be mistaken, text quoted by its start, and nothing said of what is not recognised."""

from __future__ import annotations

import pickle
import zipfile

import pytest

from logicat.core.file_kinds import SNIFF_BYTES, file_kind
from tests import paths


def _start(path) -> bytes:
    with open(path, "rb") as f:
        return f.read(SNIFF_BYTES)


def test_real_files_are_named_by_their_signature(tmp_path):
    assert file_kind(_start(paths.CAT_DATA / "train_catvnoncat.h5")).startswith("an HDF5 file")
    photos = paths.SHARED_DATA / "photos"
    assert file_kind(_start(photos / "tabby_cat.jpg")).startswith("a JPEG image")
    with zipfile.ZipFile(tmp_path / "model.pt", "w") as z:  # torch.save's format
        z.writestr("archive/data.pkl", b"")
    assert file_kind(_start(tmp_path / "model.pt")).startswith("a zip archive (a PyTorch .pt")
    for protocol in (2, 3, 4, 5):
        assert file_kind(pickle.dumps([1.0], protocol=protocol)).startswith("a Python pickle")


@pytest.mark.parametrize("start, kind", [
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "a PNG image (give images to 'logicat predict -m "
     "MODEL IMAGE')"),
    (b"GIF89a\x01\0", "a GIF image"),
    (b"RIFF\x10\0\0\0WEBPVP8 ", "a WebP image"),
    (b"\x1f\x8b\x08\0", "a gzip-compressed file (decompress it first)"),
    (b"# logicat\n\nIs this a cat?", "a text file that starts with '# logicat'"),
    (b"hello", "a text file that starts with 'hello'"),
    ("\u00e9t\u00e9 caf\u00e9".encode() * 8, "a text file that starts with 'été caféété "
     "caféété caféété caféété c...'"),
    (b"\n\n   \n", "a blank text file"),
])
def test_what_the_first_bytes_say(start, kind):
    assert file_kind(start[:SNIFF_BYTES]).startswith(kind)


@pytest.mark.parametrize("start", [b"", b"\0\0\0\0\0\0\0\0\x10", bytes(range(256))[:64],
                                   b"\x80\x99not a pickle", b"abc\x00def"])
def test_what_they_do_not_say_is_none(start):
    assert file_kind(start) is None
