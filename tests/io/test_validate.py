"""Hostile input, class 1 (docs/bad-input.md): model files are checked in full
(``logicat.io.validate``) before anything uses them.

Each case edits a real file (its JSON header or its tensors) and every command that reads a
model must refuse it with one line naming the file, exit 1. The web app refuses to start on it.
Networks and ConvNets besides: tensors their layers cannot use (a negative BatchNorm variance, a
standard deviation of 0), values that would overflow, a network's list of layers that does not
hold - refused by every command that reads the file, with no NaN shown and no floating-point
warning. (Checkpoints: ``test_validate_checkpoint.py``; the memory a model needs and its
answer: ``test_model.py``; ``rewrite`` and ``set_meta`` make the edited files for both.)
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save

from logicat.core.errors import ModelFileError
from tests.hostile.common import PHOTOS, assert_refused, cli, snapshot


def _parts(path: Path, key: str):
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    meta = json.loads(json.loads(raw[8:8 + n])["__metadata__"][key])
    return {k: v.copy() for k, v in load_file(path).items()}, meta


def rewrite(src: Path, out: Path, edit, key: str) -> Path:
    tensors, meta = _parts(src, key)
    text = edit(tensors, meta)
    out.write_bytes(save(tensors, metadata={key: text if isinstance(text, str)
                                            else json.dumps(meta)}))
    return out


def set_meta(path: str, value):
    """An edit that sets meta[a][b]... = value (path "a.b")."""
    def edit(tensors, meta):
        *parents, last = path.split(".")
        target = meta
        for p in parents:
            target = target[p]
        target[last] = value
    return edit


MODEL_CASES = {
    "coef int64": lambda t, m: t.update(coef=t["coef"].astype(np.int64)),
    "coef bool": lambda t, m: t.update(coef=t["coef"] > 0),
    "coef float16": lambda t, m: t.update(coef=t["coef"].astype(np.float16)),
    "coef renamed": lambda t, m: t.update(weights=t.pop("coef")),
    "intercept NaN": lambda t, m: t["intercept"].__setitem__(0, np.nan),
    "cost history infinite": lambda t, m: t["cost_history"].__setitem__(0, np.inf),
    "class names an int": set_meta("class_names", 7),
    "class names empty": set_meta("class_names", []),
    "one class name": set_meta("class_names", ["cat"]),
    "class name with a newline": set_meta("class_names", ["non-cat", "ca\nt"]),
    "preprocessing a string": set_meta("preprocessing", "divide_by_255"),
    "preprocessing a list": set_meta("preprocessing", [64, 3]),
    "image size 0": set_meta("preprocessing.image_size", 0),
    "image size 100000": set_meta("preprocessing.image_size", 100000),
    "hyperparameters a list": set_meta("hyperparameters", [0.005]),
    "learning rate a string": set_meta("hyperparameters.learning_rate", "fast"),
    "unknown loss": set_meta("hyperparameters.loss", "hinge"),
    "alpha negative": set_meta("hyperparameters.alpha", -1),
    "max_iter 10**8 (evaluate --cv would refit for ever)": set_meta("hyperparameters.max_iter",
                                                                  10**8),
    "random_state 2**64": set_meta("hyperparameters.random_state", 2**64),
    "n_iter null": set_meta("n_iter", None),
    "n_iter 10**400": set_meta("n_iter", 10**400),
    "format version 7": set_meta("format_version", 7),
    "layers a string": set_meta("architecture.layers", "dense"),
    "layers empty": set_meta("architecture.layers", []),
    "a layer of no type": set_meta("architecture.layers", [{"type": "attention"}]),
    "a layer with 10**9 units": lambda t, m: m["architecture"]["layers"][0].update(units=10**9),
    "a layer with an unknown option": lambda t, m: m["architecture"]["layers"][0].update(
        activation="relu"),
    "a layer named by a newline": lambda t, m: m["architecture"]["layers"][0].update(
        tensors={"weight": "co\nef", "bias": "intercept"}),
    "a convolution of feature vectors": lambda t, m: m["architecture"]["layers"].insert(
        0, {"type": "conv2d", "name": "c", "filters": 2}),
    "images of another size": set_meta("architecture.input_shape", [3, 32, 32]),
    "tta on feature vectors": set_meta("architecture.tta", True),
    "a layer too few": lambda t, m: m["architecture"]["layers"].pop(),
    "NaN in the metadata": set_meta("metrics.train_accuracy", float("nan")),
    "nested 100000 deep": lambda t, m: '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "metadata a list": lambda t, m: "[1, 2]",
}


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A model file of the cat-image size, trained by the real command (5 iterations)."""
    path = tmp_path_factory.mktemp("model") / "model.safetensors"
    status, output = cli(["train", "-n", 5, "--print-every", 0, "--out", path])
    assert status == 0, output
    return path


@pytest.mark.parametrize("case", MODEL_CASES)
def test_every_command_refuses_a_hostile_model_file(case, model, tmp_path):
    bad = rewrite(model, tmp_path / "bad.safetensors", MODEL_CASES[case], "logicat")
    before = snapshot(tmp_path)
    photo = PHOTOS / "tabby_cat.jpg"
    for args in (["info", bad], ["predict", "-m", bad, photo], ["export", bad, tmp_path / "m.onnx"],
                 ["plot", "weights", "-m", bad, "--out", tmp_path / "w.png"]):
        status, output = cli(args)
        assert_refused(status, output, code=1, names=str(bad), before=before, folders=(tmp_path,))
        assert len(output.splitlines()[-1]) < 400  # a hostile value makes no hostile message


