"""The ``logicat`` command through its real entry point (the installed console script), and
``predict --format json|csv`` through click's runner."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from logicat import load_model
from tests.conftest import invoke

LOGICAT = str(Path(sys.executable).with_name("logicat"))


def run(*args, cwd=None):
    return subprocess.run(
        [LOGICAT, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The reference run through ``logicat train``: its output and the files it wrote."""
    out = tmp_path_factory.mktemp("train")
    result = run("train", "--out", out / "model.safetensors", "--plot", out / "curve.png")
    return result, out


def test_train_prints_the_lessons_cost_table_and_accuracies(trained):
    result, out = trained
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Cost after iteration 0: 0.693147"
    assert lines[1] == "Cost after iteration 100: 0.584508"
    assert lines[19] == "Cost after iteration 1900: 0.140872"
    assert "train accuracy: 99.04306220095694 %" in lines
    assert "test accuracy: 70.0 %" in lines
    # Piped output: no progress bar on stderr.
    assert "it/s" not in result.stderr


def test_train_writes_the_model_and_the_learning_curve(trained):
    _, out = trained
    clf = load_model(out / "model.safetensors")
    assert clf.n_iter_ == 2000
    meta = clf.metadata_
    assert meta["metrics"] == {"train_accuracy": 99.04306220095694, "test_accuracy": 70.0}
    assert meta["class_names"] == ["non-cat", "cat"]
    assert meta["positive_class"] == "cat"
    assert meta["preprocessing"]["image_size"] == 64
    assert meta["preprocessing"]["scaling"] == "divide_by_255"
    assert meta["training_data"]["sha256"] == (
        "fbe56ab67c3ae28d564e3a644189117976d6b31af0a3ce9bb17dbf22908af242"
    )
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_prints_one_line_per_photo(trained, photos_dir):
    _, out = trained
    result = run("predict", "--model", out / "model.safetensors", photos_dir)
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
    result = run("predict", "-m", out / "model.safetensors", photos_dir / "tabby_cat.jpg", bad)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1
    assert result.stdout.startswith(str(photos_dir / "tabby_cat.jpg"))
    assert result.stderr.startswith(f"Error: {bad}: ")
    assert "Traceback" not in result.stderr


def test_evaluate_prints_the_test_metrics(trained):
    _, out = trained
    result = run("evaluate", "--model", out / "model.safetensors")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "accuracy          0.7000" in text.splitlines()
    # 50 test images, 33 cats: the confusion matrix rows add up to 17 and 33.
    rows = [line.split() for line in text.splitlines() if line.startswith(("non-cat ", "cat "))]
    assert [sum(map(int, r[1:])) for r in rows] == [17, 33]


def test_info_shows_the_metadata(trained):
    _, out = trained
    result = run("info", out / "model.safetensors")
    assert result.returncode == 0, result.stderr
    assert (
        "sha256: fbe56ab67c3ae28d564e3a644189117976d6b31af0a3ce9bb17dbf22908af242" in result.stdout
    )
    assert "learning_rate: 0.005" in result.stdout
    assert "cost_history: 2000 values, first 0.693147" in result.stdout


@pytest.mark.parametrize("command", ["", "train", "predict", "evaluate", "info", "download"])
def test_help_everywhere(command):
    result = run(*([command] if command else []), "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: logicat")


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
