"""The NumPy engine's hand-derived backward pass (``nn.backward``): every layer type and option
against central finite differences, every family against PyTorch's autograd, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.core.errors import ShapeError
from logicat.engines.autograd.gradient_check import numeric_gradient
from logicat.nn import backward, forward
from logicat.nn.convnet import ConvNetSpec
from logicat.nn.families import convnet_layers, dense_layers, logistic_layers, standardized
from logicat.nn.layers import LAYOUTS, layer, logit_layers, shapes
from logicat.nn.loss import cross_entropy

L = layer
EPS, RTOL = 1e-6, 1e-6


def _tensors(layers, input_shape, seed=0):
    """Random float64 tensors of the layers' shapes (positive where a layer needs it)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in shapes(layers, input_shape)[0].items():
        positive = name.endswith(("std", "running_var", "scale"))
        out[name] = rng.uniform(0.5, 2.0, shape) if positive else rng.normal(0, 0.7, shape)
    return out


def _data(input_shape, m, seed=1):
    rng = np.random.default_rng(seed)
    if len(input_shape) == 3:
        c, h, w = input_shape
        x = rng.uniform(0, 1, (m, h, w, c))  # images, channels last, in [0, 1]
    else:
        x = rng.normal(size=(m, *input_shape))
    return x, (np.arange(m) % 2).astype(np.float64)


def _trained(layers):
    return [name for lay in logit_layers(layers) for role, name in lay.tensor_names().items()
            if role in backward.TRAINED_ROLES]


def _cost(layers, tensors, x, y, training):
    z, _ = backward.forward_cache(logit_layers(layers), tensors, x, training)
    return float(cross_entropy(z[:, 0], y).mean())


def _numeric(f, array):
    """Central differences of f() by every entry of ``array`` (changed in place, restored)."""
    return numeric_gradient(f, array, EPS)


def _relative(a, b):
    """||a - b|| / max(||a||, ||b||), a gradient that is 0 (a bias before a batchnorm in
    training) measured against 1e-8 instead."""
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-8))


def _away_from_kinks(layers, tensors, x, training, margin=1e-4):
    """No ReLU input within ``margin`` of 0, no max-pool window whose two largest values are
    within it: finite differences of EPS cannot cross a kink."""
    assert backward.kinks(layers, tensors, x, margin, training) == {}


def _check_by_finite_differences(layers, input_shape, training=False, m=3, seed=0,
                                 input_too=True):
    tensors = _tensors(layers, input_shape, seed)
    x, y = _data(input_shape, m, seed + 1)
    _away_from_kinks(layers, tensors, x, training)
    cost, (grads, dx) = backward.logit_and_gradients(layers, tensors, x, y, training=training)
    assert cost == pytest.approx(_cost(layers, tensors, x, y, training), rel=1e-14)
    assert sorted(grads) == sorted(_trained(layers))
    for name, g in grads.items():
        assert g.shape == tensors[name].shape and g.dtype == np.float64
        numeric = _numeric(lambda: _cost(layers, tensors, x, y, training), tensors[name])
        assert _relative(g, numeric) <= RTOL, name
    assert dx.shape == x.shape
    if input_too:
        numeric = _numeric(lambda: _cost(layers, tensors, x, y, training), x)
        assert _relative(dx, numeric) <= RTOL, "the input"
    return grads


IMAGE = (3, 8, 8)
CONV_CASES = [(s, p, b) for s in (1, 2) for p in (0, 1) for b in (False, True)]


@pytest.mark.parametrize("stride, padding, bias", CONV_CASES,
                         ids=[f"stride{s}-pad{p}-{'bias' if b else 'nobias'}"
                              for s, p, b in CONV_CASES])
def test_conv2d_by_finite_differences(stride, padding, bias):
    layers = [L("conv2d", "c", filters=3, stride=stride, padding=padding, bias=bias),
              L("tanh"), L("flatten"), L("dense", "d", units=1), L("sigmoid")]
    _check_by_finite_differences(layers, IMAGE)


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 2)])
def test_maxpool_by_finite_differences(kernel, stride):
    layers = [L("conv2d", "c", filters=2, bias=True), L("maxpool", kernel=kernel, stride=stride),
              L("flatten"), L("dense", "d", units=1), L("sigmoid")]
    _check_by_finite_differences(layers, IMAGE)


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
def test_batchnorm_by_finite_differences(training):
    on_images = [L("normalize", "input"), L("conv2d", "c", filters=3), L("batchnorm", "b"),
                 L("relu"), L("gap"), L("dropout", rate=0.5), L("dense", "d", units=1),
                 L("sigmoid")]
    _check_by_finite_differences(on_images, IMAGE, training)
    on_vectors = [L("dense", "d0", units=4), L("batchnorm", "b", eps=1e-3), L("tanh"),
                  L("dense", "d1", units=1), L("sigmoid")]
    _check_by_finite_differences(on_vectors, (5,), training, m=6)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_activations_by_finite_differences(activation):
    layers = [L("dense", "d0", units=5), L(activation), L("dense", "d1", units=1), L("sigmoid")]
    _check_by_finite_differences(layers, (4,), m=5)
    on_images = [L("conv2d", "c", filters=2, bias=True), L(activation), L("gap"),
                 L("dense", "d", units=1), L("sigmoid")]
    _check_by_finite_differences(on_images, IMAGE, m=2)


