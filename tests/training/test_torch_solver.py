"""The PyTorch solver (``logicat.training.torch_solver``): agreement with the NumPy engine, and
its modes. (The ONNX export of its models: ``tests/io/test_onnx.py``, ``tests/cli/test_export.py``;
its datasets: ``tests/engines/torch/test_datasets.py``; its fused loop:
``tests/engines/torch/test_fused.py``.)"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from logicat import (  # noqa: E402
    DivergenceError,
    LogicatError,
    LogisticRegression,
    MLPClassifier,
)
from logicat.engines.numba.fused import FusedObjective  # noqa: E402
from logicat.engines.torch import train_torch  # noqa: E402
from logicat.io.files import load_checkpoint  # noqa: E402
from logicat.training.callbacks import Checkpoint  # noqa: E402
from logicat.training.descent import gradient_descent  # noqa: E402
from logicat.training.objectives import ENGINES  # noqa: E402
from tests import paths  # noqa: E402

ROOT = paths.ROOT


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def numpy_run(X, y, loss="cross_entropy", lr=0.005, max_iter=100):
    w = np.zeros(X.shape[1], dtype=X.dtype)
    return gradient_descent(
        FusedObjective(X, y.astype(X.dtype), loss), w, 0.0, learning_rate=lr, max_iter=max_iter
    )


def test_torch_engine_is_registered_and_imported_lazily():
    assert "torch" in ENGINES
    code = ("import sys, logicat, logicat.training.fit, logicat.estimators, logicat.cli; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_reference_run_matches_numpy_engine(cat_features):
    """The lesson's reference run, float64 on the CPU: costs to 1e-10, identical accuracies."""
    X, y, X_test, y_test = cat_features
    ref = LogisticRegression(engine="numpy").fit(X, y)
    clf = LogisticRegression(engine="torch", device="cpu").fit(X, y)
    assert clf.n_iter_ == 2000
    np.testing.assert_allclose(clf.cost_history_, ref.cost_history_, rtol=0, atol=1e-10)
    assert clf.cost_history_[0] == pytest.approx(np.log(2), abs=1e-15)
    assert clf.score(X, y) == ref.score(X, y) == pytest.approx(0.9904306220095693)
    assert clf.score(X_test, y_test) == ref.score(X_test, y_test) == 0.70
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=0, atol=1e-10)


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
@pytest.mark.parametrize("mode", ["autograd", "fused"])
def test_both_losses_and_modes_match_numpy(cat_features, loss, mode):
    X, y, _, _ = cat_features
    ref = numpy_run(X, y, loss, max_iter=40)
    # graph_steps=15: two whole chunks and a remainder of 10 iterations in the fused loop
    r = train_torch(X, y, max_iter=40, loss=loss, device="cpu", mode=mode, graph_steps=15)
    np.testing.assert_allclose(r.cost_history, ref.cost_history, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.coef, ref.coef, rtol=0, atol=1e-12)
    assert r.intercept == pytest.approx(ref.intercept, abs=1e-12)


