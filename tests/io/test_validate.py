"""Class 1: model files and checkpoints are checked in full before anything uses them.

Each case edits a real file (its JSON header or its tensors) and every command that reads a
model must refuse it with one line naming the file, exit 1; a checkpoint is refused by
``--resume``. The web app refuses to start on it. Networks and ConvNets besides: tensors their
layers cannot use (a negative BatchNorm variance, a standard deviation of 0), values that would
overflow - refused by every command that reads the file, with no NaN shown and no floating-point
warning. The memory a computation needs is checked by what computes, each its own need (predict,
evaluate, explain, report, the web app, graph); reading a file (info, plot, export) asks none.
"""

from __future__ import annotations

import json
import shutil
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


def _rewrite(src: Path, out: Path, edit, key: str) -> Path:
    tensors, meta = _parts(src, key)
    text = edit(tensors, meta)
    out.write_bytes(save(tensors, metadata={key: text if isinstance(text, str)
                                            else json.dumps(meta)}))
    return out


def _set(path: str, value):
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
    "class names an int": _set("class_names", 7),
    "class names empty": _set("class_names", []),
    "one class name": _set("class_names", ["cat"]),
    "class name with a newline": _set("class_names", ["non-cat", "ca\nt"]),
    "preprocessing a string": _set("preprocessing", "divide_by_255"),
    "preprocessing a list": _set("preprocessing", [64, 3]),
    "image size 0": _set("preprocessing.image_size", 0),
    "image size 100000": _set("preprocessing.image_size", 100000),
    "hyperparameters a list": _set("hyperparameters", [0.005]),
    "learning rate a string": _set("hyperparameters.learning_rate", "fast"),
    "unknown loss": _set("hyperparameters.loss", "hinge"),
    "alpha negative": _set("hyperparameters.alpha", -1),
    "max_iter 10**8 (evaluate --cv would refit for ever)": _set("hyperparameters.max_iter",
                                                                  10**8),
    "random_state 2**64": _set("hyperparameters.random_state", 2**64),
    "n_iter null": _set("n_iter", None),
    "n_iter 10**400": _set("n_iter", 10**400),
    "format version 6": _set("format_version", 6),
    "layers a string": _set("architecture.layers", "dense"),
    "layers empty": _set("architecture.layers", []),
    "a layer of no type": _set("architecture.layers", [{"type": "attention"}]),
    "a layer with 10**9 units": lambda t, m: m["architecture"]["layers"][0].update(units=10**9),
    "a layer with an unknown option": lambda t, m: m["architecture"]["layers"][0].update(
        activation="relu"),
    "a layer named by a newline": lambda t, m: m["architecture"]["layers"][0].update(
        tensors={"weight": "co\nef", "bias": "intercept"}),
    "layers that are another model": lambda t, m: m["architecture"]["layers"].insert(
        1, {"type": "relu"}),
    "a layer too few": lambda t, m: m["architecture"]["layers"].pop(),
    "NaN in the metadata": _set("metrics.train_accuracy", float("nan")),
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
    bad = _rewrite(model, tmp_path / "bad.safetensors", MODEL_CASES[case], "logicat")
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

    bad = _rewrite(model, tmp_path / "bad.safetensors", MODEL_CASES[case], "logicat")
    with pytest.raises(ModelFileError, match="bad.safetensors: ") as err:
        create_app(bad)
    assert "\n" not in str(err.value)


CHECKPOINT_CASES = {
    "tensor renamed": lambda t, m: t.update(coeff=t.pop("coef")),
    "coef too short": lambda t, m: t.update(coef=t["coef"][:10]),
    "rng state an int": _set("rng_state", 5),
    "rng state of no generator": _set("rng_state.bit_generator", "os.system"),
    "epoch null": _set("epoch", None),
    "epoch beyond its history": _set("epoch", 1000),
    "adam state incomplete": lambda t, m: t.pop("optimizer.m.0"),
    "optimizer unknown": _set("optimizer", "lbfgs"),
    "plateau a string": _set("plateau", "steady"),
    "kind unknown": _set("kind", "Tree"),
    "parameters NaN": lambda t, m: t["coef"].__setitem__(3, np.nan),
    "hyperparameters a list": _set("hyperparameters", [1]),
    # what train recorded of its run (issue 29): read by --resume alone
    "run command a string": _set("run.command", "--out /etc/passwd"),
    "run command of non-words": _set("run.command", ["--out", 7]),
    "run data without its SHA-256": _set("run.data", {"file": "photos/"}),
    "run command that train cannot parse": _set("run.command", ["--model", "tree"]),
}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> tuple[Path, list]:
    folder = tmp_path_factory.mktemp("checkpoint")
    args = ["train", "-n", 4, "--print-every", 0, "--optimizer", "adam", "--batch-size", 64,
            "--checkpoint", folder / "run.safetensors", "--checkpoint-every", 2]
    status, output = cli([*args, "--out", folder / "m.safetensors"])
    assert status == 0, output
    return folder / "run.safetensors", args[:-4]


