"""What every hostile-input case asserts, and the files the cases start from.

A refusal is: the expected exit status, exactly one ``Error: ...`` line naming what was wrong
(the file or the parameter), no traceback, no file left behind in the folder (no temporary
file), and no file that was there changed (SHA-256 before and after).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from logicat.cli import main
from tests import paths

CAT_DATA = paths.CAT_DATA
PHOTOS = paths.SHARED_DATA / "photos"


def snapshot(*folders: Path) -> dict[Path, str]:
    """SHA-256 of every file under ``folders`` (FIFOs and sockets are listed, never opened)."""
    digests = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_symlink() or not path.is_file():
                digests[path] = "not a regular file"
            else:
                digests[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def cli(args, *, env: dict | None = None):
    """Run ``logicat ARGS`` in this process: (exit status, output with stderr)."""
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: a bug, shown as one
    return result.exit_code, result.output


def cli_process(args, *, timeout: float = 60, cwd: Path | None = None):
    """Run ``logicat ARGS`` in a subprocess, for inputs that could hang a process (a FIFO):
    (exit status, output). A hang fails the test after ``timeout`` seconds."""
    env = dict(os.environ, COLUMNS="200")
    done = subprocess.run([sys.executable, "-m", "logicat", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=env)
    return done.returncode, done.stdout + done.stderr


def assert_refused(status: int, output: str, *, code: int, names: str,
                   before: dict[Path, str] | None = None, folders: tuple[Path, ...] = ()):
    """One error line naming ``names``, exit ``code``, no traceback, nothing changed or left."""
    assert "Traceback" not in output, output
    assert status == code, output
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, output
    assert names in errors[0], output
    if before is not None:
        assert snapshot(*folders) == before


def small_model(folder: Path, name: str = "model.safetensors", size: int = 4) -> Path:
    """A logistic-regression model file on size x size images (48 features for 4x4)."""
    from logicat.data.features import preprocessing_spec
    from logicat.io.files import save_model
    from logicat.io.model import Model

    n = size * size * 3
    w = np.linspace(-1, 1, n)
    model = Model(params=[w, np.array([0.25])], cost_history=np.array([0.69, 0.5, 0.4]),
                  n_iter=3, metadata={"hyperparameters": {"learning_rate": 0.005,
                                                          "loss": "cross_entropy"}})
    return save_model(model, folder / name, preprocessing=preprocessing_spec(size),
                      class_names=["non-cat", "cat"], metrics={"train_accuracy": 90.0},
                      training_data={"file": "x.h5", "sha256": "0" * 64, "n_samples": 3})


def photos(root: Path, n: int = 5, negative: str = "other") -> Path:
    """root/cat and root/<negative>: n PNGs each, made from the cat data's first images."""
    import h5py
    from PIL import Image

    with h5py.File(CAT_DATA / "train_catvnoncat.h5") as f:
        x, y = f["train_set_x"][:40], f["train_set_y"][:40]
    for cls, label in (("cat", 1), (negative, 0)):
        (root / cls).mkdir(parents=True)
        for k, i in enumerate([i for i in range(40) if y[i] == label][:n]):
            Image.fromarray(x[i]).save(root / cls / f"{cls}_{k}.png")
    return root
