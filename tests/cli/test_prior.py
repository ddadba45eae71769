"""``--prior P`` on the commands that predict (``predict``, ``evaluate``, and ``evaluate --cv``):
decisions at a stated class mix, by Bayes' rule on the logit, and the output step in words
(``info``, ``predict``'s text, ``evaluate``'s JSON)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from logicat.io.files import read_model, save_model
from logicat.nn.output import Output
from tests.conftest import invoke as run

BAD_PRIOR = "expected 'train', 'balanced' or a number in (0, 1)"
UNRECORDED = "this model does not record the class mix it was trained on"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(a tiny logistic regression trained by ``logicat train``, the same model in a file that
    does not record its training mix, as files written before format 4)."""
    folder = tmp_path_factory.mktemp("prior")
    path = folder / "m.safetensors"
    result = run("train", "--model", "logistic", "--iterations", 50, "--print-every", 0,
                 "--out", path)
    assert result.exit_code == 0, result.output
    model = read_model(path)
    old = folder / "old.safetensors"
    save_model(replace(model, output=Output(),
                       metadata={k: v for k, v in model.metadata.items() if k != "output"}), old)
    assert read_model(old).output.training_prior is None
    return path, old


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _json(*args):
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_training_mix_is_the_datas_share_of_cats(models, cat_data):
    path, _ = models
    pi = read_model(path).output.training_prior
    assert pi == pytest.approx(cat_data.train_y.mean(), abs=1e-15)  # 72 cats of 209
    assert pi == pytest.approx(72 / 209, abs=1e-15)


@pytest.mark.parametrize("prior", ["balanced", "0.8"])
def test_predict_prior_moves_the_logit_by_bayes_rule(models, photos_dir, prior):
    path, _ = models
    pi = read_model(path).output.training_prior
    target = 0.5 if prior == "balanced" else float(prior)
    photos = [photos_dir / "tabby_cat.jpg", photos_dir / "coffee.png", photos_dir / "rocket.jpg"]
    plain = _json("predict", "-m", path, *photos)
    shifted = _json("predict", "-m", path, *photos, "--prior", prior)
    p = np.array([r["probability"] for r in plain])
    expected = _sigmoid(_logit(p) + math.log(target / (1 - target)) - math.log(pi / (1 - pi)))
    got = np.array([r["probability"] for r in shifted])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert not np.allclose(got, p, atol=1e-3)  # the shift is visible
    assert [r["label"] for r in shifted] == [("cat" if q > 0.5 else "non-cat") for q in got]
    assert list(shifted[0]) == list(plain[0])  # the same records, same keys
    csv_text = run("predict", "-m", path, *photos, "--prior", prior, "--format", "csv").stdout
    assert csv_text.splitlines()[0] == "path,probability,label,error"
    assert [float(line.split(",")[1]) for line in csv_text.splitlines()[1:]] == list(got)


def test_predict_text_says_once_at_which_class_mix_it_decides(models, photos_dir):
    path, _ = models
    photos = [photos_dir / "tabby_cat.jpg", photos_dir / "coffee.png"]
    plain = run("predict", "-m", path, *photos)
    assert plain.exit_code == 0, plain.output
    assert len(plain.stdout.splitlines()) == 2  # at the training mix: nothing more
    assert "deciding" not in plain.stdout
    shifted = run("predict", "-m", path, *photos, "--prior", "balanced")
    assert shifted.exit_code == 0, shifted.output
    lines = shifted.stdout.splitlines()
    assert lines[0] == "deciding at a class mix of 0.5 positive (balanced, trained at 0.344)"
    assert len(lines) == 3 and lines[1].startswith(str(photos[0]))
    assert shifted.stdout.count("deciding") == 1
    two = run("predict", "-m", path, "-m", path, photos[0], "--prior", "0.25").stdout
    assert two.splitlines()[0] == f"{path}: deciding at a class mix of 0.25 positive " \
                                  "(trained at 0.344)"
    same = run("predict", "-m", path, *photos, "--prior", "train")  # the training mix, named
    assert same.stdout == plain.stdout


