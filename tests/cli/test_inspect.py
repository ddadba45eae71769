"""``logicat evaluate [--cv] [--format json]`` and ``logicat info``: the numbers they print are
the library's, and info leaves out what means nothing for the model."""

from __future__ import annotations

import json

import pytest

from logicat import load_model
from logicat.evaluate.metrics import bootstrap_intervals, cross_validate_metrics, model_metrics
from tests.cli.conftest import run_logicat
from tests.conftest import invoke as run


def test_evaluate_prints_roc_auc_log_loss_and_cross_validation(model_path, cat_features):
    X_train, y_train, X_test, y_test = cat_features
    result = run("evaluate", "--model", model_path, "--cv", 3)
    assert result.exit_code == 0, result.output
    out = result.output
    clf = load_model(model_path)
    m = model_metrics(clf, X_test, y_test)
    lines = out.splitlines()
    ci = bootstrap_intervals(y_test, clf.predict_proba(X_test)[:, 1])
    for line in (f"accuracy          {m.accuracy:.4f}  [{ci['accuracy'][0]:.4f}, "
                 f"{ci['accuracy'][1]:.4f}]", f"F1                {m.f1:.4f}",
                 f"ROC AUC           {m.roc_auc:.4f}",
                 f"log loss          {m.log_loss:.4f}  [{ci['log_loss'][0]:.4f}, "
                 f"{ci['log_loss'][1]:.4f}]",
                 f"balanced accuracy {m.balanced_accuracy:.4f}  [{ci['balanced_accuracy'][0]:.4f}"
                 f", {ci['balanced_accuracy'][1]:.4f}]",
                 f"ECE (10 bins)     {m.ece:.4f}  [{ci['ece'][0]:.4f}, {ci['ece'][1]:.4f}]",
                 "[in brackets: 95 % bootstrap intervals, 2000 resamples of the 50 images]",
                 "confusion matrix (rows: true, columns: predicted)"):
        assert line in lines
    cv = cross_validate_metrics(clf, X_train, y_train, cv=3, random_state=0)
    assert "stratified 3-fold cross-validation on the training set (209 images" in out
    assert "folds seeded with 0): trains 3 LogisticRegressions of " in out
    assert "  fold 1/3: 70 held out, accuracy " in out and "; about " in out
    for key, name in (("accuracy", "accuracy"), ("roc_auc", "ROC AUC"), ("log_loss", "log loss"),
                      ("balanced_accuracy", "balanced accuracy"), ("ece", "ECE (10 bins)")):
        values = cv[key]
        assert f"{name:<17} {values.mean():.4f} ± {values.std():.4f}" in lines
    assert out.count("held out, accuracy") == 3


def test_evaluate_json_has_the_numbers_of_the_text(model_path, cat_features):
    from logicat.evaluate.metrics import METRICS

    _, _, X_test, y_test = cat_features
    text = run("evaluate", "--model", model_path, "--cv", 3)
    result = run("evaluate", "--model", model_path, "--cv", 3, "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert out["data"] == {"source": out["data"]["source"], "split": "test", "n_samples": 50,
                           "n_positive": 33, "classes": ["non-cat", "cat"], "skipped": []}
    assert out["data"]["source"].endswith("test_catvnoncat.h5")
    assert f"test set: 50 images (33 cat) from {out['data']['source']}" in text.stdout
    m = model_metrics(load_model(model_path), X_test, y_test)
    assert out["metrics"] == pytest.approx(m.scalars(), abs=1e-12)
    assert out["confusion_matrix"] == m.confusion_matrix.tolist()
    lines = text.stdout.splitlines()
    width = max(len(name) for _, name in METRICS)  # the numbers in one column
    for key, name in METRICS:  # every number of the text, Brier score and ECE too, is in the JSON
        interval = out["intervals"].get(key)
        within = f"  [{interval[0]:.4f}, {interval[1]:.4f}]" if interval else ""
        assert f"{name:<{width}} {out['metrics'][key]:.4f}{within}" in lines
    assert out["intervals"]["level"] == 0.95
    rows = [list(map(int, line.split()[1:])) for line in lines
            if line.startswith(("non-cat ", "cat "))]
    assert rows == out["confusion_matrix"]
    cv = out["cross_validation"]
    assert (cv["k"], cv["n_samples"], cv["random_state"]) == (3, 209, 0)
    assert cv["data"].endswith("train_catvnoncat.h5")
    for key, name in METRICS:
        assert f"{name:<{width}} {cv['mean'][key]:.4f} ± {cv['std'][key]:.4f}" in lines
    for i, fold in enumerate(cv["folds"]):
        assert any(line.startswith(f"  fold {i + 1}/3: {fold['n_samples']} held out, accuracy "
                                   f"{fold['accuracy']:.4f}") for line in lines)
    assert [key for key, _ in METRICS] == list(cv["folds"][0])[1:]


def test_evaluate_refuses_impossible_cv(model_path):
    result = run("evaluate", "--model", model_path, "--cv", 1)
    assert result.exit_code == 2 and "--cv" in result.output
    result = run("evaluate", "--model", model_path, "--cv", 100)
    assert result.exit_code == 2  # an option's value, whenever it is found to be impossible
    assert result.output.strip().splitlines()[-1].startswith("Error: The 'cv' parameter must be")


# ------------------------------------------------------------------------------ logicat info
def _info_keys(output: str) -> set[str]:
    return {line.split(":")[0].strip() for line in output.splitlines()}


