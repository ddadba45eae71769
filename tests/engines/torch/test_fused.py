"""The fused loop of the PyTorch engine (``logicat.engines.torch.fused``): a CUDA graph's chunks
replayed, and a failed capture falling back. (Its costs against the NumPy engine, mode="fused":
``tests/training/test_torch_solver.py``.)"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_graph_capture_is_replayed_and_a_failed_one_falls_back(cat_features, monkeypatch):
    """The CUDA-graph orchestration on the CPU: a stand-in "graph" (the chunk run eagerly),
    and a capture that fails - "try" (what mode="auto" asks for) warns and trains anyway."""
    from logicat.engines.torch import fused

    X, y, _, _ = cat_features
    Xt, yt = torch.from_numpy(X[:60]), torch.from_numpy(y[:60].astype(float))
    w0 = np.zeros(X.shape[1])

    def run(graph, timings=None):
        loop = fused.FusedLoop(Xt, yt, w0, 0.0, "cross_entropy", torch.device("cpu"), steps=10,
                               graph=graph, timings=timings)
        costs = np.concatenate([loop.run(10, 0.005), loop.run(10, 0.005), loop.run(5, 0.005)])
        return costs, loop.params()[0]

    ref_costs, ref_w = run("off")
    captured = []

    def fake_capture(run_k, k, dev):
        run_k(1)  # the warm-up step, which the caller must undo
        captured.append(k)
        return lambda: run_k(k)

    monkeypatch.setattr(fused, "capture", fake_capture)
    timings = {}
    costs, w = run("on", timings)
    assert captured == [10] and set(timings) == {"prepare_s", "capture_s", "loop_s"}
    np.testing.assert_array_equal(costs, ref_costs)
    np.testing.assert_array_equal(w, ref_w)

    def failing_capture(run_k, k, dev):
        run_k(1)
        raise RuntimeError("operation not permitted when stream is capturing")

    monkeypatch.setattr(fused, "capture", failing_capture)
    with pytest.raises(RuntimeError, match="not permitted"):
        run("on")
    with pytest.warns(RuntimeWarning, match="CUDA graph capture failed"):
        _, w = run("try")
    np.testing.assert_array_equal(w, ref_w)
