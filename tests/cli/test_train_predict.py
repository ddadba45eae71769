"""The ``logicat`` command through its real entry point (the installed console script)."""

import subprocess
import sys
from pathlib import Path

import pytest

from logicat import load_model

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
    assert "accuracy   0.7000" in text
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
