"""``logicat train``'s stopping rules on the cat data: divergence is an error, early stopping
waits for the lesson's rise, says when it stopped, and keeps its validation history."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from logicat.io.files import read_model
from tests.conftest import invoke as run  # noqa: E402


def test_a_learning_rate_of_50_diverges_and_writes_nothing(tmp_path):
    out = tmp_path / "model.safetensors"
    out.write_bytes(b"the user's earlier model")
    before = hashlib.sha256(out.read_bytes()).hexdigest()
    result = run("train", "--learning-rate", 50, "--print-every", 0, "-o", out,
                 "--plot", tmp_path / "curve.png")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: Gradient descent diverged at iteration 1 (cost 5255.33): it climbed to more "
        "than 100 times where it started (0.693147). The learning rate 50 is too large; try a "
        "smaller one."
    ]
    assert hashlib.sha256(out.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


@pytest.mark.parametrize("rate", [0.01, 0.001, 0.0001])
def test_the_lessons_learning_rates_do_not_diverge(tmp_path, rate):
    """The sweep's rates, with its 1500 iterations: 0.01 rises to 3.2 on the way, and settles."""
    result = run("train", "--learning-rate", rate, "-n", 1500, "--print-every", 0,
                 "-o", tmp_path / "m.safetensors")
    assert result.exit_code == 0, result.output


def test_early_stopping_waits_for_the_rise_and_says_when_it_stopped(tmp_path):
    out, curve = tmp_path / "es.safetensors", tmp_path / "es.png"
    result = run("train", "--early-stopping", "--print-every", 0, "-o", out, "--plot", curve)
    assert result.exit_code == 0, result.output
    line = next(s for s in result.output.splitlines() if s.startswith("Stopped early"))
    model = read_model(out)
    val = model.validation_cost_history
    kept = model.metadata["early_stopping"]["best_iteration"]
    assert line == (f"Stopped early at iteration {model.n_iter - 1}; best validation cost "
                    f"{val[kept]:.6f} at iteration {kept} (its parameters are kept).")
    # not during the first iterations' rise: the training cost oscillates for ~265 iterations
    # on the 188 images left for training, and the watch starts once it falls steadily
    assert model.n_iter > 100 and kept == model.n_iter - 6  # patience 5 after the best
    assert len(val) == len(model.cost_history) == model.n_iter
    assert val[kept] == val[kept:].min()
    test_accuracy = float(result.output.split("test accuracy: ")[1].split(" %")[0])
    assert test_accuracy > 66.0  # better than always "cat" (and not the no-skill start)
    assert curve.read_bytes()[:4] == b"\x89PNG"


def test_the_learning_curve_draws_the_validation_cost_and_the_kept_iteration(tmp_path):
    from logicat.viz.plots import model_learning_curves_figure

    out = tmp_path / "es.safetensors"
    assert run("train", "--early-stopping", "--print-every", 0, "-o", out).exit_code == 0
    model = read_model(out)
    ax = model_learning_curves_figure(model).axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    kept = model.metadata["early_stopping"]["best_iteration"]
    assert labels == ["learning rate = 0.005", "validation cost", f"kept: iteration {kept}"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), model.validation_cost_history)


@pytest.mark.parametrize("flag, costs", [("--quiet", []), ("--verbose", list(range(6))),
                                         (None, [0, 5])])
def test_quiet_and_verbose(flag, costs, tmp_path):
    """--quiet: the results only; --verbose: the cost after every iteration."""
    from tests.conftest import invoke

    args = ["train", "-n", "6", "--print-every", "5", "--out", tmp_path / "m.safetensors"]
    result = invoke(*args, *([flag] if flag else []))
    assert result.exit_code == 0, result.output
    printed = [int(line.split()[3].rstrip(":")) for line in result.output.splitlines()
               if line.startswith("Cost after iteration")]
    assert printed == costs
    assert "test accuracy: " in result.output
    both = invoke(*args, "--quiet", "--verbose")
    assert both.exit_code == 2 and "--quiet" in both.output.splitlines()[-1]


def test_log_csv_writes_the_runs_costs(tmp_path):
    import csv

    from logicat.io.files import read_model
    from tests.conftest import invoke

    log = tmp_path / "run.csv"
    result = invoke("train", "--hidden", "3", "-n", "12", "--print-every", "0", "--log-csv",
                    log, "--out", tmp_path / "m.safetensors")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(log.read_text().splitlines()))
    history = read_model(tmp_path / "m.safetensors").cost_history
    assert [float(r["cost"]) for r in rows] == list(history)
    same = invoke("train", "-n", "2", "--log-csv", tmp_path / "m.safetensors", "--out",
                  tmp_path / "m.safetensors")
    assert same.exit_code == 2 and "--log-csv" in same.output
