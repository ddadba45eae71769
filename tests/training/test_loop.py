"""Checkpoints: a resumed run equals an uninterrupted one bit for bit; Ctrl-C saves one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from logicat import LogisticRegression, ModelFileError
from logicat.io.files import load_checkpoint
from logicat.training.callbacks import Checkpoint, GracefulInterrupt, TrainingInterrupted
from tests.conftest import invoke

CONFIGS = {
    "adam-minibatch-shuffled": dict(optimizer="adam", learning_rate=0.05, batch_size=16),
    "nesterov-l2-tol": dict(optimizer="nesterov", learning_rate=0.2, alpha=0.5, tol=1e-12,
                            n_iter_no_change=15),
    "momentum-early-stopping-weights": dict(
        optimizer="momentum", learning_rate=0.05, early_stopping=True, n_iter_no_change=1000,
        class_weight="balanced", lr_schedule="inverse", lr_decay=0.01,
    ),
    "minibatch5-standardized-cosine": dict(batch_size=5, learning_rate=0.05, standardize=True,
                                           lr_schedule="cosine", init="random"),
}


@pytest.fixture(scope="module")
def problem():
    X, y = make_classification(n_samples=150, n_features=8, weights=[0.7], random_state=3)
    return StandardScaler().fit_transform(X) * 3 + 1, y


class StopAfter:
    """Simulates a crash: stops training after ``n`` iterations."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, state) -> bool:
        return state.iteration + 1 >= self.n


