"""Shared fixtures: the cat data, the real photos, a seeded generator, one torch thread, a temporary
model path."""

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


def invoke(*args):
    """``logicat ARGS...`` in this process, through click's ``CliRunner`` (any argument is
    turned into a string): the result's ``exit_code`` and ``output``. The one wrapper of the
    test suite: modules import it (``from tests.conftest import invoke``) or take the fixture."""
    from click.testing import CliRunner

    from logicat.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="session")
def cli():
    """``invoke``, as a fixture."""
    return invoke
