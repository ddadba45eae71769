"""What the tests of the layers share: random tensors of a list's shapes, random and extreme
inputs, and the list's logits through onnxruntime (``logicat.io.onnx.layers_to_onnx``)."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.nn.layers import shapes


def random_tensors(layers, input_shape, seed=0) -> dict[str, np.ndarray]:
    """Random float64 tensors of the layers' shapes: N(0, 0.5), and U(0.5, 2) where a layer
    needs them positive (a standard deviation, a running variance)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in shapes(layers, input_shape)[0].items():
        positive = name.endswith(("std", "running_var", "scale"))
        out[name] = (rng.uniform(0.5, 2.0, shape) if positive else rng.normal(0, 0.5, shape))
    return out


def random_inputs(input_shape, seed=1, m=5) -> np.ndarray:
    """``m`` uint8 images (m, H, W, C), channels last, for (C, H, W); N(0, 1) vectors (m, n)
    for (n,)."""
    rng = np.random.default_rng(seed)
    if len(input_shape) == 3:
        c, h, w = input_shape
        return rng.integers(0, 256, (m, h, w, c), dtype=np.uint8)
    return rng.normal(size=(m, *input_shape))


def extreme_inputs(shape, seed=3) -> np.ndarray:
    """Inputs in [0, 1] that push a value bound: all 0, all 1, random 0/1, uniform."""
    rng = np.random.default_rng(seed)
    full = (6, shape[1], shape[2], shape[0]) if len(shape) == 3 else (6, *shape)
    return np.concatenate([np.zeros((1, *full[1:])), np.ones((1, *full[1:])),
                           rng.integers(0, 2, (2, *full[1:])), rng.uniform(size=(2, *full[1:]))])


def onnx_logit(layers, tensors, x) -> np.ndarray:
    """z (m,) of ``layers`` on ``x`` (images (m, H, W, C), uint8 or in [0, 1], or vectors) as
    onnxruntime computes the exported graph, in the tensors' dtype (onnxruntime convolves in
    float32 only: give float32 tensors to lists with a convolution)."""
    onnxruntime = pytest.importorskip("onnxruntime")
    from logicat.io.onnx import layers_to_onnx

    x = np.asarray(x)
    features = (x.reshape(len(x), -1) / 255.0) if x.dtype == np.uint8 else x.reshape(len(x), -1)
    dtype = np.result_type(*tensors.values())
    proto = layers_to_onnx(layers, tensors, features.shape[1])
    session = onnxruntime.InferenceSession(proto.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    logit, = session.run(["logit"], {"x": features.astype(dtype)})
    return logit
