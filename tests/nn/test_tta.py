"""Test-time augmentation (``logicat.nn.tta``): the views are the mirror and the reflected
shifts NumPy and torch pad with; a map goes back to the image by the gather's transpose (the
chain rule: checked against finite differences); every engine - NumPy, torch, ONNX, and
``explain`` - averages the same views."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.nn import tta


def test_the_views_are_the_mirror_and_the_reflected_diagonal_shifts():
    images = np.random.default_rng(0).random((2, 9, 9, 3))
    assert len(tta.views(False, 9)) == 1 and len(tta.views(True, 9)) == 2
    each = [tta.apply(images, view) for view in tta.views("shifts", 9)]
    assert len(each) == 10
    np.testing.assert_array_equal(each[0], images)
    np.testing.assert_array_equal(each[1], images[:, :, ::-1])
    d = tta.SHIFT
    padded = np.pad(images, ((0, 0), (d, d), (d, d), (0, 0)), mode="reflect")
    shifted = [padded[:, d + dy:d + dy + 9, d + dx:d + dx + 9] for dy in (-d, d)
               for dx in (-d, d)]
    for k, expected in enumerate(shifted):
        np.testing.assert_array_equal(each[2 + 2 * k], expected)
        np.testing.assert_array_equal(each[3 + 2 * k], expected[:, :, ::-1])
    torch = pytest.importorskip("torch")
    x = torch.from_numpy(images).permute(0, 3, 1, 2)
    padded = torch.nn.functional.pad(x, (d, d, d, d), mode="reflect")
    np.testing.assert_array_equal(padded[:, :, 0:9, 0:9].permute(0, 2, 3, 1).numpy(), each[2])


def test_back_is_the_transpose_of_the_gather():
    """<apply(x), g> = <x, back(g)> for every view: what makes back(dz/dview) = dz/dx."""
    rng = np.random.default_rng(1)
    x, g = rng.random((3, 7, 7, 2)), rng.random((3, 7, 7, 2))
    for view in tta.views("shifts", 7):
        assert np.sum(tta.apply(x, view) * g) == pytest.approx(np.sum(x * tta.back(g, view)),
                                                               rel=1e-12)
    mirror = tta.views(True, 7)[1]
    np.testing.assert_array_equal(tta.back(g, mirror), g[:, :, ::-1])  # a mirror goes back


def test_what_tta_may_be():
    assert tta.check(True, 64) is tta.check(False, 2) is tta.check("shifts", 5) is None
    assert "at least 5x5" in tta.check("shifts", 4)
    for bad in ("yes", 1, None, [True]):
        assert tta.check(bad, 64) == "tta must be true, false or 'shifts'"


@pytest.fixture(scope="module")
def shifted_model(cat_data):
    """A tiny ConvNet trained 2 epochs with tta="shifts", as its Model."""
    pytest.importorskip("torch")
    from logicat import ConvNetClassifier

    clf = ConvNetClassifier(widths=(4, 8), max_iter=2, batch_size=32, device="cpu",
                            tta="shifts").fit(cat_data.train_x[:64], cat_data.train_y[:64])
    return clf


def test_every_engine_averages_the_same_ten_views(shifted_model, cat_data, tmp_path):
    import torch

    from logicat.engines.torch.layers import ConvNet, images_to_tensor
    from logicat.io.files import read_model
    from logicat.io.onnx import export_onnx
    from logicat.nn import forward

    images = cat_data.test_x[:6]
    model = read_model(shifted_model.save(tmp_path / "m.safetensors"))
    assert model.tta == "shifts" and "10 views" in tta.describe(model.tta)
    z = model.decision_function(images.reshape(6, -1) / 255.0)
    by_hand = np.mean([forward.logit(model.layers, model.tensors, tta.apply(images / 255.0, v))
                       for v in tta.views("shifts", 64)], axis=0)
    np.testing.assert_allclose(z, by_hand, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(shifted_model.decision_function(images), z, rtol=0, atol=0)
    net = ConvNet(shifted_model.spec_).load_numpy_params(model.tensors).eval()
    with torch.no_grad():
        z_torch = net.predict_logits(images_to_tensor(images)).numpy()
    np.testing.assert_allclose(z_torch, z, rtol=1e-4, atol=1e-5)
    onnxruntime = pytest.importorskip("onnxruntime")
    path = export_onnx(model, tmp_path / "m.onnx")
    session = onnxruntime.InferenceSession(str(path))
    logit = session.run(["logit"], {session.get_inputs()[0].name: images})[0]
    np.testing.assert_allclose(logit, z, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def smooth_model(cat_data, tmp_path_factory):
    """A small network with no kink anywhere (tanh, average pooling: no max-pool tie, no ReLU
    at 0, so no two valid subgradients on any processor), trained 2 epochs with
    tta="shifts", read back from its file."""
    pytest.importorskip("torch")
    from logicat import NetworkClassifier
    from logicat.data.features import preprocessing_spec
    from logicat.io.files import read_model
    from logicat.layers import AvgPool, BatchNorm, Conv2d, Dense, GlobalAvgPool, Tanh

    clf = NetworkClassifier(layers=[Conv2d(4), BatchNorm(), Tanh(), AvgPool(), Conv2d(8),
                                    Tanh(), GlobalAvgPool(), Dense(1)],
                            max_iter=2, batch_size=32, device="cpu", tta="shifts").fit(
        cat_data.train_x[:64], cat_data.train_y[:64])
    path = tmp_path_factory.mktemp("smooth") / "m.safetensors"
    return read_model(clf.save(path, preprocessing=preprocessing_spec(64)))


def test_explanations_take_each_views_map_back(smooth_model, cat_data):
    from dataclasses import replace

    from logicat.evaluate.explain import explain

    model, images = smooth_model, cat_data.test_x[:2]
    for method in ("grad_cam", "gradient_input"):
        numpy, torch_ = (explain(model, images, method, engine) for engine in ("numpy", "torch"))
        np.testing.assert_allclose(numpy.pixel_map, torch_.pixel_map, rtol=1e-6, atol=1e-9)
    # gradient x input: dz/dx through the ten gathers, against central differences in float64
    ex = explain(model, images[:1], "gradient_input")
    x = images[:1].reshape(1, -1) / 255.0
    exact = replace(model, tensors={k: v.astype(np.float64) for k, v in model.tensors.items()})
    for j in np.random.default_rng(0).choice(x.shape[1], 8, replace=False):
        h = np.zeros_like(x)
        h[0, j] = 1e-5
        slope = (exact.member_logits(x + h)[0, 0] - exact.member_logits(x - h)[0, 0]) / 2e-5
        assert ex.values.reshape(1, -1)[0, j] == pytest.approx(x[0, j] * slope, rel=1e-5,
                                                               abs=1e-10)
