"""``logicat train --model convnet`` and the ConvNet's file through every command."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("torch")

from logicat import load_model  # noqa: E402
from tests.conftest import TINY_ARGS  # noqa: E402
from tests.conftest import invoke as run  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("convnet") / "cnn.safetensors"
    result = run("train", *TINY_ARGS, "-n", 2, "--print-every", 1, "-o", path)
    assert result.exit_code == 0, result.output
    return path, result.output


def test_train_prints_the_epochs_and_both_accuracies(trained, cat_features):
    path, output = trained
    costs = [float(c) for c in re.findall(r"Cost after epoch \d+: (\d+\.\d{6})", output)]
    clf = load_model(path)
    assert costs == [float(f"{c:f}") for c in clf.cost_history_] and len(costs) == 2
    _, _, X_test, y_test = cat_features
    test = float(re.search(r"test accuracy: (\S+) %", output).group(1))
    assert test == pytest.approx(100 * np.mean(clf.predict(X_test) == y_test))
    assert clf.widths == (4, 8) and clf.metadata_["metrics"]["test_accuracy"] == test


def test_options_of_the_dense_models_are_refused(tmp_path):
    for args, flag in [(["--loss", "squared_error"], "--loss"), (["--alpha", "1"], "--alpha"),
                       (["--hidden", "7"], "--hidden")]:
        result = run("train", "--model", "convnet", *args, "-o", tmp_path / "m")
        assert result.exit_code == 2, result.output
        assert f"Invalid value for '{flag}': does not apply to --model convnet" in result.output
    for setting, message in [
            ("widths=4,0", "The 'widths' parameter must be a tuple of 1 to 8 ints in [1, 4096]"),
            ("speed=9", "expected NAME=VALUE with NAME one of widths,")]:
        result = run("train", "--model", "convnet", "--param", setting, "-o", tmp_path / "m")
        assert result.exit_code == 2 and message in result.output, result.output
    result = run("train", "--param", "widths=4", "-o", tmp_path / "m")
    assert result.exit_code == 2 and "give --model convnet" in result.output
    assert not (tmp_path / "m").exists()


def test_predict_info_report_explain(trained, photos_dir, tmp_path):
    path, _ = trained
    predicted = run("predict", "-m", path, photos_dir / "tabby_cat.jpg")
    assert predicted.exit_code == 0, predicted.output
    p = float(re.search(r"p\(cat\) = (\S+)", predicted.output).group(1))
    from logicat.data import load_image

    expected = load_model(path).predict_proba(load_image(photos_dir / "tabby_cat.jpg")[None])
    assert p == pytest.approx(expected[0, 1], abs=5e-5)
    info = run("info", path)
    assert info.output.startswith("model: convnet 64x64x3 -> 4 -> 8")
    report = run("report", "-m", path, "-o", tmp_path / "r.html")
    assert report.exit_code == 0, report.output
    page = (tmp_path / "r.html").read_text()
    assert "Grad-CAM" in page and '<th>epochs run</th><td class="mono">2</td>' in page
    explained = run("explain", "-m", path, photos_dir / "tabby_cat.jpg", "-o", tmp_path / "why")
    assert explained.exit_code == 0, explained.output
    with Image.open(tmp_path / "why" / "tabby_cat.png") as picture:
        assert picture.format == "PNG"
    refused = run("explain", "-m", path, photos_dir / "tabby_cat.jpg", "--method",
                  "contributions", "-o", tmp_path / "why")
    assert refused.exit_code != 0 and "logistic regression only" in refused.output


def test_onnx_export_matches_logicat(trained, cat_data, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    path, _ = trained
    out = tmp_path / "cnn.onnx"
    assert run("export", "-m", path, out).exit_code == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    probability, logit = session.run(["probability", "logit"], {"images": cat_data.test_x})
    clf = load_model(path)
    np.testing.assert_allclose(probability, clf.predict_proba(cat_data.test_x)[:, 1], rtol=0,
                               atol=1e-6)
    np.testing.assert_allclose(logit, clf.decision_function(cat_data.test_x), rtol=0, atol=1e-5)


def test_onnx_export_decides_at_the_prior_asked(trained, cat_data, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    path, _ = trained
    out = tmp_path / "balanced.onnx"
    assert run("export", "-m", path, out, "--prior", "balanced").exit_code == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    probability, = session.run(["probability"], {"images": cat_data.test_x})
    clf = load_model(path)
    np.testing.assert_allclose(probability, clf.predict_proba(cat_data.test_x,
                                                              prior="balanced")[:, 1], atol=1e-6)
    assert not np.allclose(probability, clf.predict_proba(cat_data.test_x)[:, 1], atol=1e-3)
    refused = run("export", "-m", path, tmp_path / "x.onnx", "--prior", "2")
    assert refused.exit_code == 2 and "--prior" in refused.output


def test_grad_cam_is_its_formula(trained, cat_data):
    """Grad-CAM from its definition, in NumPy: with a GAP head and no hidden layer,
    z = w . mean(maxpool(A)) + b, so dz/dA[c, i, j] = w_c / (s'/2)^2 where A[c, i, j] is the
    max of its 2x2 tile (the first, on ties, as PyTorch routes it) and 0 elsewhere; alpha_c is
    its mean over the map, and the picture sum_c alpha_c A_c upsampled. TTA off: one view."""
    import torch

    from logicat.engines.torch.layers import ConvNet, grad_cam, images_to_tensor
    from logicat.nn.convnet import feature_maps

    clf = load_model(trained[0])
    spec = replace(clf.spec_, tta=False)
    params = {k: v.astype(np.float64) for k, v in clf.to_model().tensors.items()}
    net = ConvNet(spec).double().load_numpy_params(params).eval()
    images = cat_data.test_x[:4]
    z, cam = grad_cam(net, images_to_tensor(images, torch.float64))

    A = feature_maps(spec, params, images)  # (m, C, h, w)
    m, C, h, w = A.shape
    tiles = A.reshape(m, C, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        m, C, h // 2, w // 2, 4)
    first_max = np.eye(4)[tiles.argmax(axis=-1)]  # (m, C, h/2, w/2, 4) one-hot
    mask = first_max.reshape(m, C, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        m, C, h, w)
    weight = params["head.1.weight"][0]  # (C,)
    dz_dA = mask * weight[None, :, None, None] / ((h // 2) * (w // 2))
    alpha = dz_dA.mean(axis=(2, 3))  # (m, C)
    small = torch.from_numpy((alpha[:, :, None, None] * A).sum(axis=1, keepdims=True))
    expected = torch.nn.functional.interpolate(small, size=(64, 64), mode="bilinear",
                                               align_corners=False)[:, 0].numpy()
    np.testing.assert_allclose(cam, expected, rtol=0, atol=1e-12)
    pooled = tiles.max(axis=-1).mean(axis=(2, 3))  # (m, C): GAP of the pooled maps
    np.testing.assert_allclose(z, pooled @ weight + params["head.1.bias"][0], rtol=0,
                               atol=1e-10)


def test_graph_draws_the_convnet_in_the_engine(trained, cat_data):
    """`logicat graph -m` runs the ConvNet through logicat's own engine; its J is the model's
    own cross-entropy (without TTA) on the 8 images it draws."""

    path, _ = trained
    result = run("graph", "-m", path)
    assert result.exit_code == 0, result.output
    # the input normalisation is the list's first layer, its node named after it
    assert "features.0 = conv2d(input, features.0.weight, stride=1, padding=1)" in result.output
    assert "max_pool2d(" in result.output
    J = float(re.search(r"J = (\S+)$", result.output.splitlines()[0]).group(1))
    model = load_model(path).to_model()
    z = replace(model, tta=False, tensors={k: v.astype(np.float64) for k, v in
                                           model.tensors.items()}).member_logits(
        cat_data.train_x[:8].reshape(8, -1) / 255.0)[0]
    y = cat_data.train_y[:8]
    assert J == pytest.approx(np.mean(np.logaddexp(0, z) - y * z), rel=1e-5)


def test_predict_shows_several_models_side_by_side(trained, photos_dir, tmp_path):
    convnet, _ = trained
    logistic = tmp_path / "lr.safetensors"
    assert run("train", "-n", "20", "--print-every", "0", "-o", logistic).exit_code == 0
    both = run("predict", "-m", logistic, "-m", convnet, photos_dir)
    assert both.exit_code == 0, both.output
    header, *rows = both.output.splitlines()
    assert header.split() == ["lr.safetensors", "cnn.safetensors"]
    singles = [run("predict", "-m", m, photos_dir).output.splitlines() for m in (logistic,
                                                                                 convnet)]
    assert len(rows) == len(singles[0]) == len(singles[1]) == 7
    for row, a, b in zip(rows, *singles, strict=True):
        assert row.split() == a.split() + b.split()[1:]  # path, then each model's answer


def test_the_web_app_serves_a_convnet_with_its_grad_cam(trained, photos_dir):
    httpx = pytest.importorskip("httpx")
    from tests import paths

    path, _ = trained
    photo = photos_dir / "chelsea_cat.png"
    with paths.benchmark("web_load").serve(path) as url, httpx.Client(base_url=url,
                                                                       timeout=60) as client:
        body = client.get("/api/model").json()
        answer = client.post("/api/predict?explain=true",
                             files=[("files", (photo.name, photo.read_bytes()))])
        weights = client.get("/api/model/weights.png")
    assert body["architecture"]["kind"] == "convnet" and body["architecture"]["widths"] == [4, 8]
    assert body["intercept"] == pytest.approx(float(load_model(path).params_["head.1.bias"][0]))
    assert answer.status_code == 200, answer.text
    [result] = answer.json()["results"]
    assert result["explanation_method"] == "grad_cam"
    assert result["explanation_image"].startswith("data:image/png;base64,")
    assert weights.status_code == 200 and weights.headers["content-type"] == "image/png"
