"""``logicat train`` of an image network (``cli/train_images.py``; ``--model convnet`` here) with
train's options: your own photos from ``logicat pack``,
early stopping, class weights, checkpoints killed and resumed, Ctrl-C, and what is refused."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("torch")

from tests.cli.conftest import kill_once, killed_and_resumed  # noqa: E402
from tests.conftest import TINY_ARGS, file_tensors  # noqa: E402
from tests.conftest import invoke as run  # noqa: E402


@pytest.fixture(scope="module")
def my_photos(tmp_path_factory, cat_data):
    """A newcomer's folder: 90 of the cat images as 96x96 JPEGs in cat/ and other/, packed."""
    root = tmp_path_factory.mktemp("mine")
    rng = np.random.default_rng(0)
    for i in rng.choice(len(cat_data.train_y), 90, replace=False):
        folder = root / "photos" / ("cat" if cat_data.train_y[i] else "other")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(cat_data.train_x[i]).resize((96, 96)).save(folder / f"{i}.jpg")
    packed = run("pack", root / "photos", root / "mine.h5", "-j", "1")
    assert packed.exit_code == 0, packed.output
    return root


def test_pack_then_train_a_convnet_on_your_own_photos_then_use_it(my_photos, photos_dir):
    out = my_photos / "mine.safetensors"
    trained = run("train", *TINY_ARGS, "-n", "3", "--train-file", my_photos / "mine.h5",
                  "--early-stopping", "--validation-fraction", "0.2", "--class-weight",
                  "balanced", "--print-every", "1", "-o", out)
    assert trained.exit_code == 0, trained.output
    lines = trained.output.splitlines()
    assert re.match(r"Training on .*mine\.h5: 90 images of 64x64 \(cat: \d+, other: \d+\)",
                    lines[0])
    assert len(re.findall(r"Cost after epoch \d: \d\.\d{6}", trained.output)) == 3
    assert "test accuracy" not in trained.output  # the cat test set is not the user's
    train_acc = float(re.search(r"train accuracy: (\S+) %", trained.output).group(1))
    val_acc = float(re.search(r"validation accuracy: (\S+) %, on the 18 training images "
                              r"early stopping held out", trained.output).group(1))
    from logicat import load_model

    clf = load_model(out)
    meta = clf.metadata_
    assert meta["class_names"] == ["other", "cat"] and meta["solver"] == "minibatch"
    assert meta["training_data"]["file"] == "mine.h5" and meta["training_data"][
        "n_samples"] == 90
    assert meta["metrics"] == {"train_accuracy": train_acc, "validation_accuracy": val_acc}
    assert meta["hyperparameters"]["class_weight"] == "balanced"
    assert meta["hyperparameters"]["early_stopping"] is True
    assert len(clf.metadata_["early_stopping"]) == 2

    predicted = run("predict", "-m", out, photos_dir / "tabby_cat.jpg")
    assert predicted.exit_code == 0, predicted.output
    assert re.search(r"p\(cat\) = 0\.\d{4}  (cat|other)", predicted.output)
    explained = run("explain", "-m", out, photos_dir / "tabby_cat.jpg", "-o",
                    my_photos / "why")
    assert explained.exit_code == 0, explained.output
    assert (my_photos / "why" / "tabby_cat.png").is_file()


def _train(tmp_path, *extra):
    return [sys.executable, "-m", "logicat", "train", *TINY_ARGS, "-n", "5", "--print-every", "1",
            "--seed", "3", *map(str, extra)]


