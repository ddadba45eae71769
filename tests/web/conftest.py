"""Fixtures of the web tests: a model file trained by the real ``logicat train``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import invoke


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, cat_data) -> Path:
    """A model trained by the real ``logicat train`` (200 iterations), with its metadata."""
    path = tmp_path_factory.mktemp("web") / "model.safetensors"
    result = invoke("train", "--iterations", "200", "--print-every", "0", "--out", str(path))
    assert result.exit_code == 0, result.output
    return path
