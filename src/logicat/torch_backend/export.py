"""ONNX export: the fitted classifier as a small ONNX graph any ONNX runtime can execute.

The graph is written with the ``onnx`` helper API - a few nodes per layer, nothing to trace:

    images (N, s, s, 3) uint8 --Reshape(N, n)--Cast--Div 255--> x (N, n)      [input="images"]
    x --(Sub mean, Div scale, with standardize=True)-->
      (for each hidden layer: --MatMul W--Add b--Relu|Tanh|Sigmoid--> A (N, n_l))
      --MatMul w--Add b--> logit (N,) --Sigmoid--> probability (N,)     p(positive class)

A ConvNet: x --Reshape (N, s, s, 3)--Transpose (N, 3, s, s)--normalise--> blocks of
Conv--BatchNormalization--Relu and MaxPool --GlobalAveragePool|Flatten--Gemm...--> logit
(with TTA the mean of the image's and its mirror image's) --Sigmoid--> probability.

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

from logicat.errors import MissingDependencyError, ParameterError
from logicat.model import Model
from logicat.paths import atomic_write_bytes
from logicat.validation import Options, check_param

INPUTS = ("images", "features")
OPSET = 17


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise MissingDependencyError(
            "Exporting to ONNX needs the onnx package, which is not installed. "
            "Install it with: pip install 'logicat[torch]'"
        ) from None
    return onnx


def to_onnx(model: Model, input: str = "images") -> Any:
    """The ``onnx.ModelProto`` of a ``Model`` (see the module docstring): logistic regression,
    or a network whose hidden layers are MatMul, Add and the activation each."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    check_param("input", input, [Options(INPUTS)])
    dtype = model.dtype
    elem = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    n = model.n_features
    meta = dict(model.metadata)
    spec = model.preprocessing
    size = int(spec["image_size"]) if spec else 0
    if input == "images" and size * size * 3 != n:
        raise ParameterError(
            f"The model has {n} features, not size*size*3 for RGB images; export it with "
            "input='features'."
        )

    def const(name: str, value: Any) -> Any:
        return numpy_helper.from_array(np.asarray(value), name)

    inits, nodes = [], []
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
    build = _convnet_graph if model.convnet is not None else _dense_graph
    more_inits, more_nodes = build(model, "x", const, helper)
    inits += more_inits
    nodes += more_nodes
    outputs = [
        helper.make_tensor_value_info("probability", elem, ["N"]),
        helper.make_tensor_value_info("logit", elem, ["N"]),
    ]
    graph = helper.make_graph(nodes, "logicat", [graph_input], outputs, initializer=inits)
    proto = helper.make_model(
        graph, producer_name="logicat", opset_imports=[helper.make_opsetid("", OPSET)]
    )
    proto.ir_version = min(proto.ir_version, 9)  # readable by onnxruntime >= 1.16
    proto.doc_string = (
        f"logicat {model.description}: probability = sigmoid(z), p({model.positive_class!r})."
    )
    header = {k: meta[k] for k in ("class_names", "positive_class", "preprocessing") if k in meta}
    header["classes"] = [str(c) for c in model.classes]
    helper.set_model_props(proto, {"logicat": json.dumps(header)})
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _dense_graph(model: Model, x: str, const, helper) -> tuple[list, list]:
    """The dense model's nodes from the features x (N, n) to "logit" and "probability":
    standardisation if trained with it, MatMul-Add-activation per hidden layer, the output."""
    dtype, inits, nodes = model.dtype, [], []
    if model.feature_mean is not None:
        inits += [const("mean", model.feature_mean.astype(dtype)),
                  const("scale", model.feature_scale.astype(dtype))]
        nodes += [helper.make_node("Sub", [x, "mean"], ["x_centered"]),
                  helper.make_node("Div", ["x_centered", "scale"], ["x_std"])]
        x = "x_std"
    act = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}[model.activation]
    for k in range(model.n_layers - 1):  # hidden layers: A = g(x W + b), (N, n_l)
        W, b = (np.ascontiguousarray(p) for p in model.params[2 * k:2 * k + 2])
        inits += [const(f"W{k + 1}", W), const(f"b{k + 1}", b)]
        nodes += [helper.make_node("MatMul", [x, f"W{k + 1}"], [f"xW{k + 1}"]),
                  helper.make_node("Add", [f"xW{k + 1}", f"b{k + 1}"], [f"Z{k + 1}"]),
                  helper.make_node(act, [f"Z{k + 1}"], [f"A{k + 1}"])]
        x = f"A{k + 1}"
    w, b = model.params[-2:]
    inits += [const("w", np.ascontiguousarray(w)), const("b", np.array(b[0], dtype=dtype))]
    nodes += [helper.make_node("MatMul", [x, "w"], ["xw"]),  # (N,)
              helper.make_node("Add", ["xw", "b"], ["logit"]),  # z = x . w + b
              helper.make_node("Sigmoid", ["logit"], ["probability"])]  # sigma(z)
    return inits, nodes


