"""``logicat pack``: a folder of class folders to a cat-data HDF5 file that ``train --train-file``
trains on; an OUT without an extension gets .h5 (the packing itself: tests/data/test_pack.py)."""

from __future__ import annotations

from logicat.data import load_h5_dataset
from tests.conftest import invoke


def test_cli_pack_then_train_on_the_file(image_root, tmp_path):
    out = tmp_path / "data.h5"
    result = invoke("pack", str(image_root), str(out), "--size", "16", "-j", "1")
    assert result.exit_code == 0, result.output
    assert "Wrote 60 images (30 cat, 30 dog) of 16x16" in result.output
    assert "Skipped 1 unreadable image(s):" in result.output and "broken.jpg" in result.output
    x, y, _ = load_h5_dataset(out)
    assert x.shape == (60, 16, 16, 3)
    result = invoke("train", "--train-file", str(out), "-n", "3",
                    "-o", str(tmp_path / "m.safetensors"))
    assert result.exit_code == 0, result.output
    assert "Cost after iteration 0: 0.693147" in result.output

    result = invoke("pack", str(tmp_path / "nowhere"), str(out))
    assert result.exit_code == 1 and "no such folder" in result.output


def test_an_out_without_an_extension_gets_h5_and_the_line_says_so(image_root, tmp_path):
    """'pack photos mine' writes mine.h5 (the file is HDF5); a name with an extension is kept;
    --image-size is train's name for --size, which still works."""
    result = invoke("pack", str(image_root), str(tmp_path / "mine"),
                    "--image-size", "8", "-j", "1")
    assert result.exit_code == 0, result.output
    assert f"of 8x8 to {tmp_path / 'mine.h5'} (OUT had no extension: .h5 added)" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.h5"]
    assert load_h5_dataset(tmp_path / "mine.h5")[0].shape == (60, 8, 8, 3)
    result = invoke("pack", str(image_root), str(tmp_path / "mine.hdf5"),
                    "--size", "8", "-j", "1")
    assert result.exit_code == 0, result.output
    assert "added" not in result.output and (tmp_path / "mine.hdf5").is_file()
