"""``logicat train`` through its real entry point (the installed console script): the lesson's
cost table, the model file and the learning curve; ``--help`` of every command."""


import pytest

from logicat import load_model
from tests.cli.conftest import run_logicat


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


@pytest.mark.parametrize("command", ["", "train", "predict", "evaluate", "info", "download"])
def test_help_everywhere(command):
    result = run_logicat(*([command] if command else []), "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: logicat")


def test_early_stopping_is_reported_in_the_runs_unit_with_its_held_out_accuracy(tmp_path):
    """A network stopped early on mini-batches: its epochs named as epochs, and the accuracy
    on the training images early stopping held out printed and recorded, as for a ConvNet."""
    import re

    from tests.conftest import invoke

    out = tmp_path / "m.safetensors"
    result = invoke("train", "--hidden", "7", "-n", "60", "--batch-size", "16", "--optimizer",
                    "adam", "-a", "0.003", "--early-stopping", "--n-iter-no-change", "2",
                    "--seed", "1", "--print-every", "0", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert re.search(r"Stopped early at epoch \d+; best validation cost \d\.\d{6} at epoch \d+",
                     result.output), result.output
    said = re.search(r"validation accuracy: (\S+) %, on the 21 training images early "
                     r"stopping held out", result.output)
    assert said, result.output
    assert load_model(out).metadata_["metrics"]["validation_accuracy"] == float(said.group(1))