DENSE_CASES = [(layout, bias) for layout in LAYOUTS for bias in (False, True)]


@pytest.mark.parametrize("layout, bias", DENSE_CASES,
                         ids=[f"{lo}-{'bias' if b else 'nobias'}" for lo, b in DENSE_CASES])
def test_dense_by_finite_differences(layout, bias):
    out = L("dense", "out", units=1, layout=layout, bias=bias)
    hidden = [] if layout == "vector" else [L("dense", "h", units=3, layout=layout, bias=bias),
                                            L("tanh")]
    grads = _check_by_finite_differences([*hidden, out, L("sigmoid")], (4,), m=5)
    assert ("out.bias" in grads) == bias


def test_normalize_and_batchnorm_statistics_get_no_gradient():
    layers = standardized(dense_layers((3,)))
    tensors = _tensors(layers, (4,))
    x, y = _data((4,), 5)
    _, (grads, dx) = backward.logit_and_gradients(layers, tensors, x, y)
    assert sorted(grads) == ["coefs.0", "coefs.1", "intercepts.0", "intercepts.1"]
    # the input's gradient goes through the normalisation: dx = d(x - mean)/std
    _, (_, dh) = backward.logit_and_gradients(
        layers[1:], tensors, (x - tensors["feature_mean"]) / tensors["feature_scale"], y)
    np.testing.assert_allclose(dx, dh / tensors["feature_scale"], rtol=1e-13)


def test_kinks_as_pytorch_maxpool_ties_to_the_first_maximum_relu_0_at_0():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2, (2, 7, 7, 3)).astype(np.float64)  # many ties
    for kernel, stride in [(2, 2), (3, 2), (2, 1)]:
        out = forward.maxpool(x, kernel, stride)
        dy = rng.normal(size=out.shape)
        mine, _ = L("maxpool", kernel=kernel, stride=stride).backward({}, x, out, dy, True)
        given = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).requires_grad_(True)
        pooled = torch.nn.functional.max_pool2d(given, kernel, stride)
        pooled.backward(torch.from_numpy(dy.transpose(0, 3, 1, 2).copy()))
        np.testing.assert_allclose(mine, given.grad.numpy().transpose(0, 2, 3, 1), atol=1e-15)
    # and a ReLU's input at exactly 0 passes no gradient, as PyTorch's
    x = rng.integers(-1, 2, x.shape).astype(np.float64)  # -1, 0 and 1
    dy = rng.normal(size=x.shape)
    mine, _ = L("relu").backward({}, x, None, dy, True)
    given = torch.from_numpy(x).requires_grad_(True)
    torch.relu(given).backward(torch.from_numpy(dy))
    np.testing.assert_array_equal(mine, given.grad.numpy())
    assert (mine == 0).any() and (mine != 0).any()


def test_kinks_are_found_and_a_tied_window_sends_its_whole_gradient_to_its_first_maximum():
    layers = [L("relu"), L("maxpool", kernel=2, stride=2), L("flatten"), L("dense", "d", units=1)]
    tensors = {"d.weight": np.ones((1, 4)), "d.bias": np.zeros(1)}
    x = np.array([[0.5, 0.5, 0.1, 0.9],   # top left: a tie at 0.5
                  [0.2, 0.3, 0.2, 0.4],
                  [-1., -2., 0.0, 0.7],   # bottom left: all 0 after the ReLU, whose dx is 0
                  [-3., -1., 0.6, 0.7 + 1e-6]])[None, :, :, None]  # one ReLU input at 0
    assert backward.kinks(layers, tensors, x, margin=1e-9) == {0: 1, 1: 1}
    assert backward.kinks(layers, tensors, x, margin=1e-4) == {0: 1, 1: 2}  # 0.7 vs 0.7 + 1e-6
    _, dx = backward.gradients(layers, tensors, x, np.ones(1))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0, 0, 1], [0, 0, 0, 0],
                                                   [0, 0, 0, 0], [0, 0, 0, 1]])


def test_gradients_is_the_vector_jacobian_product_of_the_logit():
    layers = dense_layers((3,), "tanh")
    tensors = _tensors(layers, (4,))
    x, y = _data((4,), 5)
    dz = np.random.default_rng(2).normal(size=5)
    grads, dx = backward.gradients(layers, tensors, x, dz)

    def dotted():
        return float(dz @ forward.logit(layers, tensors, x))

    for name, g in grads.items():
        assert _relative(g, _numeric(dotted, tensors[name])) <= RTOL
    assert _relative(dx, _numeric(dotted, x)) <= RTOL
    with pytest.raises(ShapeError):
        backward.gradients(layers, tensors, x, dz[:4])


# ------------------------------------------------------------------ the families, vs PyTorch
SPECS = {f"convnet-{head}-hidden{hidden}": ConvNetSpec(widths=(4, 8), image_size=16,
                                                       head=head, hidden=hidden)
         for head in ("gap", "flatten") for hidden in (0, 5)}
