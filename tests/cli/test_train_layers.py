"""``logicat train --layers net.json``: a residual network of your own, from a JSON list, on your
photos - then every command on its file, in fresh processes; killed and resumed; two processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from safetensors import safe_open

from tests.cli.conftest import killed_and_resumed

pytest.importorskip("torch")

from logicat.layers import (  # noqa: E402
    BatchNorm,
    Conv2d,
    Dense,
    GlobalAvgPool,
    MaxPool,
    ReLU,
    Residual,
    write_layers,
)
from tests.conftest import invoke as run  # noqa: E402
from tests.data.test_image_sets import photo_folder  # noqa: E402

FAST = ["--param", "batch_size=16", "--device", "cpu", "--seed", "3"]



@pytest.fixture(scope="module")
def mine(tmp_path_factory, cat_data):
    """A folder of photos and the residual network of the issue, narrowed, as net.json."""
    root = tmp_path_factory.mktemp("layers")
    photo_folder(root / "photos", cat_data, n=60)
    write_layers([Conv2d(4), BatchNorm(), ReLU(), MaxPool(),
                  Residual([Conv2d(4), BatchNorm(), ReLU(), Conv2d(4), BatchNorm()]), ReLU(),
                  MaxPool(),
                  Residual([Conv2d(8, stride=2), BatchNorm(), ReLU(), Conv2d(8), BatchNorm()]),
                  ReLU(), GlobalAvgPool(), Dense(1)], root / "net.json")
    return root


@pytest.fixture(scope="module")
def trained(mine):
    out = mine / "net.safetensors"
    result = run("train", "--layers", mine / "net.json", "--images", mine / "photos", "-n", "2",
                 *FAST, "--print-every", "1", "-o", out)
    assert result.exit_code == 0, result.output
    return out, result.output


def test_the_file_holds_the_nested_list(trained, mine):
    path, output = trained
    assert len(re.findall(r"Cost after epoch \d: \d\.\d{6}", output)) == 2
    with safe_open(path, framework="numpy") as f:
        meta = json.loads(f.metadata()["logicat"])
    layers = meta["architecture"]["layers"]
    assert meta["architecture"]["input_shape"] == [3, 64, 64]
    assert [entry["type"] for entry in layers] == [
        "normalize", "conv2d", "batchnorm", "relu", "maxpool", "residual", "relu", "maxpool",
        "residual", "relu", "gap", "dense", "sigmoid"]
    given = json.loads((mine / "net.json").read_text())
    assert [entry["type"] for entry in layers[5]["body"]] == [e["type"] for e in given[4]["body"]]
    assert layers[8]["shortcut"][0]["name"] == "net.7.shortcut.0"


def test_every_command_reads_it_in_a_fresh_process(trained, mine, photos_dir, tmp_path):
    """predict, explain, export (onnxruntime equal to predict to 1e-5), info: each its own
    ``python -m logicat``, as a user runs them."""
    path, _ = trained

    def logicat(*args):
        done = subprocess.run([sys.executable, "-m", "logicat", *map(str, args)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    predicted = logicat("predict", "-m", path, "--format", "csv", photos_dir)
    rows = [line.split(",") for line in predicted.splitlines()[1:]]
    assert len(rows) == 7
    info = logicat("info", path)
    assert "residual, 1x1 shortcut" in info and "net.4.body.3" in info
    assert "network 64x64x3 -> 11 layers (6 convolutions, 2 residual blocks) -> 1" in info
    logicat("explain", "-m", path, photos_dir / "tabby_cat.jpg", "-o", tmp_path / "why")
    assert (tmp_path / "why" / "tabby_cat.png").is_file()
    logicat("export", path, tmp_path / "net.onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    from logicat import load_image, load_model

    images = np.stack([load_image(p, size=64) for p in sorted(photos_dir.iterdir())])
    session = onnxruntime.InferenceSession(str(tmp_path / "net.onnx"),
                                           providers=["CPUExecutionProvider"])
    onnx_p, = session.run(["probability"], {"images": images})
    np.testing.assert_allclose(onnx_p, load_model(path).predict_proba(images)[:, 1], atol=1e-5)


def test_the_web_app_serves_it_with_grad_cam(trained, photos_dir):
    httpx = pytest.importorskip("httpx")
    from tests import paths

    path, _ = trained
    photo = photos_dir / "chelsea_cat.png"
    with paths.benchmark("web_load").serve(path) as url, httpx.Client(base_url=url,
                                                                       timeout=60) as client:
        body = client.get("/api/model").json()
        answer = client.post("/api/predict?explain=true",
                             files=[("files", (photo.name, photo.read_bytes()))])
        page = client.get("/")
    assert body["architecture"]["kind"] == "layers" and body["architecture"]["layers"] == 11
    assert answer.status_code == 200, answer.text
    [result] = answer.json()["results"]
    assert result["explanation_method"] == "grad_cam"
    assert page.status_code == 200


def test_what_the_layers_file_cannot_be_is_one_line(mine, tmp_path):
    (tmp_path / "bad.json").write_text('[{"type": "conv2d"}]')
    (tmp_path / "open.json").write_text('[{"type": "conv2d", "filters": 4}, {"type": "gap"}]')
    cases = [("--layers", tmp_path / "bad.json", "needs its 'filters' option"),
             ("--layers", tmp_path / "missing.json", "no such layers file"),
             ("--layers", tmp_path / "open.json", "must give one logit per image"),
             ("--param", "widths=4", "widths is the ConvNet's architecture")]
    for option, value, message in cases:
        args = ["--layers", mine / "net.json"] if option == "--param" else []
        result = run("train", *args, option, value, "--images", mine / "photos", "-n", "1",
                     "-o", tmp_path / "m.safetensors")
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output
        assert not (tmp_path / "m.safetensors").exists()
    preset = run("train", "--layers", "resnet99", "-o", tmp_path / "m.safetensors")
    assert preset.exit_code == 2 and "nor a preset (one of resnet8, resnet10, resnet14)" in (
        preset.output)
    mlp = run("train", "--layers", mine / "net.json", "--model", "mlp", "-o",
              tmp_path / "m.safetensors")
    assert mlp.exit_code == 2 and "not --model mlp" in mlp.output


def _train(mine, *extra):
    return [sys.executable, "-m", "logicat", "train", "--layers", str(mine / "net.json"),
            "--images", str(mine / "photos"), "-n", "4", "--print-every", "1", *FAST,
            *map(str, extra)]


@pytest.mark.slow  # three short trainings in their own processes
def test_a_residual_network_killed_and_resumed_ends_where_the_whole_run_does(mine, tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    whole, resumed = killed_and_resumed(lambda *extra: _train(mine, *extra), tmp_path, env)
    assert whole.keys() == resumed.keys() and "net.7.shortcut.0.weight" in whole
    for name in whole:
        np.testing.assert_allclose(resumed[name], whole[name], rtol=0, atol=1e-6, err_msg=name)


def test_a_network_trains_from_a_packed_file_with_early_stopping_and_class_weights(mine,
                                                                                   tmp_path):
    packed = run("pack", mine / "photos", tmp_path / "mine.h5", "-j", "1")
    assert packed.exit_code == 0, packed.output
    out = tmp_path / "net.safetensors"
    result = run("train", "--layers", mine / "net.json", "--train-file", tmp_path / "mine.h5",
                 "-n", "3", *FAST, "--early-stopping", "--validation-fraction", "0.25",
                 "--class-weight", "balanced", "-o", out)
    assert result.exit_code == 0, result.output
    assert re.search(r"validation accuracy: \S+ %, on the \d+ training images early stopping "
                     r"held out", result.output)
    from logicat import load_model

    clf = load_model(out)
    assert type(clf).__name__ == "NetworkClassifier"
    assert clf.metadata_["hyperparameters"]["class_weight"] == "balanced"
    assert clf.metadata_["training_data"]["file"] == "mine.h5"
    assert len(clf.metadata_["early_stopping"]) == 2
