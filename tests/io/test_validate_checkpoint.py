"""Hostile input, class 1 (docs/bad-input.md): a checkpoint is checked in full
(``logicat.io.validate_checkpoint``) before ``--resume`` uses it. Each case edits a real
checkpoint (its JSON header or its tensors); resuming from it is refused with one line naming the
file, exit 1, and nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.hostile.common import assert_refused, cli, snapshot
from tests.io.test_validate import rewrite, set_meta

CHECKPOINT_CASES = {
    "tensor renamed": lambda t, m: t.update(coeff=t.pop("coef")),
    "coef too short": lambda t, m: t.update(coef=t["coef"][:10]),
    "rng state an int": set_meta("rng_state", 5),
    "rng state of no generator": set_meta("rng_state.bit_generator", "os.system"),
    "epoch null": set_meta("epoch", None),
    "epoch beyond its history": set_meta("epoch", 1000),
    "adam state incomplete": lambda t, m: t.pop("optimizer.coef.exp_avg"),
    "format version 5": set_meta("format_version", 5),
    # the layers it names (version 4), checked as a model file's
    "architecture a string": set_meta("architecture", "resnet"),
    "architecture without its sigmoid": lambda t, m: m["architecture"]["layers"].pop(),
    "architecture on images its tensors do not fit": set_meta("architecture.input_shape",
                                                              [3, 64, 64]),
    "optimizer unknown": set_meta("optimizer", "lbfgs"),
    "plateau a string": set_meta("plateau", "steady"),
    "kind unknown": set_meta("kind", "Tree"),
    "parameters NaN": lambda t, m: t["coef"].__setitem__(3, np.nan),
    "hyperparameters a list": set_meta("hyperparameters", [1]),
    # what train recorded of its run (issue 29): read by --resume alone
    "run command a string": set_meta("run.command", "--out /etc/passwd"),
    "run command of non-words": set_meta("run.command", ["--out", 7]),
    "run data without its SHA-256": set_meta("run.data", {"file": "photos/"}),
    "run command that train cannot parse": set_meta("run.command", ["--model", "tree"]),
}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> tuple[Path, list]:
    folder = tmp_path_factory.mktemp("checkpoint")
    args = ["train", "-n", 4, "--print-every", 0, "--optimizer", "adam", "--batch-size", 64,
            "--checkpoint", folder / "run.safetensors", "--checkpoint-every", 2]
    status, output = cli([*args, "--out", folder / "m.safetensors"])
    assert status == 0, output
    return folder / "run.safetensors", args[:-4]


@pytest.mark.parametrize("case", CHECKPOINT_CASES)
def test_resuming_refuses_a_hostile_checkpoint(case, checkpoint, tmp_path):
    good, args = checkpoint
    bad = rewrite(good, tmp_path / "bad.safetensors", CHECKPOINT_CASES[case],
                   "logicat_checkpoint")
    shutil.copy(bad, tmp_path / "copy")
    before = snapshot(tmp_path)
    status, output = cli([*args, "--checkpoint", bad, "--resume", "--out",
                          tmp_path / "out.safetensors"])
    assert_refused(status, output, code=1, names=str(bad), before=before, folders=(tmp_path,))
