"""Fixtures of the command-line tests: a model trained on your own photos."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import invoke
from tests.data.test_image_sets import photo_folder

LOGICAT = str(Path(sys.executable).with_name("logicat"))


@pytest.fixture(scope="module")
def own_photos(tmp_path_factory, cat_data):
    """``(photos, model)``: 60 JPEGs of the cat data in photos/cat/ and photos/dogs/, and a
    logistic regression trained on them by ``train --images`` (48 trained on, 12 held out),
    with the folder cache in the module's own folder."""
    root = tmp_path_factory.mktemp("own")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        photos = photo_folder(root / "photos", cat_data, n=60, classes=("cat", "dogs"))
        model = root / "mine.safetensors"
        result = invoke("train", "--images", photos, "-n", 50, "--print-every", 0, "--out",
                        model)
        assert result.exit_code == 0, result.output
        yield photos, model


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A logistic regression trained 60 iterations on the cat data."""
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    result = invoke("train", "--iterations", 60, "--print-every", 0, "--out", path)
    assert result.exit_code == 0, result.output
    return path


def run_logicat(*args, cwd=None):
    """``logicat ARGS...`` through its real entry point, the installed console script."""
    return subprocess.run(
        [LOGICAT, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd
    )


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """The reference run through ``logicat train``: its output and the files it wrote."""
    out = tmp_path_factory.mktemp("train")
    result = run_logicat("train", "--out", out / "model.safetensors", "--plot", out / "curve.png")
    return result, out


def killed_and_resumed(train, tmp_path, env, between=None):
    """``train(*extra)`` -> a ``python -m logicat train`` command: run it whole, then again with
    a checkpoint every epoch, killed by SIGKILL (no chance to save anything more) once epoch 1
    printed and a checkpoint exists, then resumed by the same command with ``--resume``;
    ``between(checkpoint)`` looks at what the kill left. (The whole run's tensors, the resumed
    run's.)"""
    from tests.conftest import file_tensors

    subprocess.run(train("-o", tmp_path / "whole.safetensors"), check=True,
                   capture_output=True, env=env)
    ck = tmp_path / "ck.safetensors"
    command = train("-o", tmp_path / "resumed.safetensors", "--checkpoint", ck,
                    "--checkpoint-every", "1")
    kill_once(command, env, "Cost after epoch 1:", ck)
    if between is not None:
        between(ck)
    subprocess.run([*command, "--resume"], check=True, capture_output=True, env=env)
    return (file_tensors(tmp_path / f"{n}.safetensors") for n in ("whole", "resumed"))


def kill_once(command, env, line: str, written):
    """Run ``command``, SIGKILL it (no chance to save anything more) as soon as it has printed
    a line starting with ``line`` and the file ``written`` exists, and check it died so."""
    import signal

    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True, env=env) as job:
        for printed in job.stdout:
            if printed.startswith(line) and written.exists():
                job.send_signal(signal.SIGKILL)
                break
        job.wait(timeout=120)
    assert job.returncode == -signal.SIGKILL
