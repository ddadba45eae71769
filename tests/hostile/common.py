"""What every hostile-input case asserts, the files the cases start from, the fuzzers' edits.

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
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests import paths
from tests.conftest import invoke

CAT_DATA = paths.CAT_DATA
PHOTOS = paths.SHARED_DATA / "photos"

#: the fuzzers' settings: a fixed handful of examples (``LOGICAT_FUZZ_EXAMPLES`` for more,
#: ``LOGICAT_FUZZ_RANDOM=1`` for new ones on every run; see docs/bad-input.md)
EXAMPLES = int(os.environ.get("LOGICAT_FUZZ_EXAMPLES", "15"))
RANDOM = os.environ.get("LOGICAT_FUZZ_RANDOM") == "1"
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow], database=None)


def byte_edits(size: int):
    """A list of edits of a file of ``size`` bytes: ("cut", n), ("flip", i, bit), ("put", i,
    bytes)."""
    cut = st.tuples(st.just("cut"), st.integers(0, size - 1))
    flip = st.tuples(st.just("flip"), st.integers(0, size - 1), st.integers(0, 7))
    put = st.tuples(st.just("put"), st.integers(0, size - 1), st.binary(min_size=1, max_size=16))
    return st.lists(st.one_of(cut, flip, put), min_size=1, max_size=4)


def apply_edits(data: bytes, edits) -> bytes:
    """``data`` with the edits of ``byte_edits`` made."""
    out = bytearray(data)
    for edit in edits:
        if edit[0] == "cut":
            del out[max(1, edit[1]):]
        elif edit[0] == "flip" and edit[1] < len(out):
            out[edit[1]] ^= 1 << edit[2]
        elif edit[0] == "put":
            out[edit[1]:edit[1] + len(edit[2])] = edit[2]
    return bytes(out)


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
    result = invoke(*args, env=env)
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
    from logicat.model import Model
    from logicat.nn.families import logistic_layers

    n = size * size * 3
    w = np.linspace(-1, 1, n)
    model = Model.of(logistic_layers(), (n,), [[w, np.array([0.25])]],
                     cost_history=np.array([0.69, 0.5, 0.4]), n_iter=3,
                     metadata={"hyperparameters": {"learning_rate": 0.005,
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