def _assert_same_fit(a: LogisticRegression, b: LogisticRegression) -> None:
    assert np.array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    assert np.array_equal(a.cost_history_, b.cost_history_)
    assert a.n_iter_ == b.n_iter_
    if a.validation_cost_history_ is not None:
        assert np.array_equal(a.validation_cost_history_, b.validation_cost_history_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tol at max_iter
@pytest.mark.parametrize("name", CONFIGS)
def test_resumed_run_equals_uninterrupted_bit_for_bit(problem, tmp_path, name):
    X, y = problem
    params = dict(CONFIGS[name], max_iter=40, random_state=7)
    whole = LogisticRegression(**params).fit(X, y)

    path = tmp_path / "run.ckpt.safetensors"
    saver = Checkpoint(path, every=10)
    first = LogisticRegression(**params, callbacks=[saver, StopAfter(23)]).fit(X, y)
    assert first.n_iter_ == 23 and saver.saved_at == 20
    # A fresh estimator (another process, say) with the same settings picks up at iteration 20.
    resumed = LogisticRegression(**params).fit(X, y, resume_from=path)
    _assert_same_fit(resumed, whole)
    assert resumed.predict_proba(X).tobytes() == whole.predict_proba(X).tobytes()


def test_checkpoint_holds_optimizer_and_rng_state_as_safetensors(problem, tmp_path):
    X, y = problem
    path = tmp_path / "ck.safetensors"
    LogisticRegression(optimizer="adam", batch_size=32, max_iter=4, random_state=0,
                       callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    with safe_open(path, framework="numpy") as f:  # a plain safetensors file: no pickle
        names = set(f.keys())
    assert {"coef", "intercept", "cost_history", "optimizer.t", "optimizer.m.0",
            "optimizer.v.1"} <= names
    snap = load_checkpoint(path)
    assert snap.meta["epoch"] == 4 and snap.meta["optimizer"] == "adam"
    assert snap.meta["rng_state"]["bit_generator"] == "PCG64"
    assert int(snap.tensors["optimizer.t"][0]) == 4 * 5  # 5 mini-batches of <= 32 per epoch
    assert [p.name for p in tmp_path.iterdir()] == ["ck.safetensors"]  # no temporary left


def test_resume_refuses_other_hyperparameters_or_data(problem, tmp_path):
    X, y = problem
    path = tmp_path / "ck.safetensors"
    LogisticRegression(max_iter=4, callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    with pytest.raises(ValueError, match="written with learning_rate=0.005, but this estimator "
                       "has learning_rate=0.1"):
        LogisticRegression(max_iter=8, learning_rate=0.1).fit(X, y, resume_from=path)
    with pytest.raises(ValueError, match="other data"):
        LogisticRegression(max_iter=8).fit(X + 1, y, resume_from=path)
    with pytest.raises(ValueError, match="beyond max_iter=3"):
        LogisticRegression(max_iter=3).fit(X, y, resume_from=path)
    # max_iter may grow: continue to 8.
    assert LogisticRegression(max_iter=8).fit(X, y, resume_from=path).n_iter_ == 8


def test_a_checkpoint_from_before_a_new_hyperparameter_resumes_at_its_default(problem, tmp_path):
    """A checkpoint written before a hyperparameter existed ran with its default: it resumes
    when the estimator keeps that default, and is refused (naming it) when it does not."""
    import json

    from safetensors.numpy import load_file, save_file

    X, y = problem
    path = tmp_path / "ck.safetensors"
    LogisticRegression(max_iter=4, callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    with safe_open(path, framework="numpy") as f:
        meta = json.loads(f.metadata()["logicat_checkpoint"])
    del meta["hyperparameters"]["standardize"]  # as if written before standardize existed
    save_file(load_file(path), tmp_path / "old.safetensors",
              metadata={"logicat_checkpoint": json.dumps(meta)})
    resumed = LogisticRegression(max_iter=8).fit(X, y, resume_from=tmp_path / "old.safetensors")
    _assert_same_fit(resumed, LogisticRegression(max_iter=8).fit(X, y))
    with pytest.raises(ValueError, match="written with standardize=False, but this estimator "
                       "has standardize=True"):
        LogisticRegression(max_iter=8, standardize=True).fit(
            X, y, resume_from=tmp_path / "old.safetensors")


@pytest.mark.parametrize("content, what", [
    (b"", "not a logicat checkpoint"),
    (b"not a checkpoint at all", "this is a text file that starts with 'not a checkpoint at "
     "all', not a logicat checkpoint"),  # what it is, by its first bytes
    (b"\x08" + b"\0" * 20, "not a logicat checkpoint")])
def test_bad_checkpoint_files_get_one_line_errors(tmp_path, problem, content, what):
    X, y = problem
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=f"bad.safetensors: {what}") as e:
        LogisticRegression(max_iter=3).fit(X, y, resume_from=path)
    assert "\n" not in str(e.value)
    with pytest.raises(ModelFileError, match="no such checkpoint file"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_ctrl_c_finishes_the_iteration_saves_and_resumes_exactly(problem, tmp_path):
    X, y = problem
    params = dict(optimizer="adam", batch_size=10, learning_rate=0.02, max_iter=30,
                  random_state=1)
    path = tmp_path / "interrupted.safetensors"

    def press_ctrl_c(state):
        if state.iteration == 11:
            os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of training

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(TrainingInterrupted) as e, GracefulInterrupt(path) as interrupt:
        LogisticRegression(**params, callbacks=[press_ctrl_c, interrupt]).fit(X, y)
    assert signal.getsignal(signal.SIGINT) is before  # the handler is restored
    assert e.value.iteration == 12 and isinstance(e.value, KeyboardInterrupt)
    resumed = LogisticRegression(**params).fit(X, y, resume_from=path)
    _assert_same_fit(resumed, LogisticRegression(**params).fit(X, y))


@pytest.mark.slow  # two short `logicat train` processes on the cat data
def test_cli_ctrl_c_exits_130_with_a_checkpoint_and_resume_matches(tmp_path, cat_features):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    base = [sys.executable, "-m", "logicat", "train", "--iterations", "300", "--optimizer",
            "momentum"]
    ck = tmp_path / "ck.safetensors"
    run = subprocess.Popen(
        [*base, "--print-every", "1", "--checkpoint", str(ck), "--out", str(tmp_path / "a")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    for line in run.stdout:  # wait until training runs, then press Ctrl-C
        if line.startswith("Cost after iteration 5:"):
            run.send_signal(signal.SIGINT)
            break
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert err.strip().startswith("Interrupted after iteration ")
    assert f"saved a checkpoint to {ck}" in err and len(err.strip().splitlines()) == 1
    assert 6 <= load_checkpoint(ck).meta["epoch"] < 300
    assert not (tmp_path / "a").exists()  # no model from an interrupted run

    resumed = tmp_path / "resumed.safetensors"
    subprocess.run([*base, "--print-every", "0", "--checkpoint", str(ck), "--resume", "--out",
                    str(resumed)], check=True, capture_output=True, env=env)
    X, y = cat_features[:2]
    whole = LogisticRegression(optimizer="momentum", max_iter=300, random_state=0).fit(X, y)
    tensors = _tensors(resumed)
    assert np.array_equal(tensors["coef"], whole.coef_)
    assert tensors["intercept"][0] == whole.intercept_
    assert np.array_equal(tensors["cost_history"], whole.cost_history_)


def _tensors(path: Path) -> dict[str, np.ndarray]:
    with safe_open(path, framework="numpy") as f:
        return {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118


def test_cli_option_errors_and_warnings(tmp_path):


    out = str(tmp_path / "m.safetensors")
    result = invoke("train", "--resume", "-o", out)
    assert result.exit_code == 2 and "'--resume': needs --checkpoint PATH." in result.output
    missing = str(tmp_path / "none.safetensors")
    result = invoke("train", "--resume", "--checkpoint", missing, "-o", out)
    assert result.exit_code == 2 and "no such checkpoint file" in result.output
    result = invoke("train", "-n", "10", "--tol", "1e-4", "--print-every", "0", "-o", out)
    assert result.exit_code == 0, result.output
    assert "Warning: LogisticRegression: max_iter=10 reached before the cost settled" in (
        result.output
    )
