"""Every engine interprets the same list of layers: NumPy (``nn.forward``), PyTorch
(``engines.torch.layers.LayerNet``), ONNX (``io.onnx.layers_to_onnx``, run by
onnxruntime) and logicat's own autograd (``engines.autograd.layers.LayerGraph``) give the same
logits, over every layer type and option and every family."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.nn import forward
from logicat.nn.families import convnet_layers, dense_layers, standardized
from logicat.nn.layer_types import Residual
from logicat.nn.layers import OPTIONS, layer, resolve
from tests.nn.conftest import onnx_logit, random_inputs, random_tensors

torch = pytest.importorskip("torch")

from logicat.engines.torch.layers import LayerNet  # noqa: E402

L = layer
IMAGES = {  # input (3, 16, 16): every layer type that takes images, with its options varied
    "conv-bn-pools": [L("normalize", "input"), L("conv2d", "c0", filters=3),
                      L("batchnorm", "b0"), L("relu"), L("maxpool"),
                      L("conv2d", "c1", filters=4, kernel=2, stride=2, padding=0, bias=True),
                      L("batchnorm", "b1", eps=1e-3), L("tanh"), L("maxpool", kernel=3, stride=2),
                      L("gap"), L("dropout", rate=0.5), L("dense", "d0", units=5), L("relu"),
                      L("dense", "d1", units=1), L("sigmoid")],
    "flatten-head": [L("normalize", "input"), L("conv2d", "c0", filters=2, kernel=5, padding=2),
                     L("relu"), L("maxpool", kernel=3), L("flatten"),
                     L("dense", "d0", units=4, bias=False), L("tanh"),
                     L("dense", "d1", units=1), L("sigmoid")],
    # the small-image network's layers: residual blocks (an identity shortcut, and a 1x1
    # convolution's where the body strides and widens), strided and depthwise convolutions,
    # average pooling and leaky ReLU
    "residual-blocks": [L("normalize", "input"), *resolve([
        L("conv2d", filters=4), L("batchnorm"), L("leaky_relu", slope=0.1),
        Residual([L("conv2d", filters=4), L("batchnorm"), L("relu"),
                  L("conv2d", filters=4, groups=4, bias=True), L("batchnorm")]), L("relu"),
        Residual([L("conv2d", filters=6, stride=2), L("batchnorm"), L("relu"),
                  L("conv2d", filters=6, groups=2)]), L("relu"),
        L("avgpool", kernel=3, stride=2), L("gap"), L("dense", units=1)], (3, 16, 16)),
        L("sigmoid")],
    # GELU, exact (erf) and in PyTorch's tanh form, after a convolution and in the head
    "gelu": [L("normalize", "input"), L("conv2d", "c0", filters=3), L("gelu"),
             L("maxpool"), L("gap"), L("dense", "d0", units=3),
             L("gelu", approximate="tanh"), L("dense", "d1", units=1), L("sigmoid")],
}
VECTORS = {  # input (10,): the dense families, and every dense layout
    "logistic": dense_layers(()),
    "course-network": dense_layers((6, 3), "tanh"),
    "standardized-sigmoid": standardized(dense_layers((4,), "sigmoid")),
    "batchnorm-on-vectors": [L("dense", "d0", units=6), L("batchnorm", "b0"), L("relu"),
                             L("dense", "d1", units=1, layout="in_out"), L("sigmoid")],
}


class _Spec:  # the ConvNet family's description, as ConvNetSpec gives it
    widths, convs_per_block, head, hidden, image_size = (3, 4), 2, "gap", 5, 16


CASES = [(name, layers, (3, 16, 16)) for name, layers in IMAGES.items()] + [
    (name, layers, (10,)) for name, layers in VECTORS.items()] + [
    ("the ConvNet family", convnet_layers(_Spec), (3, 16, 16))]


def test_the_cases_cover_every_layer_type_and_dense_layout():
    used = {inner.type for _, layers, _ in CASES for lay in layers for inner in lay.walk()}
    assert used == set(OPTIONS)
    layouts = {lay["layout"] for _, layers, _ in CASES for lay in layers if lay.type == "dense"}
    assert layouts == {"out_in", "in_out", "vector"}


@pytest.mark.parametrize("name, layers, input_shape", CASES, ids=[c[0] for c in CASES])
def test_numpy_torch_and_onnx_give_the_same_logits(name, layers, input_shape):
    tensors = random_tensors(layers, input_shape)
    x = random_inputs(input_shape)
    mine = forward.logit(layers, tensors, x)  # NumPy, float64

    net = LayerNet(layers, input_shape).double().load_numpy_params(tensors).eval()
    if x.dtype == np.uint8:
        given = torch.from_numpy(x).permute(0, 3, 1, 2).double() / 255.0
    else:
        given = torch.from_numpy(x)
    with torch.no_grad():
        theirs = net(given).numpy()
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-10)
    back = net.numpy_params()
    assert back.keys() == tensors.keys()
    for key in tensors:  # each tensor back in the files' layout
        np.testing.assert_array_equal(back[key], tensors[key])

    # onnxruntime convolves in float32 only: those lists are compared in float32, to 1e-5
    dtype, atol = (np.float32, 1e-5) if any(lay.type == "conv2d" for lay in layers) else (
        np.float64, 1e-10)
    tensors = {k: v.astype(dtype) for k, v in tensors.items()}
    logit = onnx_logit(layers, tensors, x)
    np.testing.assert_allclose(logit, forward.logit(layers, tensors, x), rtol=0, atol=atol)
    np.testing.assert_allclose(logit, mine, rtol=0, atol=10 * atol)


IMAGE_CASES = [case for case in CASES if len(case[2]) == 3]


@pytest.mark.parametrize("name, layers, input_shape", IMAGE_CASES,
                         ids=[c[0] for c in IMAGE_CASES])
def test_logicats_own_engine_gives_the_same_logits(name, layers, input_shape):
    """The whole list, its input normalisation included, in evaluation mode."""
    from logicat.engines.autograd.layers import LayerGraph, nchw

    tensors = random_tensors(layers, input_shape)
    x = random_inputs(input_shape)
    mine = forward.logit(layers, tensors, x)
    z = LayerGraph(layers, input_shape).forward(nchw(x), tensors, training=False).logits.data
    np.testing.assert_allclose(z, mine, rtol=0, atol=1e-10)


def test_conv2d_and_maxpool_take_any_kernel_stride_and_padding():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(34, 3, 9, 7))
    for kernel, stride, padding in [(3, 1, 1), (5, 2, 0), (2, 3, 2), (1, 1, 0)]:
        W, b = rng.normal(size=(4, 3, kernel, kernel)), rng.normal(size=4)
        expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(W),
                                              torch.from_numpy(b), stride, padding).numpy()
        got = forward.conv2d(x.transpose(0, 2, 3, 1), W, b, stride, padding)
        np.testing.assert_allclose(got.transpose(0, 3, 1, 2), expected, rtol=0, atol=1e-12)
    for kernel, stride in [(2, 2), (3, 3), (3, 2), (2, 1)]:
        expected = torch.nn.functional.max_pool2d(torch.from_numpy(x), kernel, stride).numpy()
        got = forward.maxpool(x.transpose(0, 2, 3, 1), kernel, stride)
        np.testing.assert_array_equal(got.transpose(0, 3, 1, 2), expected)
