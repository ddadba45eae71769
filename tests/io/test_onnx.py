"""The ONNX export of a model file (``logicat.io.onnx``), run by onnxruntime. (The command:
``tests/cli/test_export.py``; every layer type's ONNX nodes: ``tests/nn/layer_types/``; a
network's and a ConvNet's graphs: ``tests/networks/test_everywhere.py``, ``tests/convnet/``.)"""

from __future__ import annotations

import numpy as np
import pytest

from logicat import LogisticRegression


def test_export_onnx_standardized_model(cat_data, cat_features, tmp_path):
    """A model trained on standardized features exports its (x - mean) / scale too."""
    ort = pytest.importorskip("onnxruntime")
    from logicat.io.onnx import export_onnx

    X, y, X_test, _ = cat_features
    clf = LogisticRegression(max_iter=30, standardize=True).fit(X, y)
    path = clf.save(tmp_path / "s.safetensors")
    out = export_onnx(path, tmp_path / "s.onnx")
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (p,) = session.run(["probability"], {"images": cat_data.test_x})
    np.testing.assert_allclose(p, clf.predict_proba(X_test)[:, 1], rtol=0, atol=1e-6)
