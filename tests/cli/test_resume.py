"""``logicat train --resume --checkpoint FILE`` as Ctrl-C prints it: the checkpoint records the
run (its options, its data, its model file), so the printed command goes on alone - from another
folder too - and ends where the run never interrupted does; an option that contradicts the run,
or data that changed, is refused naming what differs."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal

import numpy as np
import pytest

from logicat.io.files import load_checkpoint
from logicat.training import callbacks
from tests.conftest import TINY_ARGS, file_tensors, invoke
from tests.data.test_image_sets import photo_folder

CONVNET = [*TINY_ARGS, "-n", "3", "--seed", "3"]


@contextlib.contextmanager
def ctrl_c_at(k: int):
    """Ctrl-C arrives during iteration (epoch) ``k`` of the trainings run inside: a real SIGINT
    to this process, caught by train's own ``GracefulInterrupt``."""

    class CtrlCAt(callbacks.GracefulInterrupt):
        def __call__(self, state):
            if state.iteration == k:
                os.kill(os.getpid(), signal.SIGINT)
            super().__call__(state)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(callbacks, "GracefulInterrupt", CtrlCAt)
        yield


@pytest.fixture
def photos(cat_data, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return photo_folder(tmp_path / "photos", cat_data, n=40)


def _interrupted_then_resumed(args, at: int):
    """Train with ``args``, Ctrl-C at iteration ``at``, then run the command the interruption
    printed, exactly: (that command, the resumed run's output)."""
    with ctrl_c_at(at):
        stopped = invoke("train", *args)
    assert stopped.exit_code == 130, stopped.output
    said = [line for line in stopped.output.splitlines() if line.startswith("Interrupted")]
    assert len(said) == 1, stopped.output
    hint = re.fullmatch(r"Interrupted after \w+ \d+: saved a checkpoint to \S+ \(continue "
                        r"with: (logicat train .*)\)\.", said[0])
    assert hint, said
    words = shlex.split(hint.group(1))
    assert words[:2] == ["logicat", "train"]
    resumed = invoke(*words[1:])
    assert resumed.exit_code == 0, resumed.output
    return hint.group(1), resumed.output



def _same_model(a, b) -> None:
    ta, tb = file_tensors(a), file_tensors(b)
    assert ta.keys() == tb.keys()
    for name in ta:
        np.testing.assert_allclose(tb[name], ta[name], rtol=0, atol=1e-6, err_msg=name)


def test_the_cat_data_run_resumes_with_the_printed_command_alone(tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    args = ["-n", "40", "--optimizer", "momentum", "--print-every", "0", "-o", "m.safetensors"]
    hint, output = _interrupted_then_resumed(args, at=9)
    assert hint == "logicat train --resume --checkpoint m.checkpoint.safetensors"
    first = output.splitlines()[0]
    assert first.startswith("Resuming the run of m.checkpoint.safetensors: logicat train ")
    for words in ("--iterations 40", "--optimizer momentum", f"--out {here / 'm.safetensors'}"):
        assert words in first
    whole = invoke("train", *args[:-1], tmp_path / "whole.safetensors")
    assert whole.exit_code == 0, whole.output
    _same_model(tmp_path / "whole.safetensors", here / "m.safetensors")
    # the checkpoint records absolute paths: resumed from another folder, the model goes
    # where the run was writing it
    (here / "m.safetensors").unlink()
    monkeypatch.chdir(tmp_path)
    again = invoke("train", "--resume", "--checkpoint", "here/m.checkpoint.safetensors")
    assert again.exit_code == 0, again.output
    assert not (tmp_path / "m.safetensors").exists()
    _same_model(tmp_path / "whole.safetensors", here / "m.safetensors")


def test_a_convnet_on_your_photos_resumes_with_the_printed_command_alone(
        photos, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    args = ["--images", "photos", *CONVNET, "--print-every", "1", "-o", "mine.safetensors"]
    hint, output = _interrupted_then_resumed(args, at=1)
    assert hint == "logicat train --resume --checkpoint mine.checkpoint.safetensors"
    assert f"--images {photos}" in output.splitlines()[0]  # the rest comes from the checkpoint
    assert re.search(r"testing on \d+ held-out images of", output)
    assert "Cost after epoch 1:" not in output and "Cost after epoch 2:" in output
    whole = invoke("train", "--images", photos, *CONVNET, "--print-every", "0", "-o",
                   tmp_path / "whole.safetensors")
    assert whole.exit_code == 0, whole.output
    _same_model(tmp_path / "whole.safetensors", tmp_path / "mine.safetensors")


def test_a_dense_network_on_your_photos_resumes_with_the_printed_command_alone(
        photos, tmp_path):
    ck = tmp_path / "ck.safetensors"
    args = ["--images", photos, "--hidden", "4", "--seed", "1", "-n", "30", "--print-every",
            "0", "-o", tmp_path / "net.safetensors", "--checkpoint", ck]
    hint, _ = _interrupted_then_resumed(args, at=10)
    assert hint == f"logicat train --resume --checkpoint {ck}"
    run = load_checkpoint(ck).meta["run"]
    assert run["command"][:4] == ["--hidden", "4", "--iterations", "30"]
    assert run["data"]["file"] == f"{photos}/" and len(run["data"]["sha256"]) == 64
    whole = invoke("train", *args[:-4], "-o", tmp_path / "whole.safetensors")
    assert whole.exit_code == 0, whole.output
    _same_model(tmp_path / "whole.safetensors", tmp_path / "net.safetensors")


@pytest.fixture
def stopped_convnet(photos, tmp_path):
    """A ConvNet run on ``photos`` stopped by Ctrl-C after its first epoch: its checkpoint."""
    pytest.importorskip("torch")
    ck = tmp_path / "ck.safetensors"
    with ctrl_c_at(0):
        stopped = invoke("train", "--images", photos, *CONVNET, "--print-every", "0",
                         "-o", tmp_path / "m.safetensors", "--checkpoint", ck)
    assert stopped.exit_code == 130, stopped.output
    return ck


@pytest.mark.parametrize("args, message", [
    (["--model", "logistic"], "--model logistic: {ck} was written by a run with --model "
     "convnet, and --resume goes on with that run: drop --model (the checkpoint says what the "
     "run trained), or train anew without --resume."),
    (["--seed", "4"], "--seed 4: {ck} was written by a run with --seed 3, and --resume"),
    (["--early-stopping"], "--early-stopping: {ck} was written by a run without "
     "--early-stopping, and --resume"),
    (["--images", "{other}"], "--images {other}: {ck} was written by a run with --images "
     "{photos}, and --resume"),
])
def test_an_option_that_contradicts_the_run_is_refused_naming_it(
        stopped_convnet, photos, tmp_path, args, message):
    other = tmp_path / "other"
    other.mkdir()
    fill = {"ck": stopped_convnet, "photos": photos, "other": other}
    result = invoke("train", "--resume", "--checkpoint", stopped_convnet,
                    *[a.format(**fill) for a in args])
    assert result.exit_code == 2, result.output
    assert re.search(r"^Usage: \S+ train \[OPTIONS\]", result.output)  # not the group's
    error = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1 and error[0].startswith(f"Error: {message.format(**fill)}"), error
    assert not (tmp_path / "m.safetensors").exists()


def test_what_may_differ_is_taken_as_given(stopped_convnet, tmp_path):
    """More epochs, another model file, another device word: the run goes on with them."""
    result = invoke("train", "--resume", "--checkpoint", stopped_convnet, "-n", "2",
                    "--out", tmp_path / "other.safetensors", "--print-every", "1")
    assert result.exit_code == 0, result.output
    assert "--iterations 2" in result.output.splitlines()[0]
    assert "Cost after epoch 1:" in result.output and "Cost after epoch 2:" not in result.output
    assert (tmp_path / "other.safetensors").is_file()
    assert not (tmp_path / "m.safetensors").exists()


def test_photos_changed_since_the_checkpoint_are_refused(stopped_convnet, photos, cat_data):
    photo_folder(photos, cat_data, n=2, start=100)  # two more photos
    result = invoke("train", "--resume", "--checkpoint", stopped_convnet)
    assert result.exit_code == 2, result.output
    assert (f"Error: {photos}/: it has changed since {stopped_convnet} was written (images "
            "were added, removed or edited: its listing's SHA-256 differs); resume on the data "
            "the run trained on, or train anew without --resume.") in result.output


def test_a_streamed_run_resumes_with_the_printed_command_alone(cat_h5, tmp_path, monkeypatch):
    """--train-file (out of core) checkpoints and resumes like any run: the block shuffle's
    generator and Adam's moments are in the checkpoint, the file's SHA-256 in its record."""
    monkeypatch.chdir(tmp_path)
    args = ["--train-file", str(cat_h5), "-n", "4", "--batch-size", "50", "--optimizer",
            "adam", "-a", "0.001", "--print-every", "0", "-o", "m.safetensors"]
    hint, output = _interrupted_then_resumed(args, at=1)
    assert hint == "logicat train --resume --checkpoint m.checkpoint.safetensors"
    assert "2 passes over the data" in output  # this process's: epochs 2 and 3
    whole = invoke("train", *args[:-1], "whole.safetensors")
    assert whole.exit_code == 0, whole.output
    ta, tb = file_tensors(tmp_path / "whole.safetensors"), file_tensors(tmp_path / "m.safetensors")
    assert ta.keys() == tb.keys()
    for name in ta:
        np.testing.assert_array_equal(tb[name], ta[name], err_msg=name)


def test_a_torch_engine_run_resumes_exactly_and_several_processes_are_not_checkpointed(
        tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    args = ["--engine", "torch", "--device", "cpu", "--hidden", "3", "-n", "4", "--batch-size",
            "64", "--optimizer", "adam", "-a", "0.001", "--print-every", "0",
            "-o", "m.safetensors"]
    _interrupted_then_resumed(args, at=1)
    whole = invoke("train", *args[:-1], "whole.safetensors")
    assert whole.exit_code == 0, whole.output
    ta, tb = file_tensors(tmp_path / "whole.safetensors"), file_tensors(tmp_path / "m.safetensors")
    for name in ta:
        np.testing.assert_array_equal(tb[name], ta[name], err_msg=name)
    refused = invoke("train", "--engine", "torch", "--nproc", "2", "--checkpoint", "ck",
                     "-o", "n.safetensors")
    assert refused.exit_code == 2 and "is not checkpointed" in refused.output
    assert not (tmp_path / "ck").exists() and not (tmp_path / "n.safetensors").exists()
