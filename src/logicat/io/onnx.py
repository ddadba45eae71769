"""ONNX export: the fitted classifier as a small ONNX graph any ONNX runtime can execute.

The graph is written with the ``onnx`` helper API - nothing to trace: it interprets the model's
list of layers (``Model.layers``, ``logicat.nn.layers``), a few nodes per layer type:

    images (N, s, s, 3) uint8 --Reshape(N, n)--Cast--Div 255--> x (N, n)      [input="images"]
    normalize   Sub mean, Div std (per feature; per channel of images, as (1, C, 1, 1))
    conv2d      Conv (kernel, strides, pads)          batchnorm   BatchNormalization (eps)
    relu, tanh, sigmoid   Relu, Tanh, Sigmoid          maxpool     MaxPool (kernel, strides)
    gap         GlobalAveragePool, Flatten             flatten     Flatten
    dropout     (nothing: inference)
    dense       Gemm (PyTorch's (units, n) weight, transB) or MatMul and Add
    --> each member's logit (N,) --output step--> logit (N,) --Sigmoid--> probability (N,)

The output step (``logicat.nn.output``) is a few nodes after the members' logits: Mean of the
members' logits (an ensemble's "logit" combination) or Sigmoid, Mean, and the log-odds of the
mean (its "proba" combination, as log mean sigma(c) - log mean sigma(-c)), Div by the
calibration's temperature, Add the prior's shift - each only where the model has it. An
ensemble's members are one graph: their tensors are named ``m<k>_...`` for k >= 1.

The ``images`` input has the model's image size, s x s (64 for the cat data, ``train
--image-size`` for your photos); its doc string says so and how to resize (``input_doc``): the
graph does not resize, since ONNX's Resize has no Lanczos and predict's pixels would differ.

Layers that take images start with a Reshape of x to (N, s, s, 3) and a Transpose to
(N, 3, s, s); a network with TTA runs its layers on each view of the image too (the mirror, and
with "shifts" the shifted views: Gathers of rows and columns, ``nn.tta``) and the logit is the
mean of the views'. ``input="features"`` starts from x (N, n) instead (the features
``images_to_features`` makes). The arithmetic is in the model's dtype (float64 or float32). The
model file's metadata (class names, positive class, preprocessing) is copied into the ONNX
metadata as JSON under "logicat".
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from logicat.core.errors import MissingDependencyError, ParameterError
from logicat.core.paths import atomic_write_bytes
from logicat.core.validation import Options, check_param
from logicat.model import Model
from logicat.nn.layers import Layer, logit_layers, takes_images
from logicat.nn.output import Output
from logicat.nn.tta import views as image_views

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


def input_doc(size: int) -> str:
    """What the graph's ``images`` input takes, and how to make it (its ONNX doc string;
    ``logicat export`` prints it)."""
    return (f"uint8 RGB images of {size}x{size}, (N, {size}, {size}, 3): resize each image to "
            f"{size}x{size} first, as logicat does (Lanczos, the aspect ratio not kept: "
            f"logicat.load_image(path, size={size}), or PIL's "
            f"Image.open(path).convert('RGB').resize(({size}, {size}), Image.LANCZOS))")


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
            "images", TensorProto.UINT8, ["N", size, size, 3], input_doc(size))
        inits += [const("shape", np.array([-1, n], np.int64)), const("k255", dtype.type(255))]
        nodes += [
            helper.make_node("Reshape", ["images", "shape"], ["pixels"]),  # (N, n) uint8
            helper.make_node("Cast", ["pixels"], ["pixels_f"], to=elem),
            helper.make_node("Div", ["pixels_f", "k255"], ["x"]),  # x = pixels / 255
        ]
    else:
        graph_input = helper.make_tensor_value_info("x", elem, ["N", n])
    more_inits, more_nodes = _graph(model.layers, model.members, n, model.tta, dtype, "x", const,
                                    helper, model.output)
    proto = _proto(nodes + more_nodes, inits + more_inits, graph_input, elem)
    proto.doc_string = (
        f"logicat {model.description}: probability = sigmoid(z), p({model.positive_class!r})."
    )
    header = {k: meta[k] for k in ("class_names", "positive_class", "preprocessing") if k in meta}
    header["classes"] = [str(c) for c in model.classes]
    helper.set_model_props(proto, {"logicat": json.dumps(header)})
    onnx.checker.check_model(proto, full_check=True)
    return proto


def layers_to_onnx(layers: Sequence[Layer], tensors: Mapping[str, np.ndarray], n_features: int,
                   tta: bool | str = False) -> Any:
    """Any list of layers with its tensors as an ``onnx.ModelProto`` from the features x
    (N, n_features) - images as the lesson's features, (row, column, channel) - to "logit" and
    "probability" (``to_onnx`` is this for a ``Model``, from its images, with its metadata)."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    dtype = np.result_type(*tensors.values())
    elem = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT

    def const(name: str, value: Any) -> Any:
        return numpy_helper.from_array(np.asarray(value), name)

    inits, nodes = _graph(layers, [tensors], n_features, tta, dtype, "x", const, helper)
    proto = _proto(nodes, inits, helper.make_tensor_value_info("x", elem, ["N", n_features]),
                   elem)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _proto(nodes: list, inits: list, graph_input: Any, elem: int) -> Any:
    from onnx import helper

    outputs = [helper.make_tensor_value_info("probability", elem, ["N"]),
               helper.make_tensor_value_info("logit", elem, ["N"])]
    graph = helper.make_graph(nodes, "logicat", [graph_input], outputs, initializer=inits)
    proto = helper.make_model(graph, producer_name="logicat",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    proto.ir_version = min(proto.ir_version, 9)  # readable by onnxruntime >= 1.16
    return proto


def _graph(layers: Sequence[Layer], members: Sequence[Mapping[str, np.ndarray]],
           n_features: int, tta: bool | str, dtype: np.dtype, x: str, const, helper,
           output: Output | None = None) -> tuple[list, list]:
    """The nodes from the features x (N, n) to "logit" and "probability": each member's layers,
    each layer's nodes (``Layer.onnx_nodes``), then the output step. Layers that take images
    first reshape x to (N, 3, s, s), and with TTA run on each view of the image too (a Gather of
    its rows and one of its columns, ``nn.tta``), a member's logit being the mean of the
    views'."""
    layers = logit_layers(layers)
    inits = [const(_onnx_name(name, k), np.ascontiguousarray(np.asarray(value, dtype)))
             for k, tensors in enumerate(members) for name, value in tensors.items()]
    inits.append(const("logit_shape", np.array([-1], np.int64)))
    nodes = []
    views = [("", x)]
    shape: tuple[int, ...] = (n_features,)
    if takes_images(layers):
        s = math.isqrt(n_features // 3)  # (N, s * s * 3) -> (N, 3, s, s)
        shape = (3, s, s)
        inits.append(const("image_shape", np.array([-1, s, s, 3], np.int64)))
        nodes += [helper.make_node("Reshape", [x, "image_shape"], ["nhwc"]),
                  helper.make_node("Transpose", ["nhwc"], ["nchw"], perm=[0, 3, 1, 2])]
        views = [("", "nchw")]
        for k, (rows, cols) in enumerate(image_views(tta, s)[1:], start=1):  # gathers
            inits += [const(f"view{k}_rows", rows.astype(np.int64)),
                      const(f"view{k}_cols", cols.astype(np.int64))]
            nodes += [helper.make_node("Gather", ["nchw", f"view{k}_rows"], [f"view{k}_r"],
                                       axis=2),
                      helper.make_node("Gather", [f"view{k}_r", f"view{k}_cols"],
                                       [f"view{k}_x"], axis=3)]
            views.append((f"view{k}_", f"view{k}_x"))
        if len(views) > 1:
            inits.append(const("views_mean", dtype.type(1.0 / len(views))))
    logits = []  # each member's logit
    consts: dict[str, np.ndarray] = {}  # what the layers' nodes read: one each, by name
    for k in range(len(members)):
        member = f"m{k}_" if k else ""
        names = {name: _onnx_name(name, k) for name in members[0]}
        for prefix, h in views:
            into = shape
            for i, lay in enumerate(layers):  # each type writes its own nodes
                more, extra, h = lay.onnx_nodes(h, f"{member}{prefix}l{i}", into, names, helper)
                consts.update(more)
                nodes += extra
                into = lay.output_shape(into, f"layer {i} ({lay.type})")
            nodes.append(helper.make_node("Reshape", [h, "logit_shape"],
                                          [f"{member}{prefix}z"]))
        logits.append(f"{member}z")
        if len(views) > 1:  # the mean of the views' logits
            nodes += [helper.make_node("Sum", [f"{member}{prefix}z" for prefix, _ in views],
                                       [f"{member}z_sum"]),
                      helper.make_node("Mul", [f"{member}z_sum", "views_mean"],
                                       [f"{member}z_tta"])]
            logits[-1] = f"{member}z_tta"
    if output is not None and (len(members) > 1 or output.temperature != 1.0
                               or output.shift() != 0.0):
        more_inits, more_nodes = _output_nodes(output, logits, dtype, const, helper)
        inits += more_inits
        nodes += more_nodes
    else:
        nodes.append(helper.make_node("Identity", logits, ["logit"]))
    nodes.append(helper.make_node("Sigmoid", ["logit"], ["probability"]))
    return inits + [const(name, value) for name, value in consts.items()], nodes


def _output_nodes(output: Output, names: list[str], dtype: np.dtype, const, helper
                  ) -> tuple[list, list]:
    """The output step (``logicat.nn.output``) as nodes from the members' logits ``names`` to
    "logit"."""
    make = helper.make_node
    inits = [const("temperature", dtype.type(output.temperature))]
    nodes = [make("Div", [name, "temperature"], [f"{name}_t"]) for name in names]
    scaled = [f"{name}_t" for name in names]
    if len(names) == 1:
        nodes.append(make("Identity", scaled, ["combined"]))
    elif output.combine == "logit":
        nodes.append(make("Mean", scaled, ["combined"]))
    else:  # logit(mean sigma(c_k)) = log mean sigma(c_k) - log mean sigma(-c_k)
        for name in scaled:
            nodes += [make("Sigmoid", [name], [f"{name}_p"]), make("Neg", [name], [f"{name}_n"]),
                      make("Sigmoid", [f"{name}_n"], [f"{name}_q"])]
        nodes += [make("Mean", [f"{n}_p" for n in scaled], ["mean_p"]),
                  make("Mean", [f"{n}_q" for n in scaled], ["mean_q"]),
                  make("Log", ["mean_p"], ["log_p"]), make("Log", ["mean_q"], ["log_q"]),
                  make("Sub", ["log_p", "log_q"], ["combined"])]
    inits.append(const("prior_shift", dtype.type(output.shift())))
    nodes.append(make("Add", ["combined", "prior_shift"], ["logit"]))
    return inits, nodes


def _onnx_name(name: str, member: int = 0) -> str:
    return (f"m{member}_" if member else "") + name.replace(".", "_")


def export_onnx(model: Model | str | os.PathLike[str], out: str | os.PathLike[str],
                input: str = "images") -> Path:
    """Write a ``Model`` (or a logicat model file's path) as ONNX to ``out``, atomically."""
    if isinstance(model, str | os.PathLike):
        from logicat.io.files import read_model

        model = read_model(model)
    return atomic_write_bytes(out, to_onnx(model, input).SerializeToString(), "ONNX model")
