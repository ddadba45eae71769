"""The one training loop (``training.loop.Trainer``): a resumed run equals an uninterrupted one bit
for bit, its checkpoint holds the whole state, Ctrl-C saves one; the loop steps the schedule."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from safetensors import safe_open

from logicat import LogisticRegression, MLPClassifier, ModelFileError
from logicat.io.files import load_checkpoint
from logicat.training.callbacks import Checkpoint, GracefulInterrupt, TrainingInterrupted

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


class StopAfter:
    """Simulates a crash: stops training after ``n`` iterations."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, state) -> bool:
        return state.iteration + 1 >= self.n


def assert_same_fit(a: LogisticRegression, b: LogisticRegression) -> None:
    assert np.array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    assert np.array_equal(a.cost_history_, b.cost_history_)
    assert a.n_iter_ == b.n_iter_
    if a.validation_cost_history_ is not None:
        assert np.array_equal(a.validation_cost_history_, b.validation_cost_history_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tol at max_iter
@pytest.mark.parametrize("name", CONFIGS)
def test_resumed_run_equals_uninterrupted_bit_for_bit(resume_problem, tmp_path, name):
    X, y = resume_problem
    params = dict(CONFIGS[name], max_iter=40, random_state=7)
    whole = LogisticRegression(**params).fit(X, y)

    path = tmp_path / "run.ckpt.safetensors"
    saver = Checkpoint(path, every=10)
    first = LogisticRegression(**params, callbacks=[saver, StopAfter(23)]).fit(X, y)
    assert first.n_iter_ == 23 and saver.saved_at == 20
    # A fresh estimator (another process, say) with the same settings picks up at iteration 20.
    resumed = LogisticRegression(**params).fit(X, y, resume_from=path)
    assert_same_fit(resumed, whole)
    assert resumed.predict_proba(X).tobytes() == whole.predict_proba(X).tobytes()


def test_checkpoint_holds_optimizer_and_rng_state_as_safetensors(resume_problem, tmp_path):
    X, y = resume_problem
    path = tmp_path / "ck.safetensors"
    LogisticRegression(optimizer="adam", batch_size=32, max_iter=4, random_state=0,
                       callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    with safe_open(path, framework="numpy") as f:  # a plain safetensors file: no pickle
        names = set(f.keys())
    assert {"coef", "intercept", "cost_history", "optimizer.step", "optimizer.coef.exp_avg",
            "optimizer.intercept.exp_avg_sq"} <= names  # torch.optim's names, by tensor
    snap = load_checkpoint(path)
    assert snap.meta["epoch"] == 4 and snap.meta["optimizer"] == "adam"
    assert snap.meta["rng_state"]["bit_generator"] == "PCG64"
    assert int(snap.tensors["optimizer.step"][0]) == 4 * 5  # 5 mini-batches of <= 32 an epoch
    assert [p.name for p in tmp_path.iterdir()] == ["ck.safetensors"]  # no temporary left


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_a_checkpoint_of_the_previous_layout_resumes_the_same(resume_problem, tmp_path,
                                                             optimizer):
    """Version 2 named a dense solver's optimizer state by index (optimizer.m.0, ...): it is
    read by renaming, and the run goes on exactly as from today's checkpoint."""
    import json

    from safetensors.numpy import load_file

    X, y = resume_problem
    params = dict(hidden_layer_sizes=(4,), optimizer=optimizer, batch_size=32, random_state=0,
                  learning_rate=0.01)
    path = tmp_path / "ck.safetensors"
    MLPClassifier(**params, max_iter=2, callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    with safe_open(path, framework="numpy") as f:
        meta = json.loads(f.metadata()["logicat_checkpoint"])
    old_names = {"optimizer.step": "optimizer.t"}
    for i, name in enumerate(["coefs.0", "intercepts.0", "coefs.1", "intercepts.1"]):
        old_names.update({f"optimizer.{name}.exp_avg": f"optimizer.m.{i}",
                          f"optimizer.{name}.exp_avg_sq": f"optimizer.v.{i}",
                          f"optimizer.{name}.momentum_buffer": f"optimizer.velocity.{i}"})
    tensors = {old_names.get(k, k): v for k, v in load_file(path).items()}
    assert "optimizer.coefs.0.exp_avg" not in tensors and len(tensors) == len(load_file(path))
    _an_older_version_resumes_as_today(params, X, y, path, tensors, meta, 2)


@pytest.mark.parametrize("content, what", [
    (b"", "not a logicat checkpoint"),
    (b"not a checkpoint at all", "this is a text file that starts with 'not a checkpoint at "
     "all', not a logicat checkpoint"),  # what it is, by its first bytes
    (b"\x08" + b"\0" * 20, "not a logicat checkpoint")])
def test_bad_checkpoint_files_get_one_line_errors(tmp_path, resume_problem, content, what):
    X, y = resume_problem
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=f"bad.safetensors: {what}") as e:
        LogisticRegression(max_iter=3).fit(X, y, resume_from=path)
    assert "\n" not in str(e.value)
    with pytest.raises(ModelFileError, match="no such checkpoint file"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_ctrl_c_finishes_the_iteration_saves_and_resumes_exactly(resume_problem, tmp_path):
    X, y = resume_problem
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
    assert_same_fit(resumed, LogisticRegression(**params).fit(X, y))


def test_the_loop_uses_the_scheduled_rates(problem):
    X, y = problem
    seen = []
    LogisticRegression(learning_rate=0.1, max_iter=5, lr_schedule=lambda t: 0.1 / (t + 1),
                       callbacks=[lambda s: seen.append(s.learning_rate)]).fit(X, y)
    assert seen == [0.1 / (t + 1) for t in range(5)]


@pytest.mark.parametrize("standardize", [False, True])
def test_a_checkpoint_that_names_no_layers_resumes_the_same(resume_problem, tmp_path,
                                                           standardize):
    """Version 4 names the layers whose tensors it holds (a standardisation's statistics
    among them); version 3 named none - its estimator's preset says them - and still resumes
    exactly as today's."""
    import json

    from safetensors.numpy import load_file

    X, y = resume_problem
    params = dict(hidden_layer_sizes=(4,), optimizer="adam", batch_size=32, random_state=0,
                  learning_rate=0.01, standardize=standardize)
    path = tmp_path / "ck.safetensors"
    MLPClassifier(**params, max_iter=2, callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    snap = load_checkpoint(path)
    kinds = [lay["type"] for lay in snap.meta["architecture"]["layers"]]
    assert kinds == ["normalize"] * standardize + ["dense", "relu", "dense", "sigmoid"]
    assert ("feature_mean" in snap.tensors) == standardize
    with safe_open(path, framework="numpy") as f:
        meta = json.loads(f.metadata()["logicat_checkpoint"])
    del meta["architecture"]
    tensors = {k: v for k, v in load_file(path).items() if not k.startswith("feature_")}
    _an_older_version_resumes_as_today(params, X, y, path, tensors, meta, 3)


def _an_older_version_resumes_as_today(params, X, y, path, tensors, meta, version: int) -> None:
    """``tensors`` and ``meta`` written as a checkpoint of ``version`` beside ``path``, today's
    checkpoint: resumed to 4 epochs, both give the same model bit for bit."""
    import json

    from safetensors.numpy import save_file

    older_path = path.with_name(f"v{version}.safetensors")
    save_file(tensors, older_path, metadata={"logicat_checkpoint": json.dumps(
        {**meta, "format_version": version})})
    today = MLPClassifier(**params, max_iter=4).fit(X, y, resume_from=path)
    older = MLPClassifier(**params, max_iter=4).fit(X, y, resume_from=older_path)
    assert older.predict_proba(X).tobytes() == today.predict_proba(X).tobytes()
    np.testing.assert_array_equal(older.cost_history_, today.cost_history_)
