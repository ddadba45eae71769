"""The speed suite (benchmarks/suite.py, a harness of the source tree): runs, prints the table,
and its cost-history checks pass (no timings)."""

from __future__ import annotations

import numpy as np

from logicat.nn.loss import cost_and_gradients
from tests import paths
from tests.lesson import lesson_optimize


def test_lesson_baseline_is_the_reference_math(cat_features):
    """Baseline L (examples as columns) takes the same steps as cost_and_gradients (rows)."""
    X, y, _, _ = cat_features
    X = np.ascontiguousarray(X[:, :3000])  # a slice of the features keeps it quick
    w, b, costs = lesson_optimize(np.zeros((X.shape[1], 1)), 0.0, X.T, y.reshape(1, -1), 101,
                                  0.005)
    w_ref, b_ref = np.zeros(X.shape[1]), 0.0
    ref_costs = []
    for i in range(101):
        cost, dw, db = cost_and_gradients(w_ref, b_ref, X, y.astype(float))
        if i % 100 == 0:
            ref_costs.append(cost)
        w_ref, b_ref = w_ref - 0.005 * dw, b_ref - 0.005 * db
    np.testing.assert_allclose(costs, ref_costs, rtol=1e-12)
    np.testing.assert_allclose(w[:, 0], w_ref, rtol=1e-10, atol=1e-15)


def test_the_suite_prints_the_table_and_checks(capsys):
    import runpy

    suite = paths.ROOT / "benchmarks" / "suite.py"
    runpy.run_path(str(suite))["main"](["--iterations", "3", "--repeat", "1", "--skip", "P",
                                        "--skip", "S", "--skip", "cli"])
    output = capsys.readouterr().out
    for row in ("L  lesson NumPy code", "logicat LogisticRegression.fit (float32)",
                "fused kernel, X as uint8 bytes, 1 thread (float64)", "G  one float32 X @ w"):
        assert row in output
    assert "blas:" in output
    checks = [line for line in output.splitlines() if " vs " in line and "<=" in line]
    assert len(checks) == 5 and all("(ok <=" in line for line in checks), checks