def _convnet_graph(model: Model, x: str, const, helper) -> tuple[list, list]:
    """The ConvNet's nodes from the features x (N, s*s*3) to "logit" and "probability":
    Reshape to (N, s, s, 3), Transpose to (N, 3, s, s), normalise, then Conv (pads 1),
    BatchNormalization (its running statistics), Relu and MaxPool per ``logicat.convnet``, the
    head as Gemm; with TTA the same network on the mirrored image too, and the mean logit."""
    spec, params = model.convnet, model.named_params
    dtype = model.dtype
    s = spec.image_size
    inits = [const(name.replace(".", "_"), np.ascontiguousarray(value.astype(dtype)))
             for name, value in params.items()]
    inits += [const("image_shape", np.array([-1, s, s, 3], np.int64)),
              const("channel_shape", np.array([1, 3, 1, 1], np.int64)),
              const("logit_shape", np.array([-1], np.int64)),
              const("half", dtype.type(0.5)),
              const("flip_starts", np.array([-1], np.int64)),
              const("flip_ends", np.array([np.iinfo(np.int64).min], np.int64)),
              const("flip_axes", np.array([3], np.int64)),
              const("flip_steps", np.array([-1], np.int64))]
    nodes = [helper.make_node("Reshape", [x, "image_shape"], ["nhwc"]),
             helper.make_node("Transpose", ["nhwc"], ["nchw"], perm=[0, 3, 1, 2]),
             helper.make_node("Reshape", ["input_mean", "channel_shape"], ["mean_c"]),
             helper.make_node("Reshape", ["input_std", "channel_shape"], ["std_c"])]
    views = [("", "nchw")]
    if spec.tta:  # the mirror image: reverse the width axis
        nodes.append(helper.make_node("Slice", ["nchw", "flip_starts", "flip_ends", "flip_axes",
                                                "flip_steps"], ["nchw_flip"]))
        views.append(("flip_", "nchw_flip"))
    for prefix, image in views:
        nodes += [helper.make_node("Sub", [image, "mean_c"], [prefix + "centered"]),
                  helper.make_node("Div", [prefix + "centered", "std_c"], [prefix + "h0"])]
        h, index = prefix + "h0", 0
        for k in range(len(spec.widths)):
            for _ in range(spec.convs_per_block):
                conv, bn = f"features_{index}_", f"features_{index + 1}_"
                nodes += [
                    helper.make_node("Conv", [h, conv + "weight"], [prefix + conv + "out"],
                                     kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                    helper.make_node("BatchNormalization", [prefix + conv + "out"] + [
                        bn + p for p in ("weight", "bias", "running_mean", "running_var")],
                        [prefix + bn + "out"], epsilon=1e-5),
                    helper.make_node("Relu", [prefix + bn + "out"], [prefix + f"relu{index}"])]
                h, index = prefix + f"relu{index}", index + 3
            nodes.append(helper.make_node("MaxPool", [h], [prefix + f"pool{k}"],
                                          kernel_shape=[2, 2], strides=[2, 2]))
            h, index = prefix + f"pool{k}", index + 1
        if spec.head == "gap":
            nodes.append(helper.make_node("GlobalAveragePool", [h], [prefix + "gap"]))
            h = prefix + "gap"
        nodes.append(helper.make_node("Flatten", [h], [prefix + "flat"]))
        h = prefix + "flat"
        linears = [name for name in params if name.startswith("head.") and
                   name.endswith(".weight")]
        for j, weight in enumerate(linears):
            name = weight[:-len(".weight")].replace(".", "_")
            nodes.append(helper.make_node("Gemm", [h, name + "_weight", name + "_bias"],
                                          [prefix + name + "_out"], transB=1))
            h = prefix + name + "_out"
            if j < len(linears) - 1:
                nodes.append(helper.make_node("Relu", [h], [prefix + name + "_relu"]))
                h = prefix + name + "_relu"
        nodes.append(helper.make_node("Reshape", [h, "logit_shape"], [prefix + "z"]))
    if spec.tta:
        nodes += [helper.make_node("Add", ["z", "flip_z"], ["z_sum"]),
                  helper.make_node("Mul", ["z_sum", "half"], ["logit"])]
    else:
        nodes.append(helper.make_node("Identity", ["z"], ["logit"]))
    nodes.append(helper.make_node("Sigmoid", ["logit"], ["probability"]))
    return inits, nodes


def export_onnx(model: Model | str | os.PathLike[str], out: str | os.PathLike[str],
                input: str = "images") -> Path:
    """Write a ``Model`` (or a logicat model file's path) as ONNX to ``out``, atomically."""
    if isinstance(model, str | os.PathLike):
        from logicat.files import read_model

        model = read_model(model)
    return atomic_write_bytes(out, to_onnx(model, input).SerializeToString(), "ONNX model")