@pytest.mark.parametrize("case", CHECKPOINT_CASES)
def test_resuming_refuses_a_hostile_checkpoint(case, checkpoint, tmp_path):
    good, args = checkpoint
    bad = _rewrite(good, tmp_path / "bad.safetensors", CHECKPOINT_CASES[case],
                   "logicat_checkpoint")
    shutil.copy(bad, tmp_path / "copy")
    before = snapshot(tmp_path)
    status, output = cli([*args, "--checkpoint", bad, "--resume", "--out",
                          tmp_path / "out.safetensors"])
    assert_refused(status, output, code=1, names=str(bad), before=before, folders=(tmp_path,))


# ------------------------------------------------- networks and ConvNets: what their layers need
def _scaled(name: str, value: float, index=slice(None)):
    return lambda t, m: t[name].__setitem__(index, value)


def _image_size(side: int):
    """The file's ConvNet declared for side x side images (its tensors fit any size)."""
    def edit(tensors, meta):
        meta["architecture"]["image_size"] = meta["preprocessing"]["image_size"] = side
        meta["n_features"] = 3 * side * side
    return edit


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
    bad = _rewrite(networks["residual"], tmp_path / "bad.safetensors", edit, "logicat")
    for args in (["info", bad], ["predict", "-m", bad, PHOTOS / "tabby_cat.jpg"]):
        status, output = cli(args)
        assert_refused(status, output, code=1, names=f"{bad}: ", before=snapshot(tmp_path),
                       folders=(tmp_path,))
        assert why in output, output


@pytest.fixture(scope="module")
def networks(tmp_path_factory) -> dict[str, Path]:
    """A ConvNet (1 epoch, widths 4, 8), a network (hidden 7) and a residual network of one's
    own (``train --layers``), trained by the real command."""
    folder = tmp_path_factory.mktemp("networks")
    (folder / "net.json").write_text(json.dumps([
        {"type": "conv2d", "filters": 4}, {"type": "maxpool", "kernel": 4},
        {"type": "residual", "body": [{"type": "conv2d", "filters": 4}, {"type": "batchnorm"}]},
        {"type": "residual", "body": [{"type": "conv2d", "filters": 8, "stride": 2}]},
        {"type": "gap"}, {"type": "dense", "units": 1}]))
    runs = {"convnet": ["--model", "convnet", "-n", 1, "--param", "widths=4,8"],
            "mlp": ["--hidden", 7, "-n", 5],
            "residual": ["--layers", folder / "net.json", "-n", 1]}
    for kind, args in runs.items():
        status, output = cli(["train", *args, "--print-every", 0, "--out",
                              folder / f"{kind}.safetensors"])
        assert status == 0, output
    return {kind: folder / f"{kind}.safetensors" for kind in runs}


@pytest.mark.parametrize("case", LAYER_CASES)
def test_a_file_whose_layers_cannot_give_a_probability_is_refused(case, networks, tmp_path):
    """No command shows a NaN as a probability or draws a picture: each refuses the file in
    one line, exit 1, before any work; so does the web app."""
    kind, edit, why = LAYER_CASES[case]
    bad = _rewrite(networks[kind], tmp_path / "bad.safetensors", edit, "logicat")
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


#: what computes with a model, and the need it checks first: one image to predict, or with
#: the float64 gradients explain takes (the report explains its misclassified images)
COMPUTING = {
    "predict": (["predict", "-m", "{m}", str(PHOTOS / "tabby_cat.jpg")], "one 4096x4096 image "
                "through this model needs"),
    "evaluate": (["evaluate", "-m", "{m}"], "one 4096x4096 image through this model needs"),
    "explain": (["explain", "-m", "{m}", str(PHOTOS / "tabby_cat.jpg"), "--out", "{t}/ex"],
                "one 4096x4096 image with the float64 gradients explain takes through"),
    "report": (["report", "-m", "{m}", "--out", "{t}/r.html"],
               "one 4096x4096 image with the float64 gradients explain takes through"),
}


