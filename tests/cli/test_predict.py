"""``logicat predict`` on a folder of class folders: the true label, right or wrong, the accuracy,
``--errors``; through the installed console script, one line per photo and a one-line error
for a file that is no image; ``--format json|csv`` and several models through click's runner."""

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from logicat import load_model
from tests.cli.conftest import run_logicat
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


def test_predict_prints_one_line_per_photo(trained, photos_dir):
    _, out = trained
    result = run_logicat("predict", "--model", out / "model.safetensors", photos_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    photos = sorted(p.name for p in photos_dir.iterdir())
    assert [Path(line.split()[0]).name for line in lines] == photos
    for line in lines:
        path, _, equals, p, label = line.split()
        assert equals == "="
        assert 0.0 <= float(p) <= 1.0
        assert label == ("cat" if float(p) > 0.5 else "non-cat")


def test_predict_reports_unreadable_files_and_exits_non_zero(trained, photos_dir, tmp_path):
    _, out = trained
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    result = run_logicat("predict", "-m", out / "model.safetensors",
                         photos_dir / "tabby_cat.jpg", bad)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1
    assert result.stdout.startswith(str(photos_dir / "tabby_cat.jpg"))
    assert result.stderr.startswith(f"Error: {bad}: ")
    assert "Traceback" not in result.stderr


# ------------------------------------------------- predict --format json | csv (click's runner)
@pytest.fixture(scope="module")
def mlp_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("mlp") / "mlp.safetensors"
    result = invoke("train", "--hidden", 7, "-n", 5, "--print-every", 0, "--out", path)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def inputs(photos_dir, tmp_path):
    """Two photos with a file that is no image between them, in that order."""
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    return [photos_dir / "tabby_cat.jpg", bad, photos_dir / "coffee.png"]


def _expected_p(model_path, photos) -> list[float]:
    """p(cat) of each photo by the model's own predict_proba."""
    from logicat.data import load_images
    from logicat.data.features import apply_preprocessing

    clf = load_model(model_path)
    images, _, failures = load_images(photos, size=64)
    assert not failures
    return list(clf.predict_proba(apply_preprocessing(images, clf.metadata_["preprocessing"]))[
        :, 1])


def test_predict_json_is_one_record_per_file_in_input_order(trained, inputs):
    model = trained[1] / "model.safetensors"
    result = invoke("predict", "-m", model, "--format", "json", *inputs)
    assert result.exit_code == 1  # a file could not be read: the documented status
    assert result.stderr == ""  # its error is in its record, not on stderr
    records = json.loads(result.stdout)
    assert [r["path"] for r in records] == [str(p) for p in inputs]
    assert set(records[1]) == {"path", "error"} and records[1]["error"]
    expected = _expected_p(model, [inputs[0], inputs[2]])
    text = invoke("predict", "-m", model, *inputs).stdout.splitlines()
    for record, p, line in zip([records[0], records[2]], expected, text, strict=True):
        assert set(record) == {"path", "probability", "label", "positive_class"}
        assert record["probability"] == pytest.approx(p, abs=1e-12)
        assert record["positive_class"] == "cat"
        assert record["label"] == ("cat" if p > 0.5 else "non-cat")
        assert line.split() == [record["path"], "p(cat)", "=", f"{record['probability']:.4f}",
                                record["label"]]


def test_predict_json_stays_valid_when_no_image_can_be_read(trained, tmp_path):
    bad = [tmp_path / "a.jpg", tmp_path / "b.png"]
    for path in bad:
        path.write_bytes(b"\x89PNG junk")
    for fmt in ("json", "csv"):
        result = invoke("predict", "-m", trained[1] / "model.safetensors", "--format", fmt,
                        *bad)
        assert result.exit_code == 1
        assert result.stderr == "Error: none of the 2 images could be read.\n"
        if fmt == "json":
            assert [set(r) for r in json.loads(result.stdout)] == [{"path", "error"}] * 2
        else:
            rows = list(csv.DictReader(io.StringIO(result.stdout)))
            assert [r["path"] for r in rows] == [str(p) for p in bad]
            assert all(r["error"] and r["probability"] == "" for r in rows)


def test_predict_csv_has_the_json_numbers(trained, inputs):
    model = trained[1] / "model.safetensors"
    result = invoke("predict", "-m", model, "--format", "csv", *inputs)
    assert result.exit_code == 1 and result.stderr == ""
    assert result.stdout.splitlines()[0] == "path,probability,label,error"
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    records = json.loads(invoke("predict", "-m", model, "--format", "json", *inputs).stdout)
    assert [r["path"] for r in rows] == [str(p) for p in inputs]
    for row, record in zip(rows, records, strict=True):
        if "error" in record:
            assert (row["probability"], row["label"], row["error"]) == ("", "", record["error"])
        else:
            assert float(row["probability"]) == record["probability"]  # repr: no digit lost
            assert (row["label"], row["error"]) == (record["label"], "")


def test_predict_several_models_key_each_answer_by_model_file(trained, mlp_path, inputs):
    model = trained[1] / "model.safetensors"
    models = [str(model), str(mlp_path)]
    single = {m: json.loads(invoke("predict", "-m", m, "--format", "json", *inputs).stdout)
              for m in models}
    both = json.loads(invoke("predict", "-m", model, "-m", mlp_path, "--format", "json",
                             *inputs).stdout)
    for i, record in enumerate(both):
        if "error" in record:
            assert record == single[models[0]][i]
            continue
        assert list(record["probabilities"]) == models  # in -m order
        for m in models:
            assert record["probabilities"][m] == single[m][i]["probability"]
            assert record["labels"][m] == single[m][i]["label"]
            assert record["positive_classes"][m] == "cat"
    result = invoke("predict", "-m", model, "-m", mlp_path, "--format", "csv", *inputs)
    header = result.stdout.splitlines()[0].split(",")
    assert header == ["path", f"probability:{model}", f"label:{model}",
                      f"probability:{mlp_path}", f"label:{mlp_path}", "error"]
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    for row, record in zip(rows, both, strict=True):
        for m in models:
            if "error" not in record:
                assert float(row[f"probability:{m}"]) == record["probabilities"][m]


def test_predict_text_is_the_default_and_a_model_is_keyed_once(trained, inputs):
    model = trained[1] / "model.safetensors"
    default, text = (invoke("predict", "-m", model, *args, *inputs)
                     for args in ([], ["--format", "text"]))
    assert (default.exit_code, default.stdout, default.stderr) == (
        text.exit_code, text.stdout, text.stderr)
    assert text.stderr.startswith(f"Error: {inputs[1]}: ")
    result = invoke("predict", "-m", model, "-m", model, "--format", "json", *inputs)
    assert result.exit_code == 2 and result.stdout == ""
    assert (f"Invalid value for '--model': expected each model once (--format json keys the "
            f"answers by model file). Got {model} twice instead.") in result.stderr


def test_cli_predict_with_workers_prints_what_the_serial_loop_computes(image_root, cat_features,
                                                                       tmp_path):
    from logicat.data import load_images
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
