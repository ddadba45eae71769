"""Bad input, table-driven: one clear error line, the right exit status, no file left behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from safetensors.numpy import save_file

from logicat import LogisticRegression, images_to_features, load_image
from tests import paths
from tests.conftest import invoke

SHARED = paths.CAT_DATA


def _h5(folder: Path, name: str, prefix: str, x, y, classes=(b"non-cat", b"cat")) -> None:
    folder.mkdir(exist_ok=True)
    with h5py.File(folder / name, "w") as f:
        f[f"{prefix}_set_x"] = x
        f[f"{prefix}_set_y"] = y
        f["list_classes"] = np.array(classes)


def _data_dir(tmp: Path, kind: str) -> Path:
    """A data folder whose training file is broken in the way ``kind`` says."""
    d = tmp / kind
    d.mkdir()
    shutil.copy(SHARED / "test_catvnoncat.h5", d / "test_catvnoncat.h5")
    x = np.zeros((4, 64, 64, 3), np.uint8)
    if kind == "labels":
        _h5(d, "train_catvnoncat.h5", "train", x, np.array([0, 1, 2, 1]))
    elif kind == "lengths":
        _h5(d, "train_catvnoncat.h5", "train", x, np.array([0, 1, 1]))
    elif kind == "float-images":
        _h5(d, "train_catvnoncat.h5", "train", x.astype(np.float32), np.array([0, 1, 0, 1]))
    elif kind == "not-hdf5":
        (d / "train_catvnoncat.h5").write_text("these are not the files you are looking for")
    elif kind == "truncated":
        data = (SHARED / "train_catvnoncat.h5").read_bytes()
        (d / "train_catvnoncat.h5").write_bytes(data[: len(data) // 3])
    return d


def _model(tmp: Path, kind: str) -> Path:
    path = tmp / f"{kind}.safetensors"
    if kind == "truncated":
        rng = np.random.default_rng(0)
        clf = LogisticRegression(max_iter=2).fit(rng.random((6, 12288)), np.arange(6) % 2)
        clf.save(path)
        path.write_bytes(path.read_bytes()[:200])
    elif kind == "foreign":
        save_file({"w": np.zeros(3, np.float32)}, path)
    elif kind == "text":
        path.write_text("hello")
    elif kind == "good":
        rng = np.random.default_rng(0)
        LogisticRegression(max_iter=2).fit(rng.random((6, 12288)), np.arange(6) % 2).save(path)
    elif kind == "README":  # a README renamed .safetensors
        path.write_text("# logicat: is this a cat?\n\nLogistic regression as a neural network.\n")
    elif kind == "HDF5":  # the cat data given as a model
        shutil.copy(SHARED / "test_catvnoncat.h5", path)
    elif kind == "torch zip":  # what torch.save writes: a zip archive
        import zipfile

        with zipfile.ZipFile(path, "w") as z:
            z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    elif kind == "pickle":  # what torch.save wrote before its zip format
        import pickle

        path.write_bytes(pickle.dumps({"coef": [0.0] * 100}, protocol=2))
    elif kind == "PNG":
        from PIL import Image

        with Image.open(paths.SHARED_DATA / "photos" / "tabby_cat.jpg") as image:
            image.save(path, format="PNG")
    return path


def _folder(tmp: Path, kind: str) -> Path:
    """A photo folder laid out wrongly: a class folder without images, or no class folders."""
    from PIL import Image

    root = tmp / "photos"
    image = Image.fromarray(np.zeros((8, 8, 3), np.uint8))
    if kind == "empty class":
        (root / "cat").mkdir(parents=True)
        (root / "dogs").mkdir()
        image.save(root / "cat" / "a.png")
    elif kind == "flat":
        root.mkdir()
        for name in ("a.png", "b.png"):
            image.save(root / name)
    return root


# (name, argv builder, exit status, text the error line must contain)
CLI_CASES = [
    (
        "negative learning rate",
        lambda t: ["train", "--learning-rate", "-0.1"],
        2,
        "--learning-rate",
    ),
    ("NaN learning rate", lambda t: ["train", "--learning-rate", "nan"], 2, "--learning-rate"),
    ("infinite learning rate", lambda t: ["train", "--learning-rate", "inf"], 2, "finite"),
    ("zero iterations", lambda t: ["train", "--iterations", "0"], 2, "--iterations"),
    ("non-numeric iterations", lambda t: ["train", "--iterations", "many"], 2, "--iterations"),
    ("unknown loss", lambda t: ["train", "--loss", "hinge"], 2, "--loss"),
    ("unknown dtype", lambda t: ["train", "--dtype", "float16"], 2, "--dtype"),
    ("unknown engine", lambda t: ["train", "--engine", "abacus"], 2, "--engine"),
    (
        "output folder missing",
        lambda t: ["train", "--out", t / "no" / "m.safetensors"],
        2,
        "does not exist",
    ),
    ("plot suffix", lambda t: ["train", "--plot", t / "curve.txt"], 2, "--plot"),
    ("data folder missing", lambda t: ["train", "--data-dir", t / "nowhere"], 1, "Cannot find"),
    (
        "labels other than 0/1",
        lambda t: ["train", "--data-dir", _data_dir(t, "labels")],
        1,
        "train_catvnoncat.h5",
    ),
    (
        "mismatched lengths",
        lambda t: ["train", "--data-dir", _data_dir(t, "lengths")],
        1,
        "train_catvnoncat.h5",
    ),
    (
        "float images",
        lambda t: ["train", "--data-dir", _data_dir(t, "float-images")],
        1,
        "train_catvnoncat.h5",
    ),
    (
        "not an HDF5 file",
        lambda t: ["train", "--data-dir", _data_dir(t, "not-hdf5")],
        1,
        "train_catvnoncat.h5",
    ),
    (
        "truncated HDF5 file",
        lambda t: ["train", "--data-dir", _data_dir(t, "truncated")],
        1,
        "train_catvnoncat.h5",
    ),
    (
        "missing model",
        lambda t: ["predict", "-m", t / "none.safetensors", t],
        1,
        "no such model file",
    ),
    (
        "truncated model",
        lambda t: ["predict", "-m", _model(t, "truncated"), t],
        1,
        "truncated.safetensors",
    ),
    (
        "foreign safetensors",
        lambda t: ["evaluate", "-m", _model(t, "foreign")],
        1,
        "not a logicat model",
    ),
    ("text file as model", lambda t: ["info", _model(t, "text")], 1, "text.safetensors"),
    (
        "missing image",
        lambda t: ["predict", "-m", _model(t, "truncated"), t / "cat.jpg"],
        1,
        "truncated.safetensors",
    ),
    # issue 29: one line, naming the file or option, saying what it is and what to do
    ("missing image, one line", lambda t: ["predict", "-m", _model(t, "good"), t / "nothere.jpg"],
     1, "nothere.jpg: no such file"),
    ("text file as model, said", lambda t: ["info", _model(t, "text")], 1,
     "text.safetensors: this is a text file that starts with 'hello', not a logicat model file "
     "(the .safetensors file 'logicat train' writes)."),
    ("README renamed .safetensors", lambda t: ["predict", "-m", _model(t, "README"), t], 1,
     "README.safetensors: this is a text file that starts with '# logicat: is this a cat?', not "
     "a logicat model file"),
    ("HDF5 file as model", lambda t: ["info", _model(t, "HDF5")], 1,
     "HDF5.safetensors: this is an HDF5 file (a data set, as the cat data's or what 'logicat "
     "pack' writes: give it to 'logicat train --train-file' or 'logicat evaluate --test-file'), "
     "not a logicat model file"),
    ("torch .pt (zip) as model", lambda t: ["export", _model(t, "torch zip"), t / "m.onnx"], 1,
     "torch zip.safetensors: this is a zip archive (a PyTorch .pt file is one;"),
    ("torch .pt (pickle) as model", lambda t: ["evaluate", "-m", _model(t, "pickle")], 1,
     "pickle.safetensors: this is a Python pickle (a PyTorch .pt file saved the old way is one;"),
    ("PNG as model", lambda t: ["info", _model(t, "PNG")], 1,
     "PNG.safetensors: this is a PNG image (give images to 'logicat predict -m MODEL IMAGE'), "
     "not a logicat model file"),
    ("PNG as checkpoint", lambda t: ["train", "--resume", "--checkpoint", _model(t, "PNG")], 1,
     "PNG.safetensors: this is a PNG image (give images to 'logicat predict -m MODEL IMAGE'), "
     "not a logicat checkpoint"),
    ("empty class folder", lambda t: ["train", "--images", _folder(t, "empty class").name], 1,
     f"the folder {Path('photos') / 'dogs'} has no image files (.jpg"),
    ("flat folder", lambda t: ["pack", _folder(t, "flat").name, t / "p.h5"], 1,
     f"no class folder named 'cat' (class folders found: none); expected one folder per class, "
     f"{Path('photos') / 'cat'}/ and {Path('photos')}/<other class>/, with the images inside "
     "(its 2 image files lie directly in it: move them into class folders)"),
    (
        "unreachable download",
        lambda t: ["download", "--base-url", "http://127.0.0.1:9", "--dest", t / "cache"],
        1,
        "127.0.0.1:9",
    ),
]


@pytest.mark.parametrize(
    ("name", "argv", "status", "text"), CLI_CASES, ids=[c[0] for c in CLI_CASES]
)
def test_cli_bad_input(name, argv, status, text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default --out model.safetensors would land here
    args = [str(a) for a in argv(tmp_path)]
    inputs = _files(tmp_path)  # what the case itself set up
    result = invoke(*args)
    assert result.exit_code == status, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    assert text in errors[0]
    if status == 1:  # not a usage error: the error line is all there is
        assert result.output.strip() == errors[0]
    # No model, plot, partial download or temporary file left behind.
    assert _files(tmp_path) == inputs


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


rng = np.random.default_rng(0)
X_OK, Y_OK = rng.random((10, 4)), np.arange(10) % 2
X_NAN = X_OK.copy()
X_NAN[3, 2] = np.nan
X_INF = X_OK.copy()
X_INF[0, 0] = np.inf

API_CASES = [
    ("NaN feature", lambda: LogisticRegression().fit(X_NAN, Y_OK), "NaN"),
    ("infinite feature", lambda: LogisticRegression().fit(X_INF, Y_OK), "infinity"),
    ("empty input", lambda: LogisticRegression().fit(np.empty((0, 4)), []), "0 sample"),
    ("one class", lambda: LogisticRegression().fit(X_OK, np.zeros(10)), "class"),
    ("three classes", lambda: LogisticRegression().fit(X_OK, np.arange(10) % 3), "class"),
    (
        "zero learning rate",
        lambda: LogisticRegression(learning_rate=0).fit(X_OK, Y_OK),
        "'learning_rate'",
    ),
    (
        "NaN learning rate",
        lambda: LogisticRegression(learning_rate=float("nan")).fit(X_OK, Y_OK),
        "'learning_rate'",
    ),
    ("max_iter 0", lambda: LogisticRegression(max_iter=0).fit(X_OK, Y_OK), "'max_iter'"),
    (
        "wrong feature count",
        lambda: LogisticRegression(max_iter=2).fit(X_OK, Y_OK).predict(np.zeros((2, 5))),
        "5 features",
    ),
    ("predict before fit", lambda: LogisticRegression().predict(X_OK), "not fitted"),
    ("float images", lambda: images_to_features(np.zeros((1, 64, 64, 3))), "uint8"),
    (
        "images without channels",
        lambda: images_to_features(np.zeros((1, 64, 64), np.uint8)),
        "shape",
    ),
    ("not an image", lambda: load_image(Path(__file__)), "test_bad_inputs.py"),
]


@pytest.mark.parametrize(("name", "call", "text"), API_CASES, ids=[c[0] for c in API_CASES])
def test_api_bad_input(name, call, text):
    with pytest.raises((ValueError, TypeError, AttributeError)) as info:
        call()
    first_line = str(info.value).splitlines()[0]
    assert text in first_line


def test_ctrl_c_exits_130_with_one_line():
    """Ctrl-C in any command (``cli.LogicatGroup``; train's own, which saves a checkpoint, is
    tested with train): one line, exit 130, no traceback (click alone says "Aborted!", exit 1).
    """
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = ["sweep", "--hidden", "20,7,5", "-n", "1000000"]  # hours: it is surely working
    with subprocess.Popen([sys.executable, "-m", "logicat", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env) as job:
        job.stdout.readline()  # its table's header: it is training
        job.send_signal(signal.SIGINT)
        _, err = job.communicate(timeout=60)
    assert job.returncode == 130, err
    assert err.strip() == "Interrupted.", err


@pytest.mark.parametrize("args", [["--model", "convnet"], ["--engine", "torch"]])
def test_device_cuda_without_a_gpu_is_one_line_in_trains_words(args, tmp_path, monkeypatch):
    """Not Python's device='cpu', not the group's usage: train's usage and one line naming the
    option, before any work."""
    import re

    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.chdir(tmp_path)
    result = invoke("train", *args, "--device", "cuda")
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert errors == [f"Error: --device cuda: this PyTorch ({torch.__version__}) sees no CUDA "
                      "device; use --device cpu or auto."], result.output
    assert re.match(r"Usage: \S+ train \[OPTIONS\]", result.output)
    assert list(tmp_path.iterdir()) == []