@pytest.mark.parametrize("case", ["coef renamed", "unknown loss", "image size 0"])
def test_the_web_app_refuses_to_start_on_it(case, model, tmp_path):
    pytest.importorskip("fastapi")
    from logicat.web import create_app

    bad = rewrite(model, tmp_path / "bad.safetensors", MODEL_CASES[case], "logicat")
    with pytest.raises(ModelFileError, match="bad.safetensors: ") as err:
        create_app(bad)
    assert "\n" not in str(err.value)


# ------------------------------------------------- networks and ConvNets: what their layers need
def _scaled(name: str, value: float, index=slice(None)):
    return lambda t, m: t[name].__setitem__(index, value)


LAYER_CASES = {  # (the file it edits, the edit, what the one error line says)
    "BatchNorm variance negative": ("convnet", _scaled("features.1.running_var", -1.0, 0),
                                    "'features.1.running_var' must be a variance: >= 0"),
    "BatchNorm variance -eps": ("convnet", _scaled("features.5.running_var", -1e-5),
                                "'features.5.running_var' must be a variance: >= 0"),
    "input standard deviation 0": ("convnet", _scaled("input.std", 0.0, 1),
                                   "'input.std' must be a standard deviation: > 0"),
    "weights near float32's maximum": ("convnet", _scaled("features.0.weight", 3e38),
                                       "'features.0.weight' lets layer 1 (conv2d) reach"),
    "BatchNorm scale of 1e36": ("convnet", _scaled("features.5.weight", 1e36),
                                "more than float32 holds"),
    "network weights of 1e308": ("mlp", _scaled("coefs.0", 1e308),
                                 "'coefs.0' lets layer 0 (dense) reach beyond any float"),
    # a network of one's own layers: the same checks reach inside its residual blocks
    "a residual block's BatchNorm variance negative": (
        "residual", _scaled("net.2.body.1.running_var", -1.0, 0),
        "'net.2.body.1.running_var' must be a variance: >= 0"),
    "a shortcut's weights of 1e37": ("residual", _scaled("net.3.shortcut.0.weight", 1e37),
                                     "more than float32 holds"),
}


def _layers(edit):
    """An edit of a network file's list of layers (``architecture.layers``)."""
    def apply(tensors, meta):
        edit(meta["architecture"]["layers"])
    return apply


def _nest(layers, depth=12):
    block = {"type": "relu"}
    for _ in range(depth):
        block = {"type": "residual", "name": "deep", "body": [block], "shortcut": []}
    layers.insert(1, block)


#: a network's list (format 5): the reader checks it layer by layer, with no family to lean on
NETWORK_CASES = {
    "a residual block with no body": (_layers(lambda ls: ls[3].pop("body")),
                                      "a residual block's body must be a list"),
    "a shortcut that no longer matches its body": (
        _layers(lambda ls: ls[4].__setitem__("shortcut", [])),
        "its body gives (8, 8, 8) and its shortcut (4, 16, 16)"),
    "residual blocks nested 12 deep": (_layers(_nest), "residual blocks nest at most 8 deep"),
    "no input normalisation": (_layers(lambda ls: ls.pop(0)),
                               "must start with the input's normalize"),
    "a convolution after the pooling to vectors": (
        _layers(lambda ls: ls.insert(-2, {"type": "conv2d", "name": "x", "filters": 2})),
        "takes images (C, H, W)"),
}


@pytest.mark.parametrize("case", NETWORK_CASES)
def test_a_networks_list_is_checked_layer_by_layer(case, networks, tmp_path):
    edit, why = NETWORK_CASES[case]
    bad = rewrite(networks["residual"], tmp_path / "bad.safetensors", edit, "logicat")
    for args in (["info", bad], ["predict", "-m", bad, PHOTOS / "tabby_cat.jpg"]):
        status, output = cli(args)
        assert_refused(status, output, code=1, names=f"{bad}: ", before=snapshot(tmp_path),
                       folders=(tmp_path,))
        assert why in output, output


@pytest.mark.parametrize("case", LAYER_CASES)
def test_a_file_whose_layers_cannot_give_a_probability_is_refused(case, networks, tmp_path):
    """No command shows a NaN as a probability or draws a picture: each refuses the file in
    one line, exit 1, before any work; so does the web app."""
    kind, edit, why = LAYER_CASES[case]
    bad = rewrite(networks[kind], tmp_path / "bad.safetensors", edit, "logicat")
    before = snapshot(tmp_path)
    photo = PHOTOS / "tabby_cat.jpg"
    for args in (["info", bad], ["predict", "-m", bad, photo],
                 ["predict", "-m", networks["mlp"], "-m", bad, photo],
                 ["explain", "-m", bad, photo, "--out", tmp_path / "explained"],
                 ["evaluate", "-m", bad], ["report", "-m", bad, "--out", tmp_path / "r.html"],
                 ["plot", "weights", "-m", bad, "--out", tmp_path / "w.png"],
                 ["export", bad, tmp_path / "m.onnx"]):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # none reaches the user
            status, output = cli(args)
        assert_refused(status, output, code=1, names=f"{bad}: ", before=before,
                       folders=(tmp_path,))
        assert why in output and "= nan" not in output
    pytest.importorskip("fastapi")
    from logicat.web import create_app

    with pytest.raises(ModelFileError, match=why.replace("(", r"\(").replace(")", r"\)")):
        create_app(bad)
