"""``logicat.training.dense_fit``: a model of features prepared for the one fit - from arrays in
memory or from the rows of a packed file, which now checkpoint and resume like any run (the
solvers themselves: test_solvers.py, test_torch_solver.py; the file's batches: test_batches.py)."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.core.errors import ParameterError
from logicat.data.chunks import H5Images
from logicat.io.files import load_checkpoint
from logicat.training.callbacks import Checkpoint
from logicat.training.dense_fit import choose_solver
from logicat.training.fit import DEFAULTS, fit
from tests.conftest import write_h5

#: mini-batch SGD with Adam on the file's rows: the run's generator draws every epoch's order
STREAMED = {**DEFAULTS, "batch_size": 50, "optimizer": "adam", "learning_rate": 1e-3,
            "random_state": 3}


def test_a_streamed_run_resumes_from_its_checkpoint_exactly(cat_h5, tmp_path):
    """Out of core, killed after epoch 2 and resumed: the uninterrupted run's costs and
    parameters, bit for bit (the optimizer's moments and the block shuffle's generator are in
    the checkpoint, the file's SHA-256 in its record of the data)."""
    path = tmp_path / "ck.safetensors"
    with H5Images(cat_h5) as source:
        whole = fit({**STREAMED, "max_iter": 4}, source, source.y, chunk_rows=64)
        fit({**STREAMED, "max_iter": 2}, source, source.y, [Checkpoint(path, every=2)],
            chunk_rows=64)
        assert "rng_state" in load_checkpoint(path).meta
        resumed = fit({**STREAMED, "max_iter": 4}, source, source.y, chunk_rows=64,
                      resume=load_checkpoint(path), resume_source=str(path))
    np.testing.assert_array_equal(resumed.result.cost_history, whole.result.cost_history)
    for a, b in zip(resumed.result.params, whole.result.params, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_checkpoint_of_another_file_is_refused(cat_h5, cat_data, tmp_path):
    path = tmp_path / "ck.safetensors"
    other = write_h5(tmp_path / "other.h5", cat_data.train_x[::-1], cat_data.train_y[::-1])
    with H5Images(cat_h5) as source:
        fit({**STREAMED, "max_iter": 1}, source, source.y, [Checkpoint(path, every=1)])
    with H5Images(other) as source, pytest.raises(ParameterError, match="other data"):
        fit({**STREAMED, "max_iter": 2}, source, source.y, resume=load_checkpoint(path))


@pytest.mark.parametrize("name", ["early_stopping", "standardize", "class_weight"])
def test_what_needs_the_data_in_memory_is_refused_for_a_file(cat_h5, name):
    value = "balanced" if name == "class_weight" else True
    with H5Images(cat_h5) as source, pytest.raises(
            ParameterError, match=f"The '{name}' parameter needs the data in memory"):
        fit({**DEFAULTS, name: value}, source, source.y)


def test_auto_takes_the_span_solver_only_when_it_pays_and_nothing_is_in_its_way():
    params = {**DEFAULTS, "max_iter": 2000}
    assert choose_solver(params, [], 209, 12288) == "gram"  # the lesson's run
    assert choose_solver({**params, "max_iter": 3}, [], 209, 12288) == "primal"  # K costs more
    assert choose_solver(params, ["mini-batches"], 209, 12288) == "primal"
    with pytest.raises(ParameterError, match="this run has mini-batches"):
        choose_solver({**params, "solver": "gram"}, ["mini-batches"], 209, 12288)


def test_a_torch_dataset_trains_through_the_one_fit_and_resumes_exactly(cat_h5, cat_features,
                                                                       tmp_path):
    """PyTorch's way of reading data (a ``Dataset`` read by a ``DataLoader``) is one more
    source of the one fit: its epochs shuffled by the loop's generator, so a checkpoint resumes
    them bit for bit; full batch it is the in-memory torch run; the NumPy engines refuse it."""
    pytest.importorskip("torch")
    from logicat.engines.torch import H5CatDataset, train_torch

    X, y, _, _ = cat_features
    params = {**DEFAULTS, "engine": "torch", "device": "cpu", "batch_size": 50,
              "optimizer": "adam", "learning_rate": 1e-3, "random_state": 2}
    data = H5CatDataset(cat_h5)
    whole = fit({**params, "max_iter": 4}, data, data.labels)
    path = tmp_path / "ck.safetensors"
    fit({**params, "max_iter": 2}, data, data.labels, [Checkpoint(path, every=2)])
    resumed = fit({**params, "max_iter": 4}, data, data.labels, resume=load_checkpoint(path))
    np.testing.assert_array_equal(resumed.result.cost_history, whole.result.cost_history)
    for a, b in zip(resumed.result.params, whole.result.params, strict=True):
        np.testing.assert_array_equal(a, b)
    full = fit({**DEFAULTS, "engine": "torch", "device": "cpu", "max_iter": 5}, data,
               data.labels)
    reference = train_torch(X, y, max_iter=5, device="cpu", mode="autograd")
    np.testing.assert_allclose(full.result.cost_history, reference.cost_history, rtol=0,
                               atol=1e-15)
    with pytest.raises(ParameterError, match="A torch Dataset trains with engine='torch'"):
        fit(DEFAULTS, data, data.labels)


def test_weights_and_the_torch_engine_are_refused_for_examples_read_a_batch_at_a_time(
        cat_h5):
    """Streamed rows train unweighted and with the NumPy engines: sample weights or
    engine='torch' are refused before any work, not dropped."""
    with H5Images(cat_h5) as source:
        with pytest.raises(ParameterError, match=r"Sample weights need the data in memory; "
                                                 r"images read a batch at a time \(.*train\.h5\)"):
            fit(DEFAULTS, source, source.y, sample_weight=np.ones(source.m))
        with pytest.raises(ParameterError, match="Out-of-core training computes with "
                                                 "engine='numpy' or 'autograd'"):
            fit({**DEFAULTS, "engine": "torch"}, source, source.y)
