"""ONNX export: the fitted classifier as a small ONNX graph any ONNX runtime can execute.

The graph is written with the ``onnx`` helper API - six nodes, nothing to trace:

    images (N, s, s, 3) uint8 --Reshape(N, n)--Cast--Div 255--> x (N, n)      [input="images"]
    x --(Sub mean, Div scale, with standardize=True)--MatMul w--Add b--> logit (N,)
    logit --Sigmoid--> probability (N,)                    p(positive class | image)

``input="features"`` starts from x (N, n) instead (the features ``images_to_features`` makes).
The arithmetic is in the model's dtype (float64 or float32). The model file's metadata (class
names, positive class, preprocessing) is copied into the ONNX metadata as JSON under "logicat".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from logicat.errors import LogicatError
from logicat.model_io import atomic_write_bytes

INPUTS = ("images", "features")
OPSET = 17


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise LogicatError(
            "Exporting to ONNX needs the onnx package, which is not installed. "
            "Install it with: pip install 'logicat[torch]'"
        ) from None
    return onnx


def to_onnx(clf: Any, input: str = "images") -> Any:
    """The ``onnx.ModelProto`` of a fitted ``LogisticRegression`` (see the module docstring)."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    if input not in INPUTS:
        raise ValueError(
            f"The 'input' parameter must be one of {', '.join(map(repr, INPUTS))}. "
            f"Got {input!r} instead."
        )
    coef = np.ascontiguousarray(clf.coef_)
    dtype = coef.dtype
    elem = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    n = coef.shape[0]
    meta = dict(getattr(clf, "metadata_", {}) or {})
    size = int(meta.get("preprocessing", {}).get("image_size") or round((n / 3) ** 0.5))
    if input == "images" and size * size * 3 != n:
        raise ValueError(
            f"The model has {n} features, not size*size*3 for RGB images; export it with "
            "input='features'."
        )

    def const(name: str, value: Any) -> Any:
        return numpy_helper.from_array(np.asarray(value), name)

    inits = [const("w", coef), const("b", np.array(clf.intercept_, dtype=dtype))]
    nodes = []
    if input == "images":
        graph_input = helper.make_tensor_value_info(
            "images", TensorProto.UINT8, ["N", size, size, 3]
        )
        inits += [const("shape", np.array([-1, n], np.int64)), const("k255", dtype.type(255))]
        nodes += [
            helper.make_node("Reshape", ["images", "shape"], ["pixels"]),  # (N, n) uint8
            helper.make_node("Cast", ["pixels"], ["pixels_f"], to=elem),
            helper.make_node("Div", ["pixels_f", "k255"], ["x"]),  # x = pixels / 255
        ]
    else:
        graph_input = helper.make_tensor_value_info("x", elem, ["N", n])
    x = "x"
    mean = getattr(clf, "feature_mean_", None)
    if mean is not None:
        inits += [
            const("mean", mean.astype(dtype)),
            const("scale", clf.feature_scale_.astype(dtype)),
        ]
        nodes += [
            helper.make_node("Sub", ["x", "mean"], ["x_centered"]),
            helper.make_node("Div", ["x_centered", "scale"], ["x_std"]),
        ]
        x = "x_std"
    nodes += [
        helper.make_node("MatMul", [x, "w"], ["xw"]),  # (N,)
        helper.make_node("Add", ["xw", "b"], ["logit"]),  # z = x . w + b
        helper.make_node("Sigmoid", ["logit"], ["probability"]),  # sigma(z)
    ]
    outputs = [
        helper.make_tensor_value_info("probability", elem, ["N"]),
        helper.make_tensor_value_info("logit", elem, ["N"]),
    ]
    graph = helper.make_graph(nodes, "logicat", [graph_input], outputs, initializer=inits)
    model = helper.make_model(
        graph, producer_name="logicat", opset_imports=[helper.make_opsetid("", OPSET)]
    )
    model.ir_version = min(model.ir_version, 9)  # readable by onnxruntime >= 1.16
    model.doc_string = (
        "logicat logistic regression: probability = sigmoid(x . w + b), "
        f"p({meta.get('positive_class', 'class 1')!r})."
    )
    header = {k: meta[k] for k in ("class_names", "positive_class", "preprocessing") if k in meta}
    header["classes"] = [str(c) for c in getattr(clf, "classes_", [])]
    helper.set_model_props(model, {"logicat": json.dumps(header)})
    onnx.checker.check_model(model, full_check=True)
    return model


def export_onnx(model: Any, out: str | os.PathLike[str], input: str = "images") -> Path:
    """Write a fitted ``LogisticRegression`` (or a logicat model file's path) as ONNX to ``out``.

    The file is written to a temporary name in the same folder and renamed over ``out``, so an
    interrupted export never leaves a half-written file.
    """
    if isinstance(model, (str, os.PathLike)):
        from logicat.model_io import load_model

        model = load_model(model)
    proto = to_onnx(model, input)
    out = Path(out)
    atomic_write_bytes(out, proto.SerializeToString(), "ONNX model")
    return out
