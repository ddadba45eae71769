"""``logicat train``'s training options: Ctrl-C exits 130 with a checkpoint that --resume
continues to the uninterrupted run; --resume without its checkpoint; the tol warning."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from logicat import LogisticRegression
from logicat.io.files import load_checkpoint
from tests.conftest import file_tensors, invoke


@pytest.mark.slow  # two short `logicat train` processes on the cat data
def test_cli_ctrl_c_exits_130_with_a_checkpoint_and_resume_matches(tmp_path, cat_features):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    base = [sys.executable, "-m", "logicat", "train", "--iterations", "300", "--optimizer",
            "momentum"]
    ck = tmp_path / "ck.safetensors"
    run = subprocess.Popen(
        [*base, "--print-every", "1", "--checkpoint", str(ck), "--out", str(tmp_path / "a")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    for line in run.stdout:  # wait until training runs, then press Ctrl-C
        if line.startswith("Cost after iteration 5:"):
            run.send_signal(signal.SIGINT)
            break
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert err.strip().startswith("Interrupted after iteration ")
    assert f"saved a checkpoint to {ck}" in err and len(err.strip().splitlines()) == 1
    assert 6 <= load_checkpoint(ck).meta["epoch"] < 300
    assert not (tmp_path / "a").exists()  # no model from an interrupted run

    resumed = tmp_path / "resumed.safetensors"
    subprocess.run([*base, "--print-every", "0", "--checkpoint", str(ck), "--resume", "--out",
                    str(resumed)], check=True, capture_output=True, env=env)
    X, y = cat_features[:2]
    whole = LogisticRegression(optimizer="momentum", max_iter=300, random_state=0).fit(X, y)
    tensors = file_tensors(resumed)
    assert np.array_equal(tensors["coef"], whole.coef_)
    assert tensors["intercept"][0] == whole.intercept_
    assert np.array_equal(tensors["cost_history"], whole.cost_history_)



def test_cli_option_errors_and_warnings(tmp_path):


    out = str(tmp_path / "m.safetensors")
    result = invoke("train", "--resume", "-o", out)
    assert result.exit_code == 2 and "'--resume': needs --checkpoint PATH." in result.output
    missing = str(tmp_path / "none.safetensors")
    result = invoke("train", "--resume", "--checkpoint", missing, "-o", out)
    assert result.exit_code == 2 and "no such checkpoint file" in result.output
    result = invoke("train", "-n", "10", "--tol", "1e-4", "--print-every", "0", "-o", out)
    assert result.exit_code == 0, result.output
    assert "Warning: LogisticRegression: max_iter=10 reached before the cost settled" in (
        result.output
    )
