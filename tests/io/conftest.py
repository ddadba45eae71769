"""What the tests of the file readers share: networks trained by the real command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile.common import cli


@pytest.fixture(scope="package")
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
