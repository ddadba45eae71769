"""``logicat report`` on a model trained on your own photos: by default their held-out part,
found again through the folder cache; --images and --test-file (the page itself:
tests/viz/test_report.py)."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from logicat.io.files import read_metadata, read_model, save_model
from tests.conftest import invoke
from tests.data.test_image_sets import photo_folder


@pytest.fixture(autouse=True)
def cache(own_photos, monkeypatch):
    """The folder cache the model was trained with."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(own_photos[0].parent / "cache"))


def _cells(text: str, metric: str) -> list[str]:
    row = re.search(rf'<tr data-metric="{metric}">.*?</tr>', text).group(0)
    return re.findall(r'<td class="num">([^<]*)</td>', row)


def _columns(text: str) -> list[str]:
    return re.findall(r"<th>(train|test)</th>", re.search(r'<table id="metrics">.*?</tr>',
                                                         text).group(0))


def test_the_report_of_your_photos_is_of_those_train_held_out(own_photos, tmp_path):
    photos, model = own_photos
    out = tmp_path / "r.html"
    result = invoke("report", "-m", model, "-o", out)
    assert result.exit_code == 0, result.output
    assert (result.stdout, result.stderr) == (f"Saved the report to {out}\n", "")
    text = out.read_text(encoding="utf-8")
    meta = read_metadata(model)
    assert _columns(text) == ["train", "test"]
    examples = re.search(r"<td>examples \(positive\)</td>(.*?)</tr>", text).group(1)
    assert re.findall(r'<td class="num">(\d+) \(\d+\)</td>', examples) == ["48", "12"]
    # the accuracies train printed, on the same images
    assert [float(c) for c in _cells(text, "accuracy")] == pytest.approx(
        [meta["metrics"]["train_accuracy"] / 100, meta["metrics"]["test_accuracy"] / 100],
        abs=5e-5)
    real = os.path.realpath(photos)
    assert (f"train: {real}/ (the part train trained on); test: {real}/ (the part train held "
            "out: 20 % of each class).") in text
    assert f"{meta['training_data']['sha256']}  (matches)" in text
    assert "<th>predicted dogs</th><th>predicted cat</th>" in text  # your classes' names
    scored = json.loads(invoke("evaluate", "-m", model, "--format", "json").stdout)
    (tn, fp), (fn, tp) = scored["confusion_matrix"]
    assert (f'<table id="confusion-test"><caption>test</caption><tr><th></th><th>predicted '
            f'dogs</th><th>predicted cat</th></tr><tr><th>true dogs</th><td class="num">{tn}'
            f'</td><td class="num">{fp}</td></tr>') in text


def test_a_folder_changed_since_is_said_in_one_line(own_photos, tmp_path):
    photos, model = own_photos
    changed = tmp_path / "photos"
    shutil.copytree(photos, changed)  # other files: another listing
    edited = tmp_path / "edited.safetensors"  # a model file naming the copy as its folder
    save_model(read_model(model), edited, training_data=dict(
        read_metadata(model)["training_data"], folder=str(changed)))
    result = invoke("report", "-m", edited, "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Note: {os.path.realpath(changed)}/ has changed since {edited} was trained (photos "
        "added, removed or edited: its listing's SHA-256 differs); its held-out part is drawn "
        "again from what it holds now and may hold photos the model trained on.\n")
    assert "(DIFFERS from the training data)" in (tmp_path / "r.html").read_text()


def test_a_folder_no_longer_there_is_one_line(own_photos, tmp_path):
    photos, model = own_photos
    moved = tmp_path / "moved"
    shutil.copytree(photos, moved)
    save_model(read_model(model), tmp_path / "gone.safetensors", training_data=dict(
        read_metadata(model)["training_data"], folder=str(tmp_path / "gone")))
    result = invoke("report", "-m", tmp_path / "gone.safetensors", "-o", tmp_path / "r.html")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"Error: {tmp_path / 'gone'}: no such folder (-m {tmp_path / 'gone.safetensors'} was "
        "trained on it; pass --images DIR or --test-file FILE to score it on other images)\n")
    assert not (tmp_path / "r.html").exists()
    result = invoke("report", "-m", tmp_path / "gone.safetensors", "--images", moved, "-o",
                    tmp_path / "r.html")  # other photos: the report has their column only
    assert result.exit_code == 0, result.output
    assert _columns((tmp_path / "r.html").read_text()) == ["test"]


def test_other_images_are_the_test_column(own_photos, cat_data, tmp_path):
    _, model = own_photos
    more = photo_folder(tmp_path / "more", cat_data, n=20, start=100, classes=("cat", "dogs"))
    out = tmp_path / "r.html"
    assert invoke("report", "-m", model, "--images", more, "-o", out).exit_code == 0
    text = out.read_text(encoding="utf-8")
    examples = re.search(r"<td>examples \(positive\)</td>(.*?)</tr>", text).group(1)
    assert re.findall(r'<td class="num">(\d+) \(\d+\)</td>', examples) == ["48", "20"]
    assert f"; test: {more}." in text


def test_a_packed_file_is_scored_alone(own_photos, tmp_path):
    """A model trained on a packed file (--train-file): the report of --test-file FILE has its
    test column only; without a data option, the same refusal as evaluate's."""
    photos, _ = own_photos
    packed = tmp_path / "mine.h5"
    assert invoke("pack", photos, packed).exit_code == 0
    model = tmp_path / "packed.safetensors"
    assert invoke("train", "--train-file", packed, "-n", 3, "--print-every", 0, "--out",
                  model).exit_code == 0
    out = tmp_path / "r.html"
    result = invoke("report", "-m", model, "--test-file", packed, "-o", out)
    assert result.exit_code == 0, result.output
    assert _columns(out.read_text()) == ["test"]
    refused = invoke("report", "-m", model, "-o", out)
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[-1] == (
        f"Error: -m {model}: the model was trained on mine.h5, not on the cat data; pass "
        "--images DIR or --test-file FILE to say what to score it on.")