FAMILIES = {"logistic": (logistic_layers(), (6,)),
            "dense-relu": (dense_layers((5, 3)), (6,)),
            "dense-tanh-standardized": (standardized(dense_layers((4,), "tanh")), (6,)),
            **{name: (convnet_layers(spec), (3, 16, 16)) for name, spec in SPECS.items()}}
TORCH_CASES = [(name, False) for name in FAMILIES] + [
    ("convnet-gap-hidden5", True), ("convnet-flatten-hidden0", True)]


def _torch_gradients(torch, layers, input_shape, tensors, x, y, training, weights=None):
    from logicat.engines.torch.layers import LayerNet

    net = LayerNet(layers, input_shape).double().load_numpy_params(tensors)
    net.train(training)
    given = torch.from_numpy(x.transpose(0, 3, 1, 2).copy() if x.ndim == 4 else x.copy())
    given.requires_grad_(True)
    z = net(given)
    target = torch.from_numpy(y)
    if weights is None:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, target)
    else:
        w = torch.from_numpy(weights)
        losses = torch.nn.functional.binary_cross_entropy_with_logits(z, target,
                                                                      reduction="none")
        loss = (w * losses).sum() / w.sum()
    loss.backward()
    grads = {}
    for name, (module, role, layout) in net.tensor_map.items():
        if role in backward.TRAINED_ROLES:
            g = getattr(module, role).grad.numpy()
            grads[name] = g.T if layout == "in_out" else (
                g.reshape(-1) if layout == "vector" else g)
    dx = given.grad.numpy()
    return float(loss.detach()), grads, dx.transpose(0, 2, 3, 1) if x.ndim == 4 else dx


@pytest.mark.parametrize("name, training", TORCH_CASES,
                         ids=[f"{n}-{'training' if t else 'inference'}" for n, t in TORCH_CASES])
def test_families_agree_with_pytorch_autograd(name, training):
    torch = pytest.importorskip("torch")
    layers, input_shape = FAMILIES[name]
    tensors = _tensors(layers, input_shape)
    x, y = _data(input_shape, 4)
    cost, (grads, dx) = backward.logit_and_gradients(layers, tensors, x, y, training=training)
    if not training:
        expected = float(cross_entropy(forward.logit(layers, tensors, x), y).mean())
        assert abs(cost - expected) <= 1e-12
    their_cost, theirs, their_dx = _torch_gradients(torch, layers, input_shape, tensors, x, y,
                                                    training)
    assert abs(cost - their_cost) <= 1e-12
    assert sorted(grads) == sorted(theirs) == sorted(_trained(layers))
    for key, g in grads.items():
        np.testing.assert_allclose(g, theirs[key], rtol=1e-10, atol=1e-10, err_msg=key)
    np.testing.assert_allclose(dx, their_dx, rtol=1e-10, atol=1e-10)


def test_sample_weights_and_uint8_pixels_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    layers, input_shape = FAMILIES["convnet-flatten-hidden5"]
    tensors = _tensors(layers, input_shape)
    pixels = np.random.default_rng(3).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    y, weights = np.array([1.0, 0.0, 0.0, 1.0]), np.array([0.5, 2.0, 1.0, 0.0])
    cost, (grads, dx) = backward.logit_and_gradients(layers, tensors, pixels, y, weights)
    expected = cross_entropy(forward.logit(layers, tensors, pixels), y)
    assert abs(cost - float(weights @ expected) / weights.sum()) <= 1e-12
    their_cost, theirs, their_dx = _torch_gradients(torch, layers, input_shape, tensors,
                                                    pixels / 255.0, y, False, weights)
    assert abs(cost - their_cost) <= 1e-12
    for key, g in grads.items():
        np.testing.assert_allclose(g, theirs[key], rtol=1e-10, atol=1e-10, err_msg=key)
    np.testing.assert_allclose(dx, their_dx, rtol=1e-10, atol=1e-10)


def test_a_convnets_input_gradient_by_finite_differences():
    spec = ConvNetSpec(widths=(3, 4), image_size=8, hidden=3)
    layers = convnet_layers(spec)
    tensors = _tensors(layers, (3, 8, 8))
    x, y = _data((3, 8, 8), 2)
    _away_from_kinks(layers, tensors, x, False)
    _, (_, dx) = backward.logit_and_gradients(layers, tensors, x, y)
    numeric = _numeric(lambda: float(cross_entropy(forward.logit(layers, tensors, x), y).mean()),
                       x)
    assert _relative(dx, numeric) <= RTOL


def test_forward_cache_gives_forward_runs_output():
    layers, input_shape = FAMILIES["convnet-gap-hidden5"]
    tensors = _tensors(layers, input_shape)
    x, _ = _data(input_shape, 3)
    out, records = backward.forward_cache(layers, tensors, x)
    assert len(records) == len(layers)
    np.testing.assert_allclose(out, forward.run(layers, tensors, x), rtol=0, atol=1e-13)
    trained, _ = backward.forward_cache(layers, tensors, x, training=True)
    assert not np.allclose(trained, out)  # the batch's statistics are not the running ones
