"""Training on the rows of a file (``training.batches.FileRows`` through the one ``fit``) against
in-memory training and the reference math (reading the file: tests/data/test_chunks.py; the
command: tests/cli/test_out_of_core.py)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from logicat.data.chunks import H5Images
from logicat.data.features import images_to_features
from logicat.estimators import LogisticRegression
from logicat.model import Model
from logicat.nn.families import logistic_layers
from logicat.nn.loss import cost_and_gradients
from logicat.training.batches import FileRows
from logicat.training.fit import DEFAULTS, fit
from tests.conftest import write_h5


def stream(source, chunk_rows=512, **params):
    """Train on the file's rows with these hyperparameters (the lesson's run otherwise)."""
    return fit({**DEFAULTS, **params}, source, source.y, chunk_rows=chunk_rows).result


def test_exact_gradient_descent_equals_in_memory_training(cat_h5, cat_data):
    """Chunks of 50 rows (the last one short) give the in-memory run to 1e-12 in float64."""
    clf = LogisticRegression(max_iter=40).fit(images_to_features(cat_data.train_x),
                                              cat_data.train_y)
    with H5Images(cat_h5) as source:
        result = stream(source, max_iter=40, chunk_rows=50)
    np.testing.assert_allclose(result.cost_history, clf.cost_history_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.coef, clf.coef_, rtol=0,
                               atol=1e-12 * np.abs(clf.coef_).max())
    assert result.intercept == pytest.approx(clf.intercept_, abs=1e-12)


def test_float32_and_squared_error_match_the_reference(cat_h5, cat_data):
    X = images_to_features(cat_data.train_x, np.float32)
    y = cat_data.train_y.astype(np.float32)
    with H5Images(cat_h5) as source:
        result = stream(source, max_iter=3, dtype="float32", loss="squared_error",
                        chunk_rows=64)
    w, b = np.zeros(X.shape[1], np.float32), 0.0
    for cost in result.cost_history:  # replay the reference run step by step
        ref_cost, dw, db = cost_and_gradients(w, b, X, y, "squared_error")
        assert cost == pytest.approx(ref_cost, abs=1e-6)
        w, b = w - 0.005 * dw, b - 0.005 * db
    assert result.coef.dtype == np.float32


def test_sgd_with_one_batch_per_epoch_is_gradient_descent(cat_h5):
    with H5Images(cat_h5) as source:
        gd = stream(source, max_iter=5, chunk_rows=64)
        sgd = stream(source, max_iter=5, batch_size=10_000, chunk_rows=64, random_state=3)
    np.testing.assert_allclose(sgd.cost_history, gd.cost_history, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sgd.coef, gd.coef, rtol=0, atol=1e-12 * np.abs(gd.coef).max())


def cat_data_images(path):
    with h5py.File(path) as f:
        return f["train_set_x"][()]


def test_sgd_is_reproducible_with_a_seed_and_learns(cat_h5):
    kw = dict(max_iter=6, batch_size=32, chunk_rows=64, learning_rate=0.002)
    with H5Images(cat_h5) as source:
        a = stream(source, random_state=1, **kw)
        b = stream(source, random_state=1, **kw)
        c = stream(source, random_state=2, **kw)
        rows = FileRows(source, np.float64, engine="numpy", loss="cross_entropy", n_layers=1)
        full_cost, _ = rows.full()(a.params)
        y = source.y
    model = Model.of(logistic_layers(), (12288,), [a.params])
    p = model.proba(images_to_features(cat_data_images(cat_h5)))
    np.testing.assert_array_equal(a.coef, b.coef)
    assert not np.array_equal(a.coef, c.coef)
    assert len(a.cost_history) == 6
    assert full_cost < 0.66  # log 2 = 0.693 at the start
    assert np.mean((p > 0.5) == y) > 0.6


def test_sgd_step_by_step_against_the_reference(tmp_path, rng):
    """Unshuffled, batch size 4 over blocks of 6 rows: the same steps as cost_and_gradients."""
    x = rng.integers(0, 256, size=(13, 2, 2, 3), dtype=np.uint8)
    y = rng.integers(0, 2, size=13)
    path = write_h5(tmp_path / "tiny.h5", x, y)
    with H5Images(path) as source:
        result = stream(source, max_iter=2, batch_size=4, chunk_rows=6, shuffle=False,
                        learning_rate=0.1)
    X = images_to_features(x)
    w, b, costs = np.zeros(12), 0.0, []
    for _ in range(2):
        total = 0.0
        for lo in range(0, 13, 4):
            cost, dw, db = cost_and_gradients(w, b, X[lo:lo + 4], y[lo:lo + 4].astype(float))
            total += cost * len(y[lo:lo + 4])
            w, b = w - 0.1 * dw, b - 0.1 * db
        costs.append(total / 13)
    np.testing.assert_allclose(result.cost_history, costs, rtol=1e-13)
    np.testing.assert_allclose(result.coef, w, rtol=1e-12, atol=1e-15)


def test_sgd_divergence_is_an_error_not_nan(tmp_path, rng):
    from logicat.core.errors import DivergenceError

    x = rng.integers(0, 256, size=(40, 2, 2, 3), dtype=np.uint8)
    path = write_h5(tmp_path / "d.h5", x, rng.integers(0, 2, size=40))
    with H5Images(path) as source, pytest.raises(DivergenceError, match="learning rate"):
        stream(source, max_iter=3, batch_size=8, learning_rate=1e308)


def test_the_file_takes_every_update_rule_and_l2_like_memory(cat_h5, cat_data):
    """The primal solver over the file's rows is the in-memory one: Adam with L2 agrees."""
    params = dict(max_iter=8, optimizer="adam", alpha=0.5, learning_rate=0.001)
    clf = LogisticRegression(**params).fit(images_to_features(cat_data.train_x), cat_data.train_y)
    with H5Images(cat_h5) as source:
        result = stream(source, chunk_rows=64, **params)
    np.testing.assert_allclose(result.cost_history, clf.cost_history_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.coef, clf.coef_, rtol=0, atol=1e-10)
