"""Shared fixtures: the cat data, the real photos, a seeded generator, one torch thread, a temporary
model path; and what several modules import from here: the tiny ConvNet (``TINY``, ``TINY_ARGS``),
the one CLI wrapper (``invoke``) and the one-line-error check (``assert_one_line_error``)."""

from __future__ import annotations

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
