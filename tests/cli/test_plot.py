"""``logicat plot`` on a model trained on your own photos: the pictures of its data by default
(the photos train held out, and those it trained on), or of --images / --test-file; and each
picture of a model trained on the cat data (the pictures themselves: tests/viz/)."""

from __future__ import annotations

import base64
import io
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from logicat import load_model
from tests.conftest import invoke

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


@pytest.fixture(autouse=True)
def cache(own_photos, monkeypatch):
    """The folder cache the model was trained with."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(own_photos[0].parent / "cache"))


@pytest.mark.parametrize("split", ["test", "train"])
def test_misclassified_draws_the_mistakes_on_your_photos(own_photos, tmp_path, split):
    photos, model = own_photos
    out = tmp_path / "m.svg"
    result = invoke("plot", "misclassified", "-m", model, "--split", split, "-o", out)
    assert result.exit_code == 0, result.output
    scored = json.loads(invoke("evaluate", "-m", model, "--split", split, "--format",
                               "json").stdout)
    (_, fp), (fn, _) = scored["confusion_matrix"]
    assert scored["data"]["n_samples"] == {"test": 12, "train": 48}[split]
    drawn = set(re.findall(r'id="misclassified-(\d+)"', out.read_text()))
    assert len(drawn) == fp + fn > 0


@pytest.mark.parametrize("picture", ["roc", "calibration", "sigmoid"])
def test_the_curves_of_your_photos(own_photos, tmp_path, picture):
    _, model = own_photos
    out = tmp_path / f"{picture}.svg"
    result = invoke("plot", picture, "-m", model, "-o", out)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    if picture == "roc":  # a curve of each part, the train's and the held-out one's
        assert "train (AUC" in text and "test (AUC" in text


def test_other_photos_are_drawn_as_the_test_set(own_photos, cat_data, tmp_path):
    from tests.data.test_image_sets import photo_folder

    _, model = own_photos
    more = photo_folder(tmp_path / "more", cat_data, n=20, start=100, classes=("cat", "dogs"))
    out = tmp_path / "m.svg"
    assert invoke("plot", "misclassified", "-m", model, "--images", more, "-o",
                  out).exit_code == 0
    scored = json.loads(invoke("evaluate", "-m", model, "--images", more, "--format",
                               "json").stdout)
    (_, fp), (fn, _) = scored["confusion_matrix"]
    assert len(set(re.findall(r'id="misclassified-(\d+)"', out.read_text()))) == fp + fn
    refused = invoke("plot", "misclassified", "-m", model, "--images", more, "--split",
                     "train", "-o", out)
    assert refused.exit_code == 2
    assert ("Invalid value for '--split': chooses from the model's own data; it does not "
            "apply to --images.") in refused.stderr


@pytest.mark.parametrize("picture", ["learning-curve", "sigmoid", "weights", "misclassified",
                                     "roc", "calibration"])
def test_plot_commands_write_their_picture(model_path, tmp_path, picture):
    out = tmp_path / f"{picture}.png"
    result = invoke("plot", picture, "--model", model_path, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output == f"Saved {out}\n"
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width > 300


def test_plot_errors_are_one_line(model_path, tmp_path):
    result = invoke("plot", "weights", "--model", tmp_path / "none.safetensors",
                    "--out", tmp_path / "w.png")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path / 'none.safetensors'}: no such model file."
    result = invoke("plot", "roc", "--model", model_path, "--out", tmp_path / "r.bmp")
    assert result.exit_code == 2 and "Got '.bmp' instead." in result.output
    assert not list(tmp_path.iterdir())


def test_weights_svg_embeds_the_64x64_weight_images(model_path, tmp_path):
    from logicat.viz.weights import weights_images

    out = tmp_path / "w.svg"
    assert invoke("plot", "weights", "-m", model_path, "-o", out).exit_code == 0
    panels = {}
    for group in ET.parse(out).getroot().iter(f"{SVG}g"):
        if group.get("id", "").startswith("weights-"):
            (image,) = group.iter(f"{SVG}image")
            payload = image.get(f"{XLINK}href").split(",", 1)[1]
            panels[group.get("id")] = np.asarray(
                Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB"), dtype=float
            )
    assert sorted(panels) == ["weights-negative", "weights-positive", "weights-sum"]
    assert {a.shape for a in panels.values()} == {(64, 64, 3)}
    positive, negative = weights_images(load_model(model_path).coef_)
    # embedded as 8-bit RGB: within one grey level of the [0, 1] images
    np.testing.assert_allclose(panels["weights-positive"] / 255, positive, atol=1 / 255 + 1e-9)
    np.testing.assert_allclose(panels["weights-negative"] / 255, negative, atol=1 / 255 + 1e-9)
