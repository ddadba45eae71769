"""Fuzzing the three parsers of strangers' files: model files, HDF5 data files, images.

Each property starts from a real file - a model file of each family (logistic regression, a
network, a ConvNet) - and mutates it - truncation, bit flips, byte runs overwritten, JSON header
values replaced, tensor values replaced - and asserts that the parser either returns a
usable result or refuses with its one-line error; nothing else escapes (no traceback, no
NaN). ``make test`` runs a fixed, derandomised handful of examples; a longer run:

    LOGICAT_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/hostile/test_fuzz.py -p no:randomly

(``LOGICAT_FUZZ_RANDOM=1`` draws new examples on every run instead of the fixed ones.)
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from logicat.core.errors import DataFileError, ImageLoadError, ModelFileError
from logicat.data import load_h5_dataset, load_image
from logicat.data.chunks import H5Images
from logicat.io.files import read_model
from tests.hostile.common import CAT_DATA, FUZZ, PHOTOS, apply_edits, byte_edits, small_model


# ------------------------------------------------------------------------------ model files
def _network_file(folder: Path, kind: str) -> Path:
    """A real file of each family on 8x8 images: logistic regression, a network of two hidden
    layers (with standardisation), a ConvNet of two blocks (BatchNorm, its statistics)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (24, 8, 8, 3), dtype=np.uint8)
    y = np.arange(24) % 2
    if kind == "logistic":
        return small_model(folder)
    if kind == "mlp":
        from logicat import MLPClassifier

        clf = MLPClassifier(hidden_layer_sizes=(5, 3), max_iter=5, standardize=True,
                            random_state=0).fit(images.reshape(24, -1) / 255, y)
    else:
        from logicat import ConvNetClassifier

        clf = ConvNetClassifier(widths=(3, 4), max_iter=1, batch_size=8, crop_pad=2,
                                device="cpu").fit(images, y)
    from logicat.data.features import preprocessing_spec

    return clf.save(folder / f"{kind}.safetensors", preprocessing=preprocessing_spec(8))


@pytest.fixture(scope="module", params=["logistic", "mlp", "convnet"])
def model_bytes(request, tmp_path_factory) -> bytes:
    if request.param == "convnet":
        pytest.importorskip("torch")
    return _network_file(tmp_path_factory.mktemp("fuzz"), request.param).read_bytes()


