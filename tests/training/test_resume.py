"""What a checkpoint records of its run, and the rule a resumption follows: options not given
are the run's, those that only say how long or where may differ, any other given must agree,
and the data must be the same (``logicat.training.resume``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from logicat.core.errors import ModelFileError, ParameterError
from logicat.estimators import LogisticRegression
from logicat.io.files import load_checkpoint
from logicat.training.callbacks import Checkpoint
from logicat.training.resume import MAY_DIFFER, Run, check_data, check_options

RECORDED = {"--model": "--model convnet", "--seed": "--seed 3", "--early-stopping": "",
            "--iterations": "--iterations 120", "--out": "--out /home/me/m.safetensors"}


@pytest.mark.parametrize("given", [
    {},
    {"--model": "--model convnet", "--seed": "--seed 3"},  # said again, the same
    {"--iterations": "--iterations 200", "--out": "--out /tmp/other.safetensors",
     "--device": "--device cpu", "--quiet": "--quiet"},  # how long, where: may differ
])
def test_what_agrees_or_may_differ_is_accepted(given):
    check_options(RECORDED, given, "ck.safetensors")


@pytest.mark.parametrize("given, message", [
    ({"--model": "--model mlp"}, "--model mlp: ck.safetensors was written by a run with "
     "--model convnet, and --resume goes on with that run: drop --model (the checkpoint says "
     "what the run trained), or train anew without --resume."),
    ({"--early-stopping": "--early-stopping"}, "--early-stopping: ck.safetensors was written "
     "by a run without --early-stopping, and"),
    ({"--hidden": "--hidden 7"}, "--hidden 7: ck.safetensors was written by a run without "
     "--hidden, and"),  # an option the record does not know: the run had it unset
])
def test_an_option_that_contradicts_the_run_is_refused_naming_it(given, message):
    with pytest.raises(ParameterError) as e:
        check_options(RECORDED, given, "ck.safetensors")
    assert str(e.value).startswith(message)


def test_only_how_long_where_and_what_is_shown_may_differ():
    assert {"--iterations", "--out", "--device"} <= MAY_DIFFER
    assert not {"--model", "--images", "--seed", "--param", "--learning-rate", "--data-dir",
                "--test-fraction", "--positive", "--batch-size"} & MAY_DIFFER


def test_the_data_must_be_what_the_run_trained_on():
    then = {"file": "photos/", "sha256": "a" * 64}
    check_data(then, dict(then), "ck")
    check_data(then, {"file": "/home/me/photos/", "sha256": "a" * 64}, "ck")  # named otherwise
    check_data(None, then, "ck")  # a checkpoint that records no data: nothing to compare
    with pytest.raises(ParameterError, match=r"^photos/: it has changed since ck was written "
                       r"\(images were added, removed or edited: its listing's SHA-256 "
                       r"differs\); resume on the data the run trained on, or train anew "
                       r"without --resume\.$"):
        check_data(then, {"file": "photos/", "sha256": "b" * 64}, "ck")
    with pytest.raises(ParameterError, match=r"^train_catvnoncat.h5: it has changed since ck "
                       r"was written \(its SHA-256 differs\)"):
        check_data({"file": "train_catvnoncat.h5", "sha256": "a" * 64},
                   {"file": "train_catvnoncat.h5", "sha256": "b" * 64}, "ck")


def _checkpoint(tmp_path, run):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), np.arange(30) % 2
    path = tmp_path / "ck.safetensors"
    LogisticRegression(max_iter=3, callbacks=[Checkpoint(path, every=1, run=run)]).fit(X, y)
    return path


def test_a_checkpoint_records_its_run_and_reads_it_back(tmp_path):
    run = Run(["--iterations", "3", "--out", "/home/me/m.safetensors"],
              {"file": "photos/", "sha256": "c" * 64, "n_samples": 30})
    snapshot = load_checkpoint(_checkpoint(tmp_path, run))
    assert Run.from_meta(snapshot.meta) == run
    assert Run.from_meta(load_checkpoint(_checkpoint(tmp_path, None)).meta) is None


@pytest.mark.parametrize("record", [
    "--model convnet",  # not an object
    {"command": "--model convnet"},  # not a list of words
    {"command": ["--model", 3]},
    {"command": ["--out", "x" * 4097]},
    {"command": ["--out", "a\0b"]},
    {"command": ["x"] * 513},
    {"command": [], "data": {"file": "photos/", "sha256": "not hex"}},
    {"command": [], "data": ["photos/"]},
])
def test_a_run_record_that_logicat_would_not_write_is_refused(tmp_path, record):
    path = _checkpoint(tmp_path, Run([]))
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    meta = json.loads(header["__metadata__"]["logicat_checkpoint"])
    meta["run"] = record
    header["__metadata__"]["logicat_checkpoint"] = json.dumps(meta)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + n:])
    with pytest.raises(ModelFileError, match=r"ck\.safetensors: the checkpoint's run must "
                       r"record its (command|data)"):
        load_checkpoint(path)
