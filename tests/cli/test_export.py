"""``logicat export``: the ONNX graph from images and from features gives logicat's probabilities
(onnxruntime), and errors are one line with nothing half-written."""

from __future__ import annotations

import numpy as np
import pytest

from logicat import LogisticRegression
from tests.conftest import invoke


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_export_onnx_matches_logicat(cat_data, cat_features, tmp_path, dtype):
    ort = pytest.importorskip("onnxruntime")
    X, y, X_test, _ = cat_features
    clf = LogisticRegression(max_iter=150, dtype=dtype).fit(X, y)
    model = clf.save(tmp_path / "m.safetensors", class_names=["non-cat", "cat"])
    out = tmp_path / "m.onnx"
    result = invoke("export", "--format", "onnx", str(model), str(out))
    assert result.exit_code == 0, result.output
    assert f"Saved the ONNX model to {out}" in result.output
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    probability, logit = session.run(["probability", "logit"], {"images": cat_data.test_x})
    expected = clf.predict_proba(X_test.astype(dtype))[:, 1]
    assert probability.shape == (50,) and probability.dtype == np.dtype(dtype)
    np.testing.assert_allclose(probability, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(logit, clf.decision_function(X_test.astype(dtype)), atol=1e-4)
    assert '"positive_class": "cat"' in session.get_modelmeta().custom_metadata_map["logicat"]
    # the graph that starts from features gives the same probabilities
    features = tmp_path / "f.onnx"
    args = ["export", "--input", "features", str(model), str(features)]
    assert invoke(*args).exit_code == 0
    session = ort.InferenceSession(str(features), providers=["CPUExecutionProvider"])
    (p,) = session.run(["probability"], {"x": X_test.astype(dtype)})
    np.testing.assert_allclose(p, expected, rtol=0, atol=1e-6)


def test_export_errors(tmp_path):
    result = invoke("export", str(tmp_path / "none.safetensors"), str(tmp_path / "o.onnx"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "no such model file" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = invoke("export", "m.safetensors", str(tmp_path / "no" / "o.onnx"))
    assert result.exit_code == 2 and "does not exist" in result.output
    result = invoke("export", "--format", "tflite", "m.safetensors", "o.onnx")
    assert result.exit_code == 2
    assert list(tmp_path.iterdir()) == []  # nothing half-written
