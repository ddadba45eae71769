"""Shared fixtures: the cat data, the real photos, a seeded generator, one torch thread, a temporary
model path, the cat data's training set as an HDF5 file (``cat_h5``), a small binary problem
(``problem``), a folder of photos of two classes (``image_root``), three fitted models
(``fitted_models``); and what several modules import from here: the tiny ConvNet (``TINY``,
``TINY_ARGS``), the one CLI wrapper (``invoke``), the one-line-error check
(``assert_one_line_error``) and an HDF5 writer (``write_h5``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# The tests read the real cat data; point LOGICAT_DATA at the shared copy when nothing else is set.
if "LOGICAT_DATA" not in os.environ and (SHARED_DATA / "catvnoncat").is_dir():
    os.environ["LOGICAT_DATA"] = str(SHARED_DATA / "catvnoncat")
os.environ.setdefault("MPLBACKEND", "Agg")

#: A ConvNet small enough for a test: blocks of 4 and 8 channels, batches of 16, two epochs on the
#: CPU. ``ConvNetClassifier(**TINY)``; a module that needs more epochs says so with its own name.
TINY = dict(widths=(4, 8), max_iter=2, batch_size=16, device="cpu")
#: The same ConvNet on ``logicat train``'s command line; the epochs (``-n``) are each test's own.
TINY_ARGS = ["--model", "convnet", "--param", "widths=4,8", "--param", "batch_size=16",
             "--device", "cpu"]


def pytest_report_header(config):
    """The machine, once at the top of the run: a failure in CI names the processor whose
    kernels it ran on (float32 results depend on them; issue 26)."""
    from logicat.core.machine import describe

    try:
        import torch
    except ImportError:  # the suite without the torch extra
        return [f"machine: {describe()}; no torch"]
    return [f"machine: {describe()}; torch threads {torch.get_num_threads()}"]


@pytest.fixture(scope="session")
def cat_data():
    """The cat/non-cat set as ``load_catvnoncat`` returns it."""
    from logicat import load_catvnoncat

    return load_catvnoncat()


@pytest.fixture(scope="session")
def cat_features(cat_data):
    """``(X_train (209, 12288), y_train (209,), X_test (50, 12288), y_test (50,))`` in float64."""
    from logicat import images_to_features

    return (
        images_to_features(cat_data.train_x),
        cat_data.train_y,
        images_to_features(cat_data.test_x),
        cat_data.test_y,
    )


@pytest.fixture(scope="session")
def photos_dir() -> Path:
    """``../shared/data/photos``: real photos in several formats and colour modes."""
    path = SHARED_DATA / "photos"
    if not path.is_dir():
        pytest.skip(f"{path} is not there")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def one_torch_thread():
    """One intra-op torch thread: pytest -n 2 already keeps both cores busy (and it is faster
    here). For modules that use torch: ``pytestmark = pytest.mark.usefixtures(...)``."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tmp_model_path(tmp_path: Path) -> Path:
    return tmp_path / "model.safetensors"


def invoke(*args, env: dict[str, str | None] | None = None):
    """``logicat ARGS...`` in this process, through click's ``CliRunner`` (any argument is
    turned into a string), with ``env`` set for the call: click's ``Result`` (``exit_code``,
    ``output``, ``stdout``, ``stderr``, ``exception``). The one wrapper of the test suite: modules
    import it (``from tests.conftest import invoke``) or take the fixture."""
    from click.testing import CliRunner

    from logicat.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], env=env)


@pytest.fixture(scope="session")
def cli():
    """``invoke``, as a fixture."""
    return invoke


def assert_one_line_error(err: pytest.ExceptionInfo, path: Path, problem: str) -> None:
    """The error ``err`` caught is one line that starts with the file's ``path`` and says
    ``problem``."""
    message = str(err.value)
    assert message.startswith(f"{path}: "), message
    assert problem in message, message
    assert "\n" not in message


def file_tensors(path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file (a model file, a checkpoint), by name."""
    from safetensors import safe_open

    with safe_open(path, framework="numpy") as f:
        return {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118


def write_h5(path, x, y, classes=(b"non-cat", b"cat"), chunk=16):
    """``x`` (m, size, size, 3) uint8 and ``y`` (m,) as a cat-data training file, chunked by
    ``chunk`` rows."""
    import h5py

    with h5py.File(path, "w") as f:
        f.create_dataset("train_set_x", data=x, chunks=(min(chunk, len(x)), *x.shape[1:]))
        f.create_dataset("train_set_y", data=y)
        f.create_dataset("list_classes", data=np.array(classes))
    return path


@pytest.fixture(scope="module")
def cat_h5(tmp_path_factory, cat_data):
    """The cat data's 209 training images as an HDF5 file of chunks of 16 rows."""
    path = tmp_path_factory.mktemp("streaming") / "train.h5"
    return write_h5(path, cat_data.train_x, cat_data.train_y)


@pytest.fixture(scope="module")
def problem():
    """A small standardised binary problem, (X (200, 5), y (200,)), learned in milliseconds."""
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(n_samples=200, n_features=5, n_informative=3, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def image_root(tmp_path_factory):
    """60 camera-like JPEGs and PNGs in cat/ and dog/, plus one file that is not an image."""
    from PIL import Image

    root = tmp_path_factory.mktemp("folder")
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (root / name).mkdir()
        for i in range(30):
            pixels = rng.integers(0, 256, size=(96 + i, 128, 3), dtype=np.uint8)
            suffix = ".png" if i % 5 == 0 else ".jpg"
            Image.fromarray(pixels).save(root / name / f"{i:02d}{suffix}")
    (root / "cat" / "broken.jpg").write_bytes(b"\xff\xd8 this is not a JPEG")
    return root


@pytest.fixture(scope="module")
def fitted_models(cat_features, tmp_path_factory):
    """Three fitted models as model files give them back (with their preprocessing): "logistic",
    "standardized" (a logistic regression that standardises) and "network" (6, 3) tanh."""
    from logicat import LogisticRegression, MLPClassifier
    from logicat.data.features import preprocessing_spec
    from logicat.io.files import read_model

    X, y, _, _ = cat_features
    fitted = {
        "logistic": LogisticRegression(max_iter=300).fit(X, y),
        "standardized": LogisticRegression(max_iter=100, standardize=True).fit(X, y),
        "network": MLPClassifier(hidden_layer_sizes=(6, 3), activation="tanh", max_iter=40,
                                 random_state=0, standardize=True).fit(X, y),
    }
    folder = tmp_path_factory.mktemp("explain")
    return {name: read_model(clf.save(folder / f"{name}.safetensors", class_names=["non-cat",
                             "cat"], preprocessing=preprocessing_spec(64)))
            for name, clf in fitted.items()}


@pytest.fixture(scope="session")
def networks(tmp_path_factory) -> dict[str, Path]:
    """A ConvNet (1 epoch, widths 4, 8), a network (hidden 7) and a residual network of one's
    own (``train --layers``), trained by the real command (the file readers' tests and the
    Model's share them)."""
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
        result = invoke("train", *args, "--print-every", 0, "--out",
                        folder / f"{kind}.safetensors")
        assert result.exit_code == 0, result.output
    return {kind: folder / f"{kind}.safetensors" for kind in runs}