@pytest.mark.parametrize("optimizer", ["nesterov", "adam", "adamw"])
def test_every_rule_with_weight_decay_matches_the_numpy_engine(cat_features, optimizer):
    """A network trained by torch.optim (weights decaying, biases not) and by logicat's NumPy
    rules: the same costs and weights, float64."""
    X, y, _, _ = cat_features
    params = dict(hidden_layer_sizes=(7,), init="he_normal", random_state=2, max_iter=15,
                  learning_rate=0.003, optimizer=optimizer, weight_decay=0.5)
    ref = MLPClassifier(**params).fit(X, y)
    clf = MLPClassifier(**params, engine="torch", device="cpu").fit(X, y)
    np.testing.assert_allclose(clf.cost_history_, ref.cost_history_, rtol=0, atol=1e-10)
    for a, b in zip(clf.coefs_ + clf.intercepts_, ref.coefs_ + ref.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("optimizer", ["adam", "nesterov"])
def test_a_torch_run_resumed_from_its_checkpoint_is_the_uninterrupted_run(cat_features,
                                                                         tmp_path, optimizer):
    """The torch optimizer's state goes into the checkpoint in the one layout of every solver
    (torch's names by tensor, the model files' layouts of the tensors) and back: a resumed
    run ends bit for bit where the whole run does - with mini-batches too, whose shuffling
    generator the loop keeps in the checkpoint."""
    X, y, _, _ = cat_features
    params = dict(hidden_layer_sizes=(5,), init="he_normal", random_state=0,
                  learning_rate=0.002, optimizer=optimizer, weight_decay=0.1, engine="torch",
                  device="cpu")
    whole = MLPClassifier(**params, max_iter=8).fit(X, y)
    path = tmp_path / "ck.safetensors"
    MLPClassifier(**params, max_iter=4, callbacks=[Checkpoint(path, every=4)]).fit(X, y)
    saved = load_checkpoint(path).tensors
    first = f"optimizer.coefs.0.{'exp_avg' if optimizer == 'adam' else 'momentum_buffer'}"
    assert saved[first].shape == whole.coefs_[0].shape  # logicat's (n_in, n_out) layout
    resumed = MLPClassifier(**params, max_iter=8).fit(X, y, resume_from=path)
    np.testing.assert_array_equal(resumed.cost_history_, whole.cost_history_)
    for a, b in zip(resumed.coefs_ + resumed.intercepts_, whole.coefs_ + whole.intercepts_,
                    strict=True):
        np.testing.assert_array_equal(a, b)
    minibatch = dict(params, batch_size=50)
    whole = MLPClassifier(**minibatch, max_iter=4).fit(X, y)
    MLPClassifier(**minibatch, max_iter=2, callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    assert "rng.generator" in load_checkpoint(path).tensors
    resumed = MLPClassifier(**minibatch, max_iter=4).fit(X, y, resume_from=path)
    np.testing.assert_array_equal(resumed.cost_history_, whole.cost_history_)
    for a, b in zip(resumed.coefs_ + resumed.intercepts_, whole.coefs_ + whole.intercepts_,
                    strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", ["autograd", "fused"])
def test_float32(cat_features, mode):
    X, y, _, _ = cat_features
    X32 = X.astype(np.float32)
    ref = numpy_run(X32, y, max_iter=60)
    r = train_torch(X32, y.astype(np.float32), max_iter=60, device="cpu", mode=mode)
    assert r.coef.dtype == np.float32
    np.testing.assert_allclose(r.cost_history, ref.cost_history, rtol=1e-5)
    np.testing.assert_allclose(r.coef, ref.coef, rtol=0, atol=1e-5)


def test_callbacks_see_every_iteration_and_can_stop(cat_features):
    X, y, _, _ = cat_features
    seen = []

    def stop_after_five(state):
        seen.append((state.iteration, state.cost, float(state.coef[0]), state.intercept))
        return state.iteration == 4

    clf = LogisticRegression(engine="torch", device="cpu", max_iter=50, callbacks=[stop_after_five])
    clf.fit(X, y)
    assert clf.n_iter_ == 5 and len(clf.cost_history_) == 5
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal([s[1] for s in seen], clf.cost_history_)
    assert seen[-1][2] == clf.coef_[0] and seen[-1][3] == clf.intercept_  # after the update
    ref = numpy_run(X, y, max_iter=5)
    np.testing.assert_allclose(clf.cost_history_, ref.cost_history, rtol=0, atol=1e-13)


def test_cost_only_callbacks_print_the_same_table_from_the_fused_loop(cat_features):
    """PrintCost is called a chunk at a time by the fused (CUDA-graph) loop: same lines."""
    from logicat.training.callbacks import PrintCost
    from logicat.training.loop import is_cost_only as cost_only

    X, y, _, _ = cat_features
    tables = {}
    for mode in ("autograd", "fused"):
        lines = []
        train_torch(
            X,
            y,
            max_iter=45,
            device="cpu",
            mode=mode,
            graph_steps=20,
            callbacks=[PrintCost(10, write=lines.append)],
        )
        tables[mode] = lines
    assert tables["fused"] == tables["autograd"]
    assert tables["fused"][0] == "Cost after iteration 0: 0.693147" and len(tables["fused"]) == 5
    assert not cost_only(print) and cost_only(PrintCost())


def test_minibatches_are_seeded_and_one_batch_is_full_batch(cat_features):
    X, y, _, _ = cat_features
    runs = [train_torch(X, y, max_iter=3, batch_size=64, seed=s, device="cpu") for s in (1, 1, 2)]
    np.testing.assert_array_equal(runs[0].coef, runs[1].coef)
    assert not np.array_equal(runs[0].coef, runs[2].coef)
    assert runs[0].n_iter == len(runs[0].cost_history) == 3  # max_iter counts epochs
    assert np.all(np.isfinite(runs[0].cost_history))
    # a batch of all m examples is exactly full-batch gradient descent
    whole = train_torch(X, y, max_iter=4, batch_size=len(y), device="cpu")
    np.testing.assert_array_equal(whole.coef, train_torch(X, y, max_iter=4, device="cpu").coef)
    # through the estimator: batch_size and random_state pick the batches
    a = LogisticRegression(engine="torch", device="cpu", max_iter=3, batch_size=64, random_state=1)
    np.testing.assert_array_equal(a.fit(X, y).coef_, runs[0].coef)


def test_divergence_is_an_error():
    X = np.full((6, 3), 1e200)
    y = np.array([0, 0, 0, 0, 0, 1.0])
    with pytest.raises(DivergenceError, match="diverged at iteration"):
        numpy_run(X, y, max_iter=5)
    for mode in ("autograd", "fused"):
        with pytest.raises(DivergenceError, match="diverged at iteration"):
            train_torch(X, y, max_iter=5, device="cpu", mode=mode)


def test_bad_settings_are_clear_errors(cat_features, monkeypatch):
    X, y, _, _ = cat_features
    Xs, ys = X[:20], y[:20]
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no CUDA device"):
            LogisticRegression(engine="torch", device="cuda", max_iter=2).fit(Xs, ys)
        with pytest.raises(ValueError, match="needs a CUDA device"):
            train_torch(Xs, ys, max_iter=2, device="cpu", mode="cuda_graph")
    with pytest.raises(ValueError, match="The 'device' parameter must be one of"):
        train_torch(Xs, ys, max_iter=2, device="tpu")
    with pytest.raises(ValueError, match="The 'mode' parameter must be one of"):
        train_torch(Xs, ys, max_iter=2, mode="fast")
    with pytest.raises(ValueError, match="does not support callbacks other than cost-only"):
        train_torch(Xs, ys, max_iter=2, device="cpu", mode="fused", callbacks=[print])
    with pytest.raises(ValueError, match="does not support sample or class weights"):
        LogisticRegression(engine="torch", device="cpu", max_iter=2).fit(Xs, ys, np.ones(20))
    with pytest.raises(ValueError, match="The 'batch_size' parameter must be"):
        train_torch(Xs, ys, max_iter=2, device="cpu", batch_size=0)
    monkeypatch.setitem(sys.modules, "torch", None)  # as if PyTorch were not installed
    with pytest.raises(LogicatError, match=r"pip install 'logicat\[torch\]'"):
        LogisticRegression(engine="torch", max_iter=2).fit(Xs, ys)


# ---------------------------------------------------------------------------- GPU script
@pytest.fixture(scope="module")
def gpu_script():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import gpu
    finally:
        sys.path.pop(0)
    return gpu


def test_gpu_script_without_cuda_exits_cleanly(gpu_script, capsys):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert gpu_script.main([]) == 0
    assert "No CUDA device" in capsys.readouterr().out


def test_gpu_script_dry_run_on_cpu(gpu_script, capsys):
    """The script's checks and timings, run on the CPU ("fused" stands in for the graph)."""
    args = [os.environ["LOGICAT_DATA"], "--device", "cpu", "--iterations", "12", "--repeat", "1"]
    assert gpu_script.main(args) == 0
    out = capsys.readouterr().out
    assert "check float64   autograd: max |cost - numpy|" in out
    assert "check float64      fused: max |cost - numpy|" in out
    assert "all checks passed" in out and "FAIL" not in out
    assert "idiomatic PyTorch (nn.Linear + BCEWithLogitsLoss + SGD)" in out
    assert "fused (12 steps per graph), loop only" in out


def test_gpu_script_needs_no_sklearn():
    """On the GPU machine only torch, numpy and h5py are there: the script's imports say so."""
    blocked = ["sklearn", "scipy", "click", "PIL", "matplotlib", "onnx", "tqdm", "safetensors"]
    code = (
        "import sys, runpy\n"
        f"for m in {blocked!r}: sys.modules[m] = None\n"
        f"gpu = runpy.run_path({str(ROOT / 'benchmarks' / 'gpu.py')!r})\n"
        "trainer = gpu['import_engine']()\n"
        "r = trainer.train_torch([[0.0, 1], [1, 0]], [0.0, 1], max_iter=3, device='cpu')\n"
        "print(r.n_iter, 'logicat.estimators' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3", "False"]