@pytest.mark.parametrize("command", ["predict", "evaluate", "serve"])
@pytest.mark.parametrize("value", ["2", "abc", "0", "1", "nan", "-0.5"])
def test_a_bad_prior_is_a_usage_error_naming_the_option(models, photos_dir, command, value):
    path, _ = models
    args = [command, "-m", path, "--prior", value]
    if command == "predict":
        args.append(photos_dir / "tabby_cat.jpg")
    result = run(*args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert errors == [f"Error: Invalid value for '--prior': {BAD_PRIOR} (the fraction of "
                      f"positives to decide at), got {value!r}."]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_file_that_does_not_record_its_mix_decides_only_at_it(models, photos_dir, command):
    path, old = models
    args = [command, "-m", old] + ([photos_dir / "tabby_cat.jpg"] if command == "predict" else [])
    refused = run(*args, "--prior", "balanced")
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1
    assert refused.output.startswith(f"Error: {old}: {UNRECORDED}")
    ok = run(*args)  # without --prior (or with "train") it answers as it always did
    assert ok.exit_code == 0, ok.output
    assert run(*args, "--prior", "train").output == ok.output
    if command == "predict":
        assert ok.output == run("predict", "-m", path, photos_dir / "tabby_cat.jpg").output


def test_evaluate_json_has_the_prior_the_output_and_the_new_metrics(models, cat_features):
    from logicat.evaluate.metrics import METRICS, classification_metrics

    path, old = models
    _, _, X_test, y_test = cat_features
    model = read_model(path)
    pi = model.output.training_prior
    plain = _json("evaluate", "-m", path)
    assert plain["prior"] == pi
    assert plain["output"] == {"members": 1, "combine": "logit", "temperature": 1.0,
                               "prior": "train", "training_prior": pi}
    out = _json("evaluate", "-m", path, "--prior", "balanced")
    assert out["prior"] == 0.5
    assert out["output"] == {**plain["output"], "prior": "balanced"}
    expected = classification_metrics(y_test, model.proba(X_test, prior="balanced"))
    assert out["metrics"] == pytest.approx(expected.scalars(), abs=1e-12)
    assert list(out["metrics"]) == [key for key, _ in METRICS]
    assert {"balanced_accuracy", "ece"} <= set(out["metrics"])
    assert out["metrics"]["balanced_accuracy"] != plain["metrics"]["balanced_accuracy"]
    assert out["confusion_matrix"] == expected.confusion_matrix.tolist()
    assert _json("evaluate", "-m", path, "--prior", "0.3")["prior"] == 0.3
    unknown = _json("evaluate", "-m", old)
    assert unknown["prior"] is None and "training_prior" not in unknown["output"]


def test_evaluate_text_says_the_class_mix_and_aligns_every_metric(models):
    from logicat.evaluate.metrics import METRICS

    path, _ = models
    text = run("evaluate", "-m", path, "--prior", "balanced")
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[1] == ("the model: deciding at a class mix of 0.5 positive (balanced, trained "
                        "at 0.344)")
    out = _json("evaluate", "-m", path, "--prior", "balanced")
    numbers, intervals = out["metrics"], out["intervals"]
    width = max(len(name) for _, name in METRICS)
    for key, name in METRICS:  # balanced accuracy and ECE too, the numbers in one column
        within = f"  [{intervals[key][0]:.4f}, {intervals[key][1]:.4f}]" if key in intervals else ""
        assert f"{name:<{width}} {numbers[key]:.4f}{within}" in lines
    assert "deciding" not in run("evaluate", "-m", path).stdout


def test_evaluate_cv_scores_the_refitted_models_at_the_prior(models, cat_features):
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    from logicat.estimators import estimator_of
    from logicat.evaluate.metrics import classification_metrics

    path, _ = models
    X, y, _, _ = cat_features
    out = _json("evaluate", "-m", path, "--cv", 2, "--prior", "balanced")
    cv = out["cross_validation"]
    assert cv["prior"] == "balanced"
    estimator = estimator_of(read_model(path), path)
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=0).split(X, y)
    for fold, (train, held_out) in zip(cv["folds"], folds, strict=True):
        clf = clone(estimator).fit(X[train], y[train])
        expected = classification_metrics(
            y[held_out], clf.predict_proba(X[held_out], prior="balanced")[:, 1])
        assert {k: v for k, v in fold.items() if k != "n_samples"} == pytest.approx(
            expected.scalars(), abs=1e-12)
    plain = _json("evaluate", "-m", path, "--cv", 2)["cross_validation"]
    assert plain["prior"] == "train"
    assert plain["mean"]["log_loss"] != pytest.approx(cv["mean"]["log_loss"], abs=1e-6)
    text = run("evaluate", "-m", path, "--cv", 2, "--prior", "balanced").stdout
    assert ("trains 2 LogisticRegressions of 50 iterations, each deciding at a class mix of "
            "0.5 positive (balanced)") in text


def test_info_shows_the_output_step_in_words(models):
    path, old = models
    lines = run("info", path).stdout.splitlines()
    assert lines[1] == "output: deciding at the training class mix (0.344 positive)"
    assert "  training_prior: " not in "\n".join(lines)  # the raw entry: --json has it
    assert run("info", old).stdout.splitlines()[1] == "output: deciding at the training class mix"
    every = json.loads(run("info", "--json", path).stdout)
    assert every["output"]["training_prior"] == read_model(path).output.training_prior
