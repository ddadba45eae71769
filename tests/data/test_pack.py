"""logicat pack / logicat.fast.pack and the parallel loader, against the data layer's decoding."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from logicat.core.errors import DataFileError
from logicat.data import list_image_folder, load_h5_dataset, load_images
from logicat.data.decode import load_images_parallel
from logicat.data.pack import pack_image_folder
from tests.conftest import invoke


@pytest.fixture(scope="module")
def image_root(tmp_path_factory):
    """60 camera-like JPEGs and PNGs in cat/ and dog/, plus one file that is not an image."""
    root = tmp_path_factory.mktemp("folder")
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (root / name).mkdir()
        for i in range(30):
            pixels = rng.integers(0, 256, size=(96 + i, 128, 3), dtype=np.uint8)
            suffix = ".png" if i % 5 == 0 else ".jpg"
            Image.fromarray(pixels).save(root / name / f"{i:02d}{suffix}")
    (root / "cat" / "broken.jpg").write_bytes(b"\xff\xd8 this is not a JPEG")
    return root


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


def test_parallel_loader_matches_load_images(image_root, photos_dir):
    paths = sorted(image_root.rglob("*.*")) + sorted(photos_dir.iterdir())
    paths.append(image_root / "missing.jpg")
    expected = load_images(paths, size=32)
    got = load_images_parallel(paths, size=32, workers=2, batch=7)
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[1] == expected[1]
    assert got[2] == expected[2] and len(got[2]) == 2


def test_pack_with_no_readable_image_fails_without_writing(tmp_path):
    for name in ("cat", "dog"):
        (tmp_path / "root" / name).mkdir(parents=True)
        (tmp_path / "root" / name / "x.jpg").write_text("not an image")
    out = tmp_path / "out.h5"
    with pytest.raises(DataFileError, match="none of the 2 image files could be read"):
        pack_image_folder(tmp_path / "root", out, workers=1)
    assert not out.exists() and not list(tmp_path.glob(".out.h5.*"))


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


def test_cli_predict_with_workers_prints_what_the_serial_loop_computes(image_root, cat_features,
                                                                       tmp_path):
    from logicat.data.features import images_to_features, preprocessing_spec
    from logicat.estimators import LogisticRegression

    X, y, _, _ = cat_features
    model = tmp_path / "m.safetensors"
    clf = LogisticRegression(max_iter=20).fit(X, y)
    clf.save(model, preprocessing=preprocessing_spec(64), class_names=["non-cat", "cat"],
             positive_class="cat")
    results = [invoke("predict", "-m", str(model), str(image_root), "-j", j)
               for j in ("1", "2")]
    assert results[0].stdout == results[1].stdout
    for result in results:
        assert result.exit_code == 1  # one unreadable file, reported, the others predicted
        assert "broken.jpg" in result.stderr
    files = sorted(p for p in image_root.rglob("*.*"))
    images, ok_paths, _ = load_images(files)
    proba = clf.predict_proba(images_to_features(images))[:, 1]
    lines = results[1].stdout.splitlines()
    assert len(lines) == len(ok_paths) == 60
    for line, path, p in zip(lines, ok_paths, proba, strict=True):
        assert line.startswith(str(path)) and f"p(cat) = {p:.4f}" in line


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
