"""A network goes everywhere a logistic regression goes: ``logicat train --hidden`` prints the
course's log, and the file it writes works with predict, evaluate, info, report, plot, graph,
export (ONNX, against onnxruntime), sweep and the web app."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from logicat import MLPClassifier, load_model
from logicat.data import load_images
from logicat.data.features import apply_preprocessing
from tests import paths
from tests.conftest import invoke as run  # noqa: E402
from tests.networks.test_reference_runs import DEEP_LOG

DEEP = ["--hidden", "20,7,5", "--activation", "relu", "--init", "lecun_normal", "--seed", "1",
        "--learning-rate", "0.0075", "--iterations", "2500"]




@pytest.fixture(scope="module")
def deep(tmp_path_factory):
    """(the course's deep model trained by ``logicat train``, what train printed)."""
    path = tmp_path_factory.mktemp("deep") / "deep.safetensors"
    result = run("train", *DEEP, "-o", path)
    assert result.exit_code == 0, result.output
    return path, result.output


def test_train_prints_the_courses_log_and_accuracies(deep):
    _, output = deep
    printed = re.findall(r"Cost after iteration (\d+): (\d\.\d{6})", output)
    assert [int(i) for i, _ in printed] == list(range(0, 2500, 100))
    assert [float(c) for _, c in printed] == DEEP_LOG
    assert "train accuracy: 98.56459330143541 %" in output
    assert "test accuracy: 80.0 %" in output


def test_model_mlp_defaults_to_the_courses_deep_model(deep, tmp_path):
    path, output = deep
    again = run("train", "--model", "mlp", "--seed", "1", "-o", tmp_path / "m.safetensors")
    assert again.exit_code == 0, again.output
    assert again.output == output.replace(str(path), str(tmp_path / "m.safetensors"))
    assert (tmp_path / "m.safetensors").read_bytes() == path.read_bytes()


def test_network_options_need_a_network(tmp_path):
    result = run("train", "--model", "logistic", "--hidden", "7", "-o", tmp_path / "m")
    assert result.exit_code == 2
    assert "Invalid value for '--hidden': needs a network (--model mlp)" in result.output
    assert not (tmp_path / "m").exists()


def test_predict_and_evaluate(deep, photos_dir, cat_data):
    path, _ = deep
    clf = load_model(path)
    assert type(clf) is MLPClassifier and clf.hidden_layer_sizes == (20, 7, 5)
    photos = sorted(photos_dir.iterdir())
    images, ok, failures = load_images(photos, size=64)
    assert not failures
    expected = clf.predict_proba(apply_preprocessing(images, clf.metadata_["preprocessing"]))
    result = run("predict", "-m", path, *photos)
    assert result.exit_code == 0, result.output
    for photo, p in zip(photos, expected[:, 1], strict=True):
        assert re.search(rf"{re.escape(str(photo))}\s+p\(cat\) = {p:.4f}", result.output)
    evaluation = run("evaluate", "-m", path, "--cv", "3")
    assert evaluation.exit_code == 0, evaluation.output
    assert "accuracy          0.8000" in evaluation.output  # the test set: 80 %, the course's
    assert len(re.findall(r"fold \d/3: \d+ held out, accuracy 0\.\d{4}", evaluation.output)) == 3


def test_info_report_and_pictures(deep, tmp_path):
    from logicat.viz.canvas import figure_bytes
    from logicat.viz.weights import units_figure

    path, _ = deep
    info = run("info", path)
    assert info.exit_code == 0
    assert info.output.startswith("model: network 12288 -> 20 -> 7 -> 5 -> 1 (relu)\n")
    assert "hidden_layer_sizes: [20, 7, 5]" in info.output
    report = run("report", "-m", path, "-o", tmp_path / "r.html")
    assert report.exit_code == 0, report.output
    html = (tmp_path / "r.html").read_text()
    arrow = ' <span class="nowrap">-&gt;</span> '  # an arrow is never broken across lines
    assert arrow.join(["network 12288", "20", "7", "5", "1 (relu)"]) in html
    assert "first-layer unit" in html
    weights = tmp_path / "w.png"
    assert run("plot", "weights", "-m", path, "-o", weights).exit_code == 0
    clf = load_model(path)
    assert weights.read_bytes() == figure_bytes(units_figure(clf.coefs_[0]), "png")
    with Image.open(weights) as picture:
        assert picture.size[0] > 1000  # 10 units a row, 2 rows of 64x64x3 images
    curve = tmp_path / "c.svg"
    assert run("plot", "learning-curve", "-m", path, "-o", curve).exit_code == 0
    assert curve.read_text().startswith("<?xml")


def test_graph_draws_the_layers_with_their_shapes(deep, cat_features):
    path, _ = deep
    result = run("graph", "-m", path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("deep.safetensors: the network 12288 -> 20 -> 7 -> 5 -> 1 (relu)")
    assert [line.split(":")[0] for line in lines if line.startswith(("layer", "output"))] == [
        "layer 1", "layer 2", "layer 3", "output"]
    assert "W (12288, 20), b (20,)" in result.output
    assert [e.strip() for e in lines if e.strip().startswith("|")] == [
        "| (209, 12288)", "| (209, 20)", "| (209, 7)", "| (209, 5)", "| (209,)"]
    final = float(re.search(r"J = mean cross entropy\s+value (\S+)", result.output).group(1))
    from sklearn.metrics import log_loss

    X, y, _, _ = cat_features  # J at the final parameters, one step after the last in the log
    assert final == pytest.approx(log_loss(y, load_model(path).predict_proba(X)), rel=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_onnx_export_of_a_network_matches_logicat(cat_data, cat_features, tmp_path, dtype):
    ort = pytest.importorskip("onnxruntime")
    X, y, X_test, _ = cat_features
    clf = MLPClassifier(hidden_layer_sizes=(8, 4), activation="tanh", max_iter=60,
                        random_state=0, dtype=dtype, standardize=True).fit(X, y)
    model = clf.save(tmp_path / "net.safetensors")
    out = tmp_path / "net.onnx"
    result = run("export", "-m", model, out)
    assert result.exit_code == 0, result.output
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    probability, logit = session.run(["probability", "logit"], {"images": cat_data.test_x})
    assert probability.dtype == np.dtype(dtype)
    np.testing.assert_allclose(probability, clf.predict_proba(X_test)[:, 1], rtol=0, atol=1e-6)
    assert "network 12288 -> 8 -> 4 -> 1 (tanh)" in session.get_modelmeta().description


def test_sweep_compares_hidden_layer_sizes(tmp_path):
    out = tmp_path / "sweep.png"
    result = run("sweep", "--hidden", "7", "--hidden", "", "-n", "300", "-o", out)
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()[1:3]]
    assert [row[:3] for row in rows] == [["cross_entropy", "7", "0.0075"],
                                         ["cross_entropy", "none", "0.0075"]]
    X_clf = MLPClassifier(hidden_layer_sizes=(7,), max_iter=300, random_state=1)
    from logicat import images_to_features, load_catvnoncat

    data = load_catvnoncat()
    X_clf.fit(images_to_features(data.train_x), data.train_y)
    assert float(rows[0][3]) == pytest.approx(X_clf.cost_history_[-1], abs=5e-7)
    with Image.open(out) as picture:
        assert picture.format == "PNG"
    refused = run("sweep", "--activation", "tanh")
    assert refused.exit_code == 2 and "give --hidden too" in refused.output


def test_the_web_app_says_which_model_it_serves(deep, photos_dir, tmp_path):
    httpx = pytest.importorskip("httpx")
    path, _ = deep
    with paths.benchmark("web_load").serve(path) as url, httpx.Client(base_url=url) as client:
        body = client.get("/api/model").json()
        photo = photos_dir / "tabby_cat.jpg"
        answer = client.post("/api/predict", files=[("files", (photo.name, photo.read_bytes()))])
        weights = client.get("/api/model/weights.png")
    assert body["architecture"] == {
        "kind": "network", "description": "network 12288 -> 20 -> 7 -> 5 -> 1 (relu)",
        "hidden_layer_sizes": [20, 7, 5], "activation": "relu"}
    assert answer.status_code == 200, answer.text
    images, _, _ = load_images([photo], size=64)
    expected = load_model(path).predict_proba(images.reshape(1, -1) / 255.0)[0, 1]
    assert answer.json()["results"][0]["probability"] == pytest.approx(expected, abs=1e-12)
    out = tmp_path / "w.png"
    assert run("plot", "weights", "-m", path, "-o", out).exit_code == 0
    assert weights.content == out.read_bytes()


def test_two_processes_train_a_network_as_one(tmp_path):
    """``--engine torch --nproc 2`` (torchrun, gloo) writes the network one process writes."""
    pytest.importorskip("torch")
    single, double = tmp_path / "one.safetensors", tmp_path / "two.safetensors"
    common = ["train", "--hidden", "6,3", "--seed", "1", "--engine", "torch", "--device", "cpu",
              "-n", "30", "--print-every", "10"]
    one = run(*common, "-o", single)
    assert one.exit_code == 0, one.output
    env = dict(os.environ, OMP_NUM_THREADS="1", LOGICAT_DIST_TIMEOUT="120")
    two = subprocess.run([sys.executable, "-m", "logicat", *common, "-o", str(double), "--nproc",
                          "2"], capture_output=True, text=True, timeout=300, env=env,
                         cwd=tmp_path)
    assert two.returncode == 0, two.stdout + two.stderr
    assert two.stdout == one.output.replace(str(single), str(double))
    a, b = load_model(single), load_model(double)
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_allclose(q, p, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.cost_history_, a.cost_history_, rtol=0, atol=1e-10)


def test_out_of_core_training_of_a_network_equals_in_memory(tmp_path):
    data_file = os.path.join(os.environ["LOGICAT_DATA"], "train_catvnoncat.h5")
    common = ["train", "--hidden", "5", "--seed", "1", "-n", "20", "--print-every", "0"]
    streamed = run(*common, "--train-file", data_file, "--chunk-rows", "64", "-o",
                   tmp_path / "s.safetensors")
    assert streamed.exit_code == 0, streamed.output
    assert run(*common, "-o", tmp_path / "m.safetensors").exit_code == 0
    a, b = load_model(tmp_path / "m.safetensors"), load_model(tmp_path / "s.safetensors")
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_allclose(q, p, rtol=0, atol=1e-10)