def _check_model(path: Path) -> None:
    """Refused in one line naming the file, or usable: finite probabilities for the darkest,
    the brightest and a grey image, and no floating-point warning on the way."""
    try:
        model = read_model(path)
    except ModelFileError as err:
        assert str(err).startswith(f"{path}: ") and "\n" not in str(err)
        return
    side = model.preprocessing["image_size"]
    images = np.stack([np.full((side, side, 3), v, np.uint8) for v in (0, 128, 255)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        p = model.proba(model.features(images))
    assert np.all(np.isfinite(p) & (p >= 0) & (p <= 1))


@FUZZ
@given(data=st.data())
def test_model_files_with_flipped_or_cut_bytes(model_bytes, tmp_path, data):
    header = 8 + int.from_bytes(model_bytes[:8], "little")  # most edits land in the header
    size = st.sampled_from([header, len(model_bytes)])
    edits = data.draw(size.flatmap(byte_edits))
    path = tmp_path / "m.safetensors"
    path.write_bytes(apply_edits(model_bytes, edits))
    _check_model(path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6)


def _key_paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _key_paths(v, (*prefix, k))


@FUZZ
@given(data=st.data())
def test_model_files_with_edited_header_values(model_bytes, tmp_path, data):
    from safetensors.numpy import load, save

    n = int.from_bytes(model_bytes[:8], "little")
    meta = json.loads(json.loads(model_bytes[8:8 + n])["__metadata__"]["logicat"])
    where = data.draw(st.sampled_from(list(_key_paths(meta))[1:]))
    target = meta
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = data.draw(JSON_VALUES)
    path = tmp_path / "m.safetensors"
    path.write_bytes(save(load(model_bytes), metadata={"logicat": json.dumps(meta)}))
    _check_model(path)


TENSOR_VALUES = st.floats(width=32) | st.sampled_from([0.0, -0.0, -1e-5, 1e-45, 3e38, -3e38,
                                                       1e308, float("nan"), float("inf")])


@FUZZ
@given(data=st.data())
def test_model_files_with_edited_tensors(model_bytes, tmp_path, data):
    """Any value anywhere in any tensor - weights, BatchNorm statistics, the standardisation -
    is refused or predicts finite probabilities."""
    from safetensors.numpy import load, save

    n = int.from_bytes(model_bytes[:8], "little")
    meta = json.loads(model_bytes[8:8 + n])["__metadata__"]
    tensors = {k: v.copy() for k, v in load(model_bytes).items()}
    for _ in range(data.draw(st.integers(1, 3))):
        name = data.draw(st.sampled_from(sorted(tensors)))
        index = data.draw(st.integers(0, tensors[name].size - 1))
        with np.errstate(over="ignore"):
            tensors[name].flat[index] = data.draw(TENSOR_VALUES)
    path = tmp_path / "m.safetensors"
    path.write_bytes(save(tensors, metadata=meta))
    _check_model(path)


# ------------------------------------------------------------------------------ HDF5 files
@pytest.fixture(scope="module")
def h5_bytes(tmp_path_factory) -> bytes:
    """The first 6 cat images, as an HDF5 file of the cat-data layout (~75 KB)."""
    import h5py

    path = tmp_path_factory.mktemp("fuzz") / "small.h5"
    with h5py.File(CAT_DATA / "train_catvnoncat.h5") as f, h5py.File(path, "w") as out:
        out["train_set_x"] = f["train_set_x"][:6]
        out["train_set_y"] = np.array([0, 1, 0, 1, 0, 1])
        out["list_classes"] = f["list_classes"][()]
    return path.read_bytes()


@FUZZ
@given(data=st.data())
def test_hdf5_files_with_flipped_or_cut_bytes(h5_bytes, tmp_path, data):
    edits = data.draw(st.sampled_from([4096, len(h5_bytes)]).flatmap(byte_edits))
    path = tmp_path / "d.h5"
    path.write_bytes(apply_edits(h5_bytes, edits))
    for read in (load_h5_dataset, H5Images):
        try:
            result = read(path)
        except DataFileError as err:
            assert str(err).startswith(f"{path}: ") and "\n" not in str(err)
            continue
        if isinstance(result, H5Images):
            with result:
                for _, _, chunk in result.chunks(4):
                    assert chunk.dtype == np.uint8
        else:
            x, y, _ = result
            assert x.dtype == np.uint8 and set(np.unique(y)) <= {0, 1}


# ------------------------------------------------------------------------------ images
@pytest.fixture(scope="module")
def image_files() -> dict[str, bytes]:
    """Small real images: a JPEG, a PNG with transparency, a GIF, a TIFF, a WebP."""
    from PIL import Image

    photo = Image.open(PHOTOS / "tabby_cat.jpg").convert("RGB").resize((40, 30))
    out = {}
    for fmt, image in (("JPEG", photo), ("PNG", photo.convert("RGBA")),
                       ("GIF", photo.convert("P")), ("TIFF", photo), ("WEBP", photo)):
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        out[fmt] = buffer.getvalue()
    return out


@FUZZ
@given(data=st.data())
def test_uploaded_images_with_flipped_or_cut_bytes(image_files, data):
    fmt = data.draw(st.sampled_from(sorted(image_files)))
    raw = image_files[fmt]
    edits = data.draw(st.sampled_from([64, len(raw)]).flatmap(byte_edits))
    source = io.BytesIO(apply_edits(raw, edits))
    source.name = f"upload.{fmt.lower()}"
    try:
        image = load_image(source)
    except ImageLoadError as err:
        assert str(err).startswith(f"upload.{fmt.lower()}: ") and "\n" not in str(err)
        return
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
