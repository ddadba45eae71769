"""``logicat plot`` on a model trained on your own photos: the pictures of its data by default
(the photos train held out, and those it trained on), or of --images / --test-file (the
pictures of the cat data: tests/cli/test_evaluate_sweep_plot.py, tests/viz/)."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import invoke


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