def _info_table(output: str) -> list[str]:
    """The layer table of ``info``'s output: from its heading to its "not trained:" line."""
    lines = output.splitlines()
    start = lines.index("layers:") + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("not trained:"))
    return lines[start:end + 1]


def _info_totals(output: str) -> dict[str, int]:
    """{"total": ..., "trained": ..., "not trained": ...}: the table's last three lines."""
    return {line.split(":")[0]: int(line.split(":")[1].split()[0].replace(",", ""))
            for line in _info_table(output)[-3:]}


def test_info_leaves_out_what_means_nothing_for_logistic_regression(model_path):
    result = run("info", model_path)
    assert result.exit_code == 0, result.output
    keys = _info_keys(result.output)
    for dropped in ("callbacks", "device", "activation", "momentum", "beta_1", "beta_2",
                    "epsilon", "lr_decay", "shuffle", "validation_fraction", "n_iter_no_change"):
        assert dropped not in keys, dropped
    assert {"learning_rate", "optimizer", "batch_size", "tol", "early_stopping"} <= keys
    lines = result.output.splitlines()
    assert _info_totals(result.output) == {"total": 12289, "trained": 12289,  # w (12288,), b
                                           "not trained": 0}
    assert "hidden_layer_sizes" not in keys and "architecture" not in keys  # the table says
    assert ("  resize: any image to 64x64 RGB by Lanczos, the aspect ratio not kept (EXIF "
            "orientation applied, transparency on white)") in lines
    every = json.loads(run("info", "--json", model_path).output)  # --json: all of the file
    assert {"callbacks", "device", "momentum"} <= set(every["hyperparameters"])
    assert every["architecture"]["input_shape"] == [12288]


def test_info_shows_what_a_network_and_its_optimizer_use(tmp_path):
    path = tmp_path / "adam.safetensors"
    trained = run("train", "--hidden", "7", "-n", 3, "--optimizer", "adam", "--batch-size", 64,
                  "--print-every", 0, "--out", path)
    assert trained.exit_code == 0, trained.output
    result = run("info", path)
    keys = _info_keys(result.output)
    assert {"activation", "beta_1", "beta_2", "epsilon", "shuffle"} <= keys
    assert "momentum" not in keys and "device" not in keys and "callbacks" not in keys
    assert "  activation: relu" in result.output.splitlines()
    assert _info_totals(result.output)["trained"] == 12288 * 7 + 7 + 7 + 1
    assert result.output.count("hidden_layer_sizes: [7]") == 1  # once, not again in architecture


def test_info_counts_a_convnets_learned_values_apart_from_its_statistics(tmp_path,
                                                                         one_torch_thread,
                                                                         monkeypatch):
    path = tmp_path / "cnn.safetensors"
    trained = run("train", "--model", "convnet", "-n", 1, "--param", "widths=4,8", "--out",
                  path)
    assert trained.exit_code == 0, trained.output
    monkeypatch.setenv("COLUMNS", "100")  # the terminal's width, as shutil reads it
    result = run("info", path)
    learned = (4 * 3 * 9 + 2 * 4) + (8 * 4 * 9 + 2 * 8) + (8 + 1)  # conv, BN weight+bias, dense
    statistics = 2 * 3 + 2 * 4 + 2 * 8  # input mean, std; BN running mean, var
    assert _info_totals(result.output) == {"total": learned + statistics, "trained": learned,
                                           "not trained": statistics}
    assert (f"not trained: {statistics:>3}  normalize mean/std; batchnorm running_mean/"
            "running_var") in result.output
    assert result.output.count("widths: [4, 8]") == 1  # a hyperparameter, once
    table = _info_table(result.output)
    assert table[0].split() == ["layer", "type", "output", "shape", "params"]
    assert "features.4  conv2d 3x3, 8  (8, 32, 32)      288" in table
    assert len(table) == 2 + 1 + 13 + 1 + 3  # heading, rule, input, 13 layers, rule, totals
    for columns in (60, 64, 120):  # no line of the table wider than the terminal
        monkeypatch.setenv("COLUMNS", str(columns))
        narrow = _info_table(run("info", path).output)
        assert max(len(line) for line in narrow) <= columns
        assert narrow[:-1] == table[:-1] and narrow[-1].endswith(
            "…" if columns < len(table[-1]) else "running_var")
    keys = _info_keys(result.output)
    assert "device" in keys and "callbacks" not in keys  # torch trains it, on some device
    assert "momentum" not in keys and "crop_min_scale" not in keys  # adamw, crop "pad"
    assert "average_decay" not in keys and "average_start" not in keys  # no weight averaging
    assert {"crop_pad", "warmup"} <= keys


def test_evaluate_prints_the_test_metrics(trained):
    _, out = trained
    result = run_logicat("evaluate", "--model", out / "model.safetensors")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "accuracy          0.7000  [0.5800, 0.8200]" in text.splitlines()  # and what 50 say
    # 50 test images, 33 cats: the confusion matrix rows add up to 17 and 33.
    rows = [line.split() for line in text.splitlines() if line.startswith(("non-cat ", "cat "))]
    assert [sum(map(int, r[1:])) for r in rows] == [17, 33]


def test_info_shows_the_metadata(trained):
    _, out = trained
    result = run_logicat("info", out / "model.safetensors")
    assert result.returncode == 0, result.stderr
    assert (
        "sha256: fbe56ab67c3ae28d564e3a644189117976d6b31af0a3ce9bb17dbf22908af242" in result.stdout
    )
    assert "learning_rate: 0.005" in result.stdout
    assert "cost_history: 2000 values, first 0.693147" in result.stdout
