"""Data parallelism: 2 processes over gloo on the loopback interface train exactly as one."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

from logicat import load_model  # noqa: E402
from logicat.cli.distributed import command_line_args  # noqa: E402
from logicat.engines.torch.distributed import shard_range  # noqa: E402
from tests.conftest import invoke  # noqa: E402


@pytest.mark.parametrize("m, world", [(209, 2), (209, 3), (10, 4), (3, 5)])
def test_shards_cover_every_row_once(m, world):
    ranges = [shard_range(m, r, world) for r in range(world)]
    rows = [i for start, stop in ranges for i in range(start, stop)]
    assert rows == list(range(m))
    sizes = [stop - start for start, stop in ranges]
    assert max(sizes) - min(sizes) <= 1


def test_each_torchrun_process_gets_the_same_options():
    from logicat.cli.train import train

    args = [
        "--engine",
        "torch",
        "-n",
        "7",
        "--loss",
        "squared_error",
        "--nproc",
        "2",
        "-o",
        "x",
        "--no-shuffle",
        "--early-stopping",
        "--batch-size",
        "8",
        "--seed",
        "3",
        "--tol",
        "0.1",
    ]
    ctx = train.make_context("train", args)
    rebuilt = command_line_args(ctx, drop=("nproc",))
    assert "--nproc" not in rebuilt
    again = train.make_context("train", rebuilt[1:])
    expected = {k: v for k, v in ctx.params.items() if k != "nproc"}
    assert {k: v for k, v in again.params.items() if k != "nproc"} == expected


def test_torchrun_command_is_local_and_bounded(monkeypatch):
    from logicat.engines.torch.distributed import DEFAULT_TIMEOUT_S, timeout_s, torchrun_command

    monkeypatch.delenv("LOGICAT_DIST_TIMEOUT", raising=False)
    assert timeout_s() == DEFAULT_TIMEOUT_S
    monkeypatch.setenv("LOGICAT_DIST_TIMEOUT", "42")
    cmd = torchrun_command(3, ["logicat", "train"])
    assert cmd[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert "--nproc-per-node=3" in cmd and "--rdzv-endpoint=127.0.0.1:0" in cmd
    assert "--rdzv-conf=join_timeout=42" in cmd and "--max-restarts=0" in cmd
    assert cmd[-3:] == ["-m", "logicat", "train"]
    monkeypatch.setenv("LOGICAT_DIST_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="LOGICAT_DIST_TIMEOUT must be a number of seconds"):
        timeout_s()


def test_two_processes_train_exactly_as_one(tmp_path):
    """``logicat train --engine torch --nproc 2`` (torchrun, gloo, shards of 105 and 104
    images) writes the model one process writes, to 1e-10, and prints the report once."""
    single, double = tmp_path / "one.safetensors", tmp_path / "two.safetensors"
    common = ["train", "--engine", "torch", "--device", "cpu", "-n", "50", "--print-every", "10"]
    one = invoke(*common, "-o", str(single))
    assert one.exit_code == 0, one.output
    env = dict(os.environ, OMP_NUM_THREADS="1", LOGICAT_DIST_TIMEOUT="120")
    two = subprocess.run(
        [sys.executable, "-m", "logicat", *common, "-o", str(double), "--nproc", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert two.returncode == 0, two.stdout + two.stderr
    assert two.stdout == one.output.replace(str(single), str(double))  # rank 0 alone prints
    assert two.stdout.count("Cost after iteration 0: 0.693147") == 1
    a, b = load_model(single), load_model(double)
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=0, atol=1e-10)
    assert b.intercept_ == pytest.approx(a.intercept_, abs=1e-10)
    np.testing.assert_allclose(b.cost_history_, a.cost_history_, rtol=0, atol=1e-10)
    assert b.metadata_["training_data"]["n_samples"] == 209
    assert b.metadata_["metrics"] == a.metadata_["metrics"]


def test_nproc_needs_the_torch_engine(tmp_path):
    result = invoke("train", "--nproc", "2", "-o", str(tmp_path / "m"))
    assert result.exit_code == 2 and "--engine torch" in result.output