@pytest.mark.slow  # three short ConvNet trainings in their own processes
def test_a_run_killed_after_a_checkpoint_and_resumed_ends_where_the_whole_run_does(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def between(ck):
        from logicat.io.files import load_checkpoint

        assert not (tmp_path / "resumed.safetensors").exists()
        assert 1 <= load_checkpoint(ck).meta["epoch"] < 5

    whole, resumed = killed_and_resumed(lambda *extra: _train(tmp_path, *extra), tmp_path, env,
                                        between)
    assert whole.keys() == resumed.keys()
    for name in whole:  # same machine, float32: the issue allows 1e-6; here it is exact
        np.testing.assert_allclose(resumed[name], whole[name], rtol=0, atol=1e-6, err_msg=name)


ENSEMBLE = ["--param", "n_members=2", "--param", "members=folds", "--param",
            "calibration=temperature"]


@pytest.mark.slow  # four short trainings of two members each, in their own processes
def test_an_ensemble_killed_in_its_second_member_and_resumed_ends_where_the_whole_run_does(
        tmp_path):
    """One checkpoint per fit: the first member's (at its end) is not trained again, the second
    goes on from its last checkpoint; the temperature comes out the same."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    whole = subprocess.run(_train(tmp_path, *ENSEMBLE, "-o", tmp_path / "whole.safetensors"),
                           check=True, capture_output=True, text=True, env=env)
    assert not list(tmp_path.glob("*.member-*"))  # no --checkpoint: its files are gone
    ck = tmp_path / "ck.safetensors"
    command = _train(tmp_path, *ENSEMBLE, "-o", tmp_path / "resumed.safetensors",
                     "--checkpoint", ck, "--checkpoint-every", "1")
    kill_once(command, env, "member 2/2: Cost after epoch 2:",
              tmp_path / "ck.member-2.safetensors")
    from logicat.io.files import load_checkpoint

    assert load_checkpoint(tmp_path / "ck.member-1.safetensors").meta["epoch"] == 5
    resumed = subprocess.run([*command, "--resume"], check=True, capture_output=True,
                             text=True, env=env)
    assert "member 1/2: Cost after epoch" not in resumed.stdout  # finished: not trained again
    assert "member 2/2: Cost after epoch 4" in resumed.stdout
    a, b = (file_tensors(tmp_path / f"{n}.safetensors") for n in ("whole", "resumed"))
    assert a.keys() == b.keys() and any(k.startswith("members.1.") for k in a)
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=0, atol=1e-6, err_msg=name)
    output = [line for line in whole.stdout.splitlines() if line.startswith("output:")]
    assert output == [line for line in resumed.stdout.splitlines() if line.startswith("output:")]


def test_an_ensemble_that_fails_late_leaves_no_checkpoint_behind(tmp_path, monkeypatch):
    """The members trained and checkpointed, then the calibration fails: the error is one
    line and the members' checkpoints (written beside --out, no --checkpoint given) are gone."""
    from logicat.core.errors import DivergenceError
    from logicat.training import ensemble

    def fails(*args, **kwargs):
        raise DivergenceError("the temperature did not converge (a test's failure)")

    monkeypatch.setattr(ensemble, "fit_temperature", fails)
    result = run("train", *TINY_ARGS, "-n", 1, "--print-every", 0, *ENSEMBLE,
                 "-o", tmp_path / "m.safetensors")
    assert result.exit_code == 1 and "the temperature did not converge" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_ensemble_is_not_spread_over_processes(tmp_path):
    result = run("train", *TINY_ARGS, *ENSEMBLE, "--nproc", "2", "-o", tmp_path / "m")
    assert result.exit_code == 2 and "--nproc spreads one" in result.output


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    ck = tmp_path / "ck.safetensors"
    with subprocess.Popen(_train(tmp_path, "-n", "50", "-o", tmp_path / "m", "--checkpoint",
                                 ck),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as job:
        for line in job.stdout:
            if line.startswith("Cost after epoch 1:"):
                job.send_signal(signal.SIGINT)
                break
        _, err = job.communicate(timeout=120)
    assert job.returncode == 130, err
    assert re.fullmatch(r"Interrupted after epoch \d+: saved a checkpoint to .*ck\.safetensors "
                        r"\(continue with: logicat train --resume --checkpoint "
                        r".*ck\.safetensors\)\.", err.strip())
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("args, flag, why", [
    (["--loss", "squared_error"], "--loss", "it trains on cross-entropy"),
    (["--alpha", "1"], "--alpha", "--weight-decay W"),
    (["--tol", "0.1"], "--tol", "it stops on the validation cost (--early-stopping)"),
    (["--scaling", "standardize"], "--scaling", "normalises each channel"),
])
def test_what_has_no_meaning_is_refused_with_the_reason(tmp_path, args, flag, why):
    result = run("train", "--model", "convnet", *args, "-o", tmp_path / "m")
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"Error: Invalid value for '{flag}': does not apply to --model convnet: " in message
    assert why in message.partition("--model convnet: ")[2]
    assert not (tmp_path / "m").exists()


def test_resume_needs_its_checkpoint(tmp_path):
    result = run("train", *TINY_ARGS, "--resume", "-o", tmp_path / "m")
    assert result.exit_code == 2 and "needs --checkpoint PATH" in result.output
    result = run("train", *TINY_ARGS, "--resume", "--checkpoint", tmp_path / "none.safetensors",
                 "-o", tmp_path / "m")
    assert result.exit_code == 2 and "no such checkpoint file" in result.output
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("args, flag, message", [
    (["--param", "widths=1000000"], "--param",
     "The 'widths' parameter must be a tuple of 1 to 8 ints in [1, 4096]. Got (1000000,)"),
    (["--param", "hidden=1000000000"], "--param",
     "The 'hidden' parameter must be an int in [0, 4096]. Got 1000000000"),
    (["--param", "learning_rate=1e300"], "--param",
     "The 'learning_rate' parameter must be a float in (0, 1000]. Got 1e+300"),
    (["--param", "mixup=1e308"], "--param", "The 'mixup' parameter must be a float in [0, 1000]"),
    (["--seed", "18446744073709551616"], "--seed",
     "The 'random_state' parameter must be an int in [0, 4294967295] or None"),
    (["--param", "widths=4096", "--param", "batch_size=1048576"], None,  # petabytes
     "the convnet 64x64x3 -> 4096 (1 conv(s) per block, gap) -> 1 in steps of 1048576 "
     "examples needs"),
])
def test_sizes_and_rates_are_bounded_before_any_work(tmp_path, args, flag, message):
    """What the reader of model files would refuse, or the machine could not hold, is refused
    at the command line with one line (the same table bounds both)."""
    result = run("train", "--model", "convnet", *args, "-o", tmp_path / "m")
    assert result.exit_code == 2, result.output
    line = result.output.strip().splitlines()[-1]
    assert message in line and (flag is None or f"Invalid value for '{flag}'" in line)
    assert not (tmp_path / "m").exists()
