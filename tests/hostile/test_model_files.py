"""Class 1: model files and checkpoints are checked in full before anything uses them.

Each case edits a real file (its JSON header or its tensors) and every command that reads a
model must refuse it with one line naming the file, exit 1; a checkpoint is refused by
``--resume``. The web app refuses to start on it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save

from logicat.errors import ModelFileError
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
    "n_iter null": _set("n_iter", None),
    "n_iter 10**400": _set("n_iter", 10**400),
    "format version 4": _set("format_version", 4),
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
