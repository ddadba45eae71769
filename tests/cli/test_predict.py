"""``logicat predict`` on a folder of class folders: the true label, right or wrong, the accuracy,
``--errors`` (the formats' shapes and the reading of files are tested in
tests/cli/test_train_predict.py)."""

import csv
import io
import json
import shutil

import numpy as np
import pytest

from logicat import load_model
from tests.conftest import invoke

N_EACH = 6  # images of each class in the folder


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """The reference logistic regression, trained on the cat data (well under a second)."""
    path = tmp_path_factory.mktemp("model") / "model.safetensors"
    result = invoke("train", "--print-every", 0, "--out", path)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, cat_data):
    """``DIR/cat/`` and ``DIR/non-cat/``: the first N_EACH test images of each class, as PNG
    files (lossless, 64x64: decoded, they are the test set's pixels), and their true labels."""
    from PIL import Image

    root = tmp_path_factory.mktemp("labelled")
    truth = {}
    for label, name in enumerate(cat_data.classes):
        (root / name).mkdir()
        for i in np.flatnonzero(cat_data.test_y == label)[:N_EACH]:
            path = root / name / f"test{i:02d}.png"
            Image.fromarray(cat_data.test_x[i]).save(path)
            truth[str(path)] = (name, i)
    return root, truth


def _expected(model, cat_data, truth) -> dict[str, bool]:
    """{path: whether the model's own predict gets the image right}, from the test set."""
    clf = load_model(model)
    rows = [i for _, i in truth.values()]
    from logicat.data.features import apply_preprocessing

    predicted = clf.predict(apply_preprocessing(cat_data.test_x[rows],
                                                clf.metadata_["preprocessing"]))
    return {path: bool(p == cat_data.test_y[i])
            for (path, (_, i)), p in zip(truth.items(), predicted, strict=True)}


def test_text_gives_the_true_label_the_verdict_and_the_accuracy(model, labelled, cat_data):
    root, truth = labelled
    expected = _expected(model, cat_data, truth)
    assert 0 < sum(expected.values()) < len(expected)  # some right, some wrong: a real test
    result = invoke("predict", "-m", model, root)
    assert result.exit_code == 0, result.output
    *rows, last = result.stdout.splitlines()
    assert len(rows) == 2 * N_EACH
    for line in rows:
        path, true, name, p, equals, value, label, verdict = line.split()
        assert (true, p, equals) == ("true:", "p(cat)", "=")
        assert name == truth[path][0]
        assert verdict == ("right" if expected[path] else "wrong")
        assert (label == name) == expected[path]
    n_right = sum(expected.values())
    assert last == (f"accuracy {n_right / len(expected):.4f} on the {len(expected)} images in "
                    f"class folders ({n_right} right, {len(expected) - n_right} wrong)")


def test_json_and_csv_give_the_true_label_and_whether_it_was_right(model, labelled, cat_data):
    root, truth = labelled
    expected = _expected(model, cat_data, truth)
    records = json.loads(invoke("predict", "-m", model, root, "--format", "json").stdout)
    assert {r["path"] for r in records} == set(truth)
    for record in records:
        assert record["true_label"] == truth[record["path"]][0]
        assert record["correct"] is expected[record["path"]]
        assert record["correct"] == (record["label"] == record["true_label"])
    result = invoke("predict", "-m", model, root, "--format", "csv")
    assert result.stdout.splitlines()[0] == "path,true_label,probability,label,correct,error"
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    for row, record in zip(rows, records, strict=True):
        assert (row["path"], row["true_label"], float(row["probability"]), row["correct"]) == (
            record["path"], record["true_label"], record["probability"],
            str(record["correct"]))


def test_errors_lists_only_the_mistakes(model, labelled, cat_data):
    root, truth = labelled
    wrong = {path for path, right in _expected(model, cat_data, truth).items() if not right}
    text = invoke("predict", "-m", model, root, "--errors")
    assert text.exit_code == 0, text.output
    *rows, last = text.stdout.splitlines()
    assert {line.split()[0] for line in rows} == wrong
    assert all(line.endswith("wrong") for line in rows)
    assert last == invoke("predict", "-m", model, root).stdout.splitlines()[-1]  # all of them
    records = json.loads(invoke("predict", "-m", model, root, "--errors", "--format",
                                "json").stdout)
    assert {r["path"] for r in records} == wrong and not any(r["correct"] for r in records)
    rows = list(csv.DictReader(io.StringIO(
        invoke("predict", "-m", model, root, "--errors", "--format", "csv").stdout)))
    assert {r["path"] for r in rows} == wrong


def test_several_models_each_have_their_verdict(model, labelled, tmp_path):
    root, truth = labelled
    other = tmp_path / "short.safetensors"
    assert invoke("train", "-n", 3, "--print-every", 0, "--out", other).exit_code == 0
    records = json.loads(invoke("predict", "-m", model, "-m", other, root, "--format",
                                "json").stdout)
    for record in records:
        assert record["true_label"] == truth[record["path"]][0]
        assert record["correct"] == {m: record["labels"][m] == record["true_label"]
                                     for m in (str(model), str(other))}
    text = invoke("predict", "-m", model, "-m", other, root).stdout.splitlines()
    assert [line.split(":")[0] for line in text[-2:]] == [str(model), str(other)]


def test_the_models_own_class_folders_give_the_labels(labelled, tmp_path, monkeypatch):
    """A model trained on photos of cat/ and dogs/ knows the labels of a folder of cat/ and
    dogs/ (the cat data's model, of cat and non-cat, does not: the test below)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root, truth = labelled
    photos = tmp_path / "photos"
    shutil.copytree(root, photos)
    (photos / "non-cat").rename(photos / "dogs")
    mine = tmp_path / "mine.safetensors"
    result = invoke("train", "--images", photos, "-n", 3, "--print-every", 0, "--out", mine)
    assert result.exit_code == 0, result.output
    records = json.loads(invoke("predict", "-m", mine, photos, "--format", "json").stdout)
    assert sorted(r["true_label"] for r in records) == ["cat"] * N_EACH + ["dogs"] * N_EACH


@pytest.mark.parametrize("layout", ["other classes", "flat", "one image"])
def test_other_folders_are_predicted_as_before(model, labelled, tmp_path, layout):
    root, truth = labelled
    if layout == "other classes":  # class folders, but not the model's: cat/ and dogs/
        target = tmp_path / "pets"
        shutil.copytree(root, target)
        (target / "non-cat").rename(target / "dogs")
    elif layout == "flat":
        target = tmp_path / "flat"
        target.mkdir()
        for path in truth:
            shutil.copy(path, target)
    else:
        target = next(iter(truth))
    result = invoke("predict", "-m", model, target)
    assert result.exit_code == 0, result.output
    assert all(len(line.split()) == 5 for line in result.stdout.splitlines())  # no true label
    records = json.loads(invoke("predict", "-m", model, target, "--format", "json").stdout)
    assert all(set(r) == {"path", "probability", "label", "positive_class"} for r in records)
    assert invoke("predict", "-m", model, target, "--format", "csv").stdout.splitlines()[0] == (
        "path,probability,label,error")
    refused = invoke("predict", "-m", model, target, "--errors")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert ("Invalid value for '--errors': lists the images a model got wrong, which needs "
            "their true class: expected a folder of class folders named like the model's "
            "classes (cat/ and non-cat/, the layout train --images reads). Got none among "
            f"{target}.") in refused.stderr
