"""The model that predicts (``logicat.model.Model``), under hostile input (class 1,
docs/bad-input.md): the memory a computation needs is checked by what computes, each its own
need (predict, evaluate, explain, report, the web app, graph); reading a file (info, plot,
export) asks none; and a model whose logit is not finite says so in one line, even one built in
memory."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from logicat.core.errors import ModelFileError
from tests.hostile.common import PHOTOS, assert_refused, cli, snapshot
from tests.io.test_validate import rewrite


def _image_size(side: int):
    """The file's ConvNet declared for side x side images (its tensors fit any size)."""
    def edit(tensors, meta):
        meta["preprocessing"]["image_size"] = side
        meta["architecture"]["input_shape"] = [3, side, side]
        meta["n_features"] = 3 * side * side
    return edit


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
    return rewrite(networks["convnet"], tmp_path / "wide.safetensors", _image_size(4096),
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

    model = read_model(networks["mlp"])  # hidden 7
    model.tensors["coefs.0"] = np.full_like(model.tensors["coefs.0"], 1e308)
    images = np.full((2, 64, 64, 3), 255, np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelFileError, match=r"mlp\.safetensors: its logit is not a finite "
                                                 r"number for 2 of the 2 examples"):
            model.proba(model.features(images))
