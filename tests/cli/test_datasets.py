"""``logicat train --images DIR``, as a newcomer with a folder of photos drives it: every model
kind trains on the photos, is tested on a held-out part of them (or a second folder), says so,
and records it; the cat data is never scored for it."""

from __future__ import annotations

import json
import os

import pytest

from logicat.io.files import read_metadata
from tests.conftest import invoke
from tests.data.test_image_sets import photo_folder

KINDS = {
    "logistic": ["-n", "50"],
    "mlp": ["--hidden", "7", "-n", "50"],
    "convnet": ["--model", "convnet", "-n", "1", "--param", "widths=4,8"],
}


@pytest.fixture
def photos(cat_data, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return photo_folder(tmp_path / "photos", cat_data, n=60)


@pytest.mark.parametrize("kind", KINDS)
def test_every_model_kind_trains_on_your_photos_and_tests_on_them(kind, photos, tmp_path):
    out = tmp_path / f"{kind}.safetensors"
    result = invoke(*["train", "--images", photos, *KINDS[kind], "--print-every", "0",
                     "--out", out])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Training on 48 images of {photos}/ (cat: ")
    assert "testing on 12 held-out images of" in lines[0]
    assert any(line.startswith("train accuracy: ") and line.endswith(
        ", on its 48 training images") for line in lines), result.output
    test_line = next(line for line in lines if line.startswith("test accuracy: "))
    assert test_line.endswith(f", on 12 held-out images of {photos}/ (20 % of each class)")
    meta = read_metadata(out)
    assert meta["training_data"]["file"] == f"{photos}/"
    assert meta["training_data"]["n_samples"] == 48
    accuracy = float(test_line.split()[2])
    assert meta["metrics"]["test_accuracy"] == accuracy
    predicted = invoke(*["predict", "-m", out, "--format", "json", photos / "cat"])
    assert predicted.exit_code == 0, predicted.output
    records = json.loads(predicted.output)
    assert len(records) == len(list((photos / "cat").iterdir()))
    assert all(0 <= r["probability"] <= 1 and r["positive_class"] == "cat" for r in records)
    scored = invoke(*["evaluate", "-m", out, "--images", photos, "--format", "json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output)["data"]["n_samples"] == 60
    # by default, scored on the photos train held out, found again: train's test accuracy
    held_out = invoke(*["evaluate", "-m", out, "--format", "json"])
    assert held_out.exit_code == 0, held_out.output
    scores = json.loads(held_out.output)
    assert scores["data"]["n_samples"] == 12 and scores["data"]["split"] == "test"
    assert scores["data"]["source"] == (f"{os.path.realpath(photos)}/ (the part train held "
                                        "out: 20 % of each class)")
    assert 100 * scores["metrics"]["accuracy"] == pytest.approx(accuracy)
    trained = json.loads(invoke(*["evaluate", "-m", out, "--split", "train", "--format",
                                  "json"]).output)
    assert 100 * trained["metrics"]["accuracy"] == pytest.approx(meta["metrics"][
        "train_accuracy"])


def test_a_second_folder_is_the_test_set(cat_data, photos, tmp_path):
    test = photo_folder(tmp_path / "test", cat_data, n=20, start=100)
    result = invoke(*["train", "--images", photos, "--test-images", test, "-n", "20",
                     "--print-every", "0", "--out", tmp_path / "m.safetensors"])
    assert result.exit_code == 0, result.output
    assert "test accuracy: " in result.output
    assert f"on the 20 images of {test}/" in result.output
    scored = json.loads(invoke(*["evaluate", "-m", tmp_path / "m.safetensors", "--format",
                                 "json"]).output)  # by default, the --test-images folder
    assert scored["data"]["n_samples"] == 20
    assert scored["data"]["source"] == f"{os.path.realpath(test)}/"


@pytest.mark.parametrize("args, option", [
    (["--images", "{p}", "--train-file", "{p}/x.h5"], "--train-file"),
    (["--test-images", "{p}"], "--test-images"),
    (["--images", "{p}", "--test-fraction", "0.001"], "test_fraction=0.001 holds out 0"),
    (["--image-size", "96"], "--image-size"),  # the cat data is 64x64
    (["--train-file", "{p}/x.h5", "--image-size", "32"], "pack them again with `logicat pack "
     "--image-size N`"),
    (["--images", "{p}", "--image-size", "4"], "--image-size"),  # too small to be a photo
])
def test_what_cannot_be_asked_is_a_usage_error(args, option, photos, tmp_path):
    result = invoke(*["train", *[a.format(p=photos) for a in args], "--out",
                     tmp_path / "m.safetensors"])
    assert result.exit_code == 2, result.output
    assert option in result.output.splitlines()[-1]
    assert not (tmp_path / "m.safetensors").exists()


def test_the_second_run_reads_the_cache(photos, tmp_path, monkeypatch):
    args = ["train", "--images", photos, "-n", "5", "--print-every", "0", "--out",
            tmp_path / "m.safetensors"]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    recorded = read_metadata(tmp_path / "m.safetensors")["training_data"]

    def no_decoding(*a, **k):
        raise AssertionError("decoded twice")

    monkeypatch.setattr("logicat.data.pack.pack_image_folder", no_decoding)
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert again.output == first.output  # the same images, the same split, the same model
    assert read_metadata(tmp_path / "m.safetensors")["training_data"] == recorded


def test_image_size_trains_a_convnet_whose_info_export_and_onnx_agree(photos, tmp_path):
    """train --images --image-size 96 -> a 96-pixel ConvNet: the file, info, export's line,
    the ONNX input's shape and doc, and the ONNX answers on images resized as it says all
    agree with predict."""
    pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    import numpy as np
    import onnx

    from logicat import load_image

    out = tmp_path / "m96.safetensors"
    trained = invoke("train", "--images", photos, "--image-size", 96, *KINDS["convnet"],
                     "--print-every", 0, "--out", out)
    assert trained.exit_code == 0, trained.output
    assert "), resized to 96x96; testing on" in trained.output.splitlines()[0]
    assert read_metadata(out)["preprocessing"]["image_size"] == 96
    shown = invoke("info", out)
    assert shown.exit_code == 0, shown.output
    assert "input: RGB images of 96x96; predict, explain and serve resize any image to 96x96" \
        in shown.output
    exported = invoke("export", out, tmp_path / "m.onnx")
    assert exported.exit_code == 0, exported.output
    assert ("Its input 'images' takes uint8 RGB images of 96x96, (N, 96, 96, 3): resize each "
            "image to 96x96 first, as logicat does (Lanczos, the aspect ratio not kept: "
            "logicat.load_image(path, size=96)") in exported.output
    graph_input = onnx.load(tmp_path / "m.onnx").graph.input[0]
    dims = [d.dim_value or d.dim_param for d in graph_input.type.tensor_type.shape.dim]
    assert graph_input.name == "images" and dims == ["N", 96, 96, 3]
    assert "96x96" in graph_input.doc_string
    files = sorted((photos / "cat").iterdir())[:4]
    batch = np.stack([load_image(f, size=96) for f in files])  # resized as the line says
    (p,) = ort.InferenceSession(str(tmp_path / "m.onnx")).run(["probability"],
                                                               {"images": batch})
    predicted = json.loads(invoke("predict", "-m", out, "--format", "json", *files).output)
    np.testing.assert_allclose(p, [r["probability"] for r in predicted], atol=1e-5)


def test_image_size_for_a_dense_model(photos, tmp_path):
    out = tmp_path / "m32.safetensors"
    trained = invoke("train", "--images", photos, "--image-size", 32, *KINDS["logistic"],
                     "--print-every", 0, "--out", out)
    assert trained.exit_code == 0, trained.output
    meta = read_metadata(out)
    assert meta["preprocessing"]["image_size"] == 32 and meta["n_features"] == 32 * 32 * 3
    predicted = invoke("predict", "-m", out, photos / "cat")
    assert predicted.exit_code == 0 and "p(cat) = " in predicted.output


def test_nproc_decodes_the_photos_at_the_image_size_before_its_processes_start(
        photos, tmp_path, monkeypatch):
    """The folder is decoded once, before torchrun starts the processes, at --image-size: the
    processes then read the cache (torchrun itself is not started here)."""
    pytest.importorskip("torch")
    from logicat.data import folder_cache
    from logicat.engines.torch import distributed

    sizes, started = [], []
    decode = folder_cache.load_cached
    monkeypatch.setattr(folder_cache, "load_cached",
                        lambda root, positive, size=64, **kw: sizes.append(size)
                        or decode(root, positive, size, **kw))
    monkeypatch.setattr(distributed, "run_torchrun", lambda n, args: started.append(args) or 0)
    result = invoke("train", "--images", photos, "--image-size", 32, "--model", "convnet",
                    "--nproc", 2, "--out", tmp_path / "m.safetensors")
    assert result.exit_code == 0, result.output
    assert sizes == [32] and "--image-size" in started[0] and "32" in started[0]


@pytest.mark.parametrize("kind", ["logistic", "convnet"])
def test_a_packed_test_file_gives_the_packed_route_its_held_out_score(kind, cat_data, tmp_path,
                                                                     monkeypatch):
    """pack + --train-file, for more photos than memory holds, is scored on --test-file (issue
    29): the line says on what, the model file records it, and the figure is the model's own
    accuracy on those images."""
    from logicat import load_model
    from logicat.data import load_h5_dataset
    from logicat.data.features import images_to_features
    from logicat.evaluate.metrics import accuracy_percent

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name, start, n in (("train", 0, 60), ("test", 60, 30)):
        photo_folder(tmp_path / name, cat_data, n=n, start=start)
        assert invoke("pack", tmp_path / name, tmp_path / f"{name}.h5", "-j", "1").exit_code == 0
    out = tmp_path / "m.safetensors"
    result = invoke("train", "--train-file", tmp_path / "train.h5", "--test-file",
                    tmp_path / "test.h5", *KINDS[kind], "--print-every", "0", "--out", out)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("test accuracy: "))
    x, y, _ = load_h5_dataset(tmp_path / "test.h5")
    model = load_model(out)
    expected = accuracy_percent(model.predict(images_to_features(x)), y)
    assert line == f"test accuracy: {expected} %, on the 30 images of {tmp_path / 'test.h5'}"
    meta = read_metadata(out)
    assert meta["metrics"]["test_accuracy"] == pytest.approx(expected)
    assert meta["training_data"]["test_file"] == "test.h5"
    assert len(meta["training_data"]["test_sha256"]) == 64


def test_a_test_file_that_does_not_fit_is_refused_before_training(cat_data, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    photo_folder(tmp_path / "p", cat_data, n=20)
    for name, size in (("a.h5", 64), ("b.h5", 32)):
        assert invoke("pack", tmp_path / "p", tmp_path / name, "--image-size", size,
                      "-j", "1").exit_code == 0
    out = tmp_path / "m.safetensors"
    small = invoke("train", "--train-file", tmp_path / "a.h5", "--test-file", tmp_path / "b.h5",
                   "-n", "5", "--out", out)
    assert small.exit_code == 2 and "Error: --test-file" in small.output
    assert "Got 32x32: pack it again with --image-size 64." in small.output
    alone = invoke("train", "--test-file", tmp_path / "a.h5", "-n", "5", "--out", out)
    assert alone.exit_code == 2 and "scores the model of a --train-file" in alone.output
    assert not out.exists() and "Training on" not in small.output + alone.output