@pytest.fixture
def wide(networks, tmp_path, monkeypatch) -> Path:
    """The ConvNet's file declared for 4096-pixel images, on a machine with 2 GiB free."""
    monkeypatch.setattr("logicat.core.validation.available_memory", lambda: 2 << 30)
    return _rewrite(networks["convnet"], tmp_path / "wide.safetensors", _image_size(4096),
                    "logicat")


def test_a_file_is_shown_drawn_and_exported_whatever_memory_using_it_needs(wide, tmp_path):
    """Issue 31, item 13: reading a file computes nothing, so it asks for no memory."""
    for args in (["info", wide], ["plot", "weights", "-m", wide, "--out", tmp_path / "w.png"],
                 ["export", wide, tmp_path / "m.onnx"]):
        status, output = cli(args)
        assert status == 0 and "Error" not in output, output
    assert "4096" in cli(["info", wide])[1]


@pytest.mark.parametrize("command", COMPUTING)
def test_what_computes_checks_its_own_memory_first(command, wide, tmp_path):
    args, need = COMPUTING[command]
    before = snapshot(tmp_path)
    status, output = cli([a.format(m=wide, t=tmp_path) for a in args])
    assert_refused(status, output, code=1, names=f"{wide}: {need}", before=before,
                   folders=(tmp_path,))


def test_the_web_app_checks_what_predicting_needs_when_it_starts(wide):
    pytest.importorskip("fastapi")
    from logicat.web import create_app

    with pytest.raises(ModelFileError, match="one 4096x4096 image through this model needs"):
        create_app(wide)


def test_predicting_and_explaining_each_check_their_own_need(networks, tmp_path, monkeypatch):
    """Between the two needs, a model predicts and refuses to explain (the command and the
    Python API)."""
    from logicat.evaluate.explain import explain
    from logicat.io.files import read_model
    from logicat.nn.bounds import forward_bytes

    model = read_model(networks["convnet"])
    shape = (3, 64, 64)
    predicting = forward_bytes(model.layers, shape, np.dtype(model.dtype))
    explaining = forward_bytes(model.layers, shape, np.dtype(np.float64), with_gradients=True)
    assert predicting < explaining
    monkeypatch.setattr("logicat.core.validation.available_memory",
                        lambda: (predicting + explaining) // 2)
    photo = PHOTOS / "tabby_cat.jpg"
    status, output = cli(["predict", "-m", networks["convnet"], photo])
    assert status == 0 and "p(cat)" in output, output
    status, output = cli(["explain", "-m", networks["convnet"], photo, "--out", tmp_path / "e"])
    assert_refused(status, output, code=1, names="with the float64 gradients explain takes")
    with pytest.raises(ModelFileError, match="with the float64 gradients explain takes"):
        explain(model, np.zeros((1, 64, 64, 3), np.uint8))


def test_graph_checks_its_memory_before_it_builds(networks, tmp_path, monkeypatch):
    """Issue 31, item 14: a ConvNet of 4096 filters, drawn on 8 cat images of 64 px, on a
    machine with 2 GiB free: one line, not numpy's _ArrayMemoryError; a small one draws."""
    pytest.importorskip("torch")
    from logicat import ConvNetClassifier
    from logicat.data.features import preprocessing_spec

    images = np.random.default_rng(0).integers(0, 256, (8, 8, 8, 3), dtype=np.uint8)
    clf = ConvNetClassifier(widths=(4096,), max_iter=1, batch_size=8, crop_pad=2,
                            device="cpu").fit(images, np.arange(8) % 2)
    wide = clf.save(tmp_path / "filters.safetensors", preprocessing=preprocessing_spec(8))
    monkeypatch.setattr("logicat.core.validation.available_memory", lambda: 2 << 30)
    before = snapshot(tmp_path)
    status, output = cli(["graph", "-m", wide, "--out", tmp_path / "g.txt"])
    assert_refused(status, output, code=1, names=f"{wide}: its graph on 8 training images",
                   before=before, folders=(tmp_path,))
    status, output = cli(["graph", "-m", networks["convnet"], "--out", tmp_path / "small.txt"])
    assert status == 0, output


def test_a_model_made_in_memory_that_overflows_names_itself_and_warns_nothing(networks):
    """The last guard, behind the reader: a ``Model`` built in memory whose logits are not
    finite raises one line naming it, not a NaN probability and no RuntimeWarning."""
    from logicat.io.files import read_model

    model = read_model(networks["mlp"])
    model.params[0] = np.full_like(model.params[0], 1e308)
    images = np.full((2, 64, 64, 3), 255, np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelFileError, match=r"mlp\.safetensors: its logit is not a finite "
                                                 r"number for 2 of the 2 examples"):
            model.proba(model.features(images))
