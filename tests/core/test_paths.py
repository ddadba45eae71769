"""What logicat reads and writes: only regular files are read; every write is atomic, through one
writer, with ordinary permissions and an unpredictable temporary name."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from logicat import LogisticRegression
from logicat.core.errors import (
    LogicatError,
    ModelFileError,
    OutputCollisionError,
    OutputPathError,
    UsageError,
)
from logicat.core.paths import (
    atomic_output,
    atomic_write_bytes,
    check_outputs,
    regular_file,
    shown,
)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_output(path) as tmp:
        tmp.write_bytes(b"half of the new")
        raise RuntimeError("disk on fire")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_symlink_planted_at_a_guessable_temporary_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for guess in (".r.html.tmp", ".r.html.tmp.html", "r.html.tmp", ".r.html.part"):
        (tmp_path / guess).symlink_to(victim)
    atomic_write_bytes(tmp_path / "r.html", b"<html>")
    assert victim.read_text() == "keep me"
    assert (tmp_path / "r.html").read_bytes() == b"<html>"


def test_outputs_get_the_permissions_of_any_new_file(tmp_path, cat_features):
    """Model files, checkpoints and ONNX exports: 0666 minus the umask, as the pictures."""
    from logicat.training.callbacks import Checkpoint

    old = os.umask(0o027)
    try:
        X, y = cat_features[:2]
        clf = LogisticRegression(max_iter=4, callbacks=[Checkpoint(tmp_path / "ck", every=2)])
        clf.fit(X, y).save(tmp_path / "m.safetensors")
        atomic_write_bytes(tmp_path / "plain", b"x")
        written = ["ck", "m.safetensors", "plain"]
        if _have("onnx"):
            from logicat.io.onnx import export_onnx

            export_onnx(tmp_path / "m.safetensors", tmp_path / "m.onnx")
            written.append("m.onnx")
        for name in written:
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o640, name
    finally:
        os.umask(old)


def _have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_only_regular_files_are_read(tmp_path):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        regular_file(fifo, "model file", ModelFileError)
    with pytest.raises(LogicatError, match="is a folder"):
        regular_file(tmp_path, "model file")
    with pytest.raises(LogicatError, match="no such model file"):
        regular_file(tmp_path / "none", "model file")
    np.testing.assert_equal(regular_file(__file__).is_file(), True)


def test_an_output_must_be_a_file_path_in_an_existing_folder(tmp_path):
    check_outputs({"--out": tmp_path / "new.safetensors", "--plot": None})  # fine
    cases = {"": "an empty path", tmp_path: "Got a folder instead",
             tmp_path / "nodir" / "log.csv": f"{tmp_path / 'nodir'} does not exist"}
    for path, says in cases.items():
        with pytest.raises(OutputPathError, match="^--log-csv") as err:
            check_outputs({"--log-csv": path})
        assert says in str(err.value) and isinstance(err.value, UsageError)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputPathError, match="is not a folder"):
        check_outputs({"--out": tmp_path / "file" / "m.safetensors"})
    # a command that makes its output folder (explain --out) asks only for a file path
    check_outputs({"the picture": tmp_path / "made" / "a.png"}, folders_made=True)
    with pytest.raises(OutputPathError):
        check_outputs({"the picture": tmp_path}, folders_made=True)


def test_no_output_is_an_input_by_name_symlink_or_hard_link(tmp_path):
    photo = tmp_path / "cat_002.png"
    photo.write_bytes(b"a photo")
    os.symlink(photo, tmp_path / "link.png")
    os.link(photo, tmp_path / "hard.png")
    inputs = [("an image of --images", photo)]
    for out in (photo, tmp_path / "link.png", tmp_path / "hard.png", tmp_path / "." / photo.name):
        with pytest.raises(OutputCollisionError, match=r"^--out .* is an image of --images"):
            check_outputs({"--out": out}, inputs)
    with pytest.raises(OutputCollisionError, match="^--out and --log-csv are the same file"):
        check_outputs({"--out": tmp_path / "a.csv", "--log-csv": tmp_path / "a.csv"})
    check_outputs({"--out": tmp_path / "model.safetensors"}, inputs)
    assert photo.read_bytes() == b"a photo"


def test_a_name_is_shown_on_one_line_whatever_its_bytes():
    assert shown(os.fsdecode(b"r3/cat/junk\xff.jpg")) == "r3/cat/junk\\xff.jpg"
    assert shown("oth\ter/a\nb.jpg") == "oth\\ter/a\\nb.jpg"
    assert shown("chat é/ok.jpg") == "chat é/ok.jpg"
    shown(os.fsdecode(b"\xff\xfe")).encode()  # no surrogate left


def test_the_writer_refuses_a_folder_or_a_missing_folder_as_a_value_error(tmp_path):
    """What the Python API's save() meets (issue 31, item 12): a ValueError, not a bare
    LogicatError, under the same rule as the command line's outputs."""
    with pytest.raises(ValueError, match=f"^{tmp_path}: expected a model file path. Got a "
                       "folder instead.") as err:
        atomic_write_bytes(tmp_path, b"x", "model")
    assert isinstance(err.value, OutputPathError)
    with pytest.raises(ValueError, match="in an existing folder; .* does not exist"):
        atomic_write_bytes(tmp_path / "nodir" / "m.safetensors", b"x", "model")
    assert list(tmp_path.iterdir()) == []
