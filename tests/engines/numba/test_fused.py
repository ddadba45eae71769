"""The fused kernel (logicat.engines.numba.fused) against the reference cost_and_gradients."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.engines import numba as kernels
from logicat.nn.loss import cost_and_gradients, loss_and_dz
from logicat.training.descent import gradient_descent
from logicat.training.objectives import make_objective

pytest.importorskip("numba")

from logicat.engines.numba.fused import FusedObjective, loss_dz, matvec, rmatvec_add  # noqa: E402

TOL = {np.float64: 1e-12, np.float32: 1e-6}


@pytest.mark.parametrize("loss", [0, 1])
def test_the_jitted_loss_is_the_numpy_one(loss):
    """``loss_dz`` is ``logicat.nn.loss.loss_and_dz``'s twin, example by example, to rounding
    (a - y cancels, so dL/dz is compared absolutely), from tiny logits to ones that round
    sigma(z) to 0 or 1."""
    z = np.concatenate([np.linspace(-50, 50, 1001), [-1e300, -745.0, 0.0, 1e-300, 745.0, 1e300]])
    for label in (0.0, 1.0):
        ref_L, ref_dz = loss_and_dz(z, np.full_like(z, label),
                                    ("cross_entropy", "squared_error")[loss])
        got = np.array([loss_dz(float(v), label, loss) for v in z])
        np.testing.assert_allclose(got[:, 0], ref_L, rtol=1e-15, atol=5e-16)
        np.testing.assert_allclose(got[:, 1], ref_dz, rtol=0, atol=5e-16)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_fused_matches_reference_on_cat_data(cat_features, dtype, loss, n_threads):
    X64, y, _, _ = cat_features
    X, y = X64.astype(dtype), y.astype(dtype)
    w = np.random.default_rng(1).normal(0, 0.01, X.shape[1]).astype(dtype)
    objective = FusedObjective(X, y, loss, n_threads=n_threads)
    cost, dw, db = objective(w, 0.3)
    ref_cost, ref_dw, ref_db = cost_and_gradients(w, 0.3, X, y, loss)
    tol = TOL[dtype]
    assert cost == pytest.approx(ref_cost, rel=tol, abs=tol)
    assert db == pytest.approx(ref_db, rel=tol, abs=tol)
    assert dw.dtype == dtype and dw.shape == ref_dw.shape
    np.testing.assert_allclose(dw, ref_dw, rtol=0, atol=tol * np.abs(ref_dw).max())
    # A second call with other parameters reuses the buffers and is still right.
    cost2, dw2, _ = objective(2 * w, -0.1)
    ref_cost2, ref_dw2, _ = cost_and_gradients(2 * w, -0.1, X, y, loss)
    assert cost2 == pytest.approx(ref_cost2, rel=tol, abs=tol)
    np.testing.assert_allclose(dw2, ref_dw2, rtol=0, atol=tol * np.abs(ref_dw2).max())
    assert not np.shares_memory(dw, dw2)


def test_uint8_pixels_with_folded_scale_match_float_features(cat_data, cat_features):
    X64, y, _, _ = cat_features
    pixels = cat_data.train_x.reshape(len(y), -1)
    w = np.random.default_rng(2).normal(0, 0.01, X64.shape[1])
    objective = FusedObjective(pixels, y, scale=1 / 255)
    assert objective.dtype == np.float32  # uint8 pixels compute in float32
    cost, dw, db = objective(w.astype(np.float32), 0.1)
    ref_cost, ref_dw, ref_db = cost_and_gradients(w, 0.1, X64, y.astype(float))
    assert cost == pytest.approx(ref_cost, rel=1e-6)
    assert db == pytest.approx(ref_db, abs=1e-6)
    np.testing.assert_allclose(dw, ref_dw, atol=1e-6 * np.abs(ref_dw).max())


def test_extreme_logits_stay_finite_and_nan_propagates():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5))
    y = (rng.random(64) > 0.5).astype(float)
    w = np.full(5, 300.0)  # |z| in the hundreds: sigma(z) rounds to 0 or 1
    cost, dw, db = FusedObjective(X, y)(w, 0.0)
    ref_cost, ref_dw, ref_db = cost_and_gradients(w, 0.0, X, y)
    assert np.isfinite(cost) and cost == pytest.approx(ref_cost, rel=1e-12)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-12)
    cost, _, _ = FusedObjective(X, y)(np.full(5, np.nan), 0.0)
    assert np.isnan(cost)  # so gradient descent still detects divergence


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_training_cost_history_matches_reference(cat_features, dtype):
    """The reference run's first 150 iterations: the fused default engine vs the reference.

    (`benchmarks/suite.py` checks all 2000 iterations of both dtypes.)
    """
    X64, y, _, _ = cat_features
    X, y = X64.astype(dtype), y.astype(dtype)

    def reference(w, b):
        return cost_and_gradients(w, b, X, y, "cross_entropy")

    kw = dict(learning_rate=0.005, max_iter=150)
    ref = gradient_descent(reference, np.zeros(X.shape[1], dtype), 0.0, **kw)
    fast = gradient_descent(FusedObjective(X, y, "cross_entropy"), np.zeros(X.shape[1], dtype),
                            0.0, **kw)
    assert ref.cost_history[0] == pytest.approx(np.log(2))
    tol = TOL[dtype]
    np.testing.assert_allclose(fast.cost_history, ref.cost_history, rtol=0, atol=tol)
    np.testing.assert_allclose(fast.coef, ref.coef, rtol=0, atol=tol * np.abs(ref.coef).max())


def test_the_numpy_engine_uses_the_kernel_for_logistic_regression(cat_features):
    X, y, _, _ = cat_features
    assert kernels.HAVE_NUMBA
    objective = make_objective("numpy", X, y.astype(float))
    assert isinstance(objective.kernel, FusedObjective)
    weighted = make_objective("numpy", X, y.astype(float), sample_weight=np.ones(len(y)))
    assert not hasattr(weighted, "kernel")  # weights: the network's numpy backward pass


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_matvec_and_rmatvec_add(dtype, rng):
    X = (rng.random((37, 19)) * 255).astype(dtype)
    w = rng.normal(size=19)
    d = rng.normal(size=37)
    np.testing.assert_allclose(matvec(X, w), X.astype(float) @ w, rtol=1e-12)
    out = np.ones(19)
    rmatvec_add(X, d, out)
    np.testing.assert_allclose(out, 1 + d @ X.astype(float), rtol=1e-12)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="'loss' parameter"):
        FusedObjective(np.zeros((3, 2)), np.zeros(3), "hinge")
    with pytest.raises(ValueError, match="2-D float32, float64 or uint8"):
        FusedObjective(np.zeros((3, 2), dtype=np.int64), np.zeros(3))
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        FusedObjective(np.zeros(3), np.zeros(3))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pixel_features_are_compressed_to_bytes_with_the_same_results(cat_features, rng, dtype):
    X64, y, _, _ = cat_features
    X, y = X64.astype(dtype), y.astype(dtype)
    objective = FusedObjective(X, y)
    w = rng.normal(0, 0.01, X.shape[1]).astype(dtype)
    for _ in range(3):  # compressed from the first call on
        cost, dw, db = objective(w, 0.2)
        ref_cost, ref_dw, ref_db = cost_and_gradients(w, 0.2, X, y)
        tol = TOL[dtype]
        assert cost == pytest.approx(ref_cost, rel=tol, abs=tol)
        assert db == pytest.approx(ref_db, rel=tol, abs=tol)
        np.testing.assert_allclose(dw, ref_dw, rtol=0, atol=tol * np.abs(ref_dw).max())
        assert dw.dtype == dtype
        assert objective.X.dtype == np.uint8
    # Features that are not k/255 stay as they are.
    other = FusedObjective(X + dtype(1e-3), y)
    other(w, 0.0)
    assert other.X.dtype == dtype
    # Objectives built per mini-batch skip the check.
    batch = FusedObjective(X[:32], y[:32], compress=False)
    batch(w, 0.0)
    assert batch.X.dtype == dtype
