"""Classes 2 and 3: no command overwrites its own inputs, and every write is atomic.

Collisions, and output paths that cannot be written (no folder, a folder, empty), are refused
before any work (usage error, exit 2) and leave every file as it was.
Writes go through ``logicat.core.paths.atomic_output``: a full disk (fsync failing with ENOSPC, as
delayed allocation reports it) is one error line, leaves the old file intact and no
temporary file; a symlink planted at a guessable temporary name is never followed. A scan of
the source checks that no module writes a file any other way.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

import pytest

from logicat.core import paths as paths_module
from tests import paths
from tests.hostile.common import CAT_DATA, PHOTOS, assert_refused, cli, small_model, snapshot


@pytest.fixture
def work(tmp_path) -> Path:
    """A folder with a copy of the cat data, a model, a checkpoint-named file and photos."""
    shutil.copytree(CAT_DATA, tmp_path / "data")
    model = small_model(tmp_path)
    shutil.copy(model, tmp_path / "run.safetensors")
    for cls, names in (("cat", ["tabby_cat.jpg", "cat_in_iran.jpg"]),
                       ("dog", ["rocket.jpg", "coffee.png"])):
        (tmp_path / "photos" / cls).mkdir(parents=True)
        for name in names:
            shutil.copy(PHOTOS / name, tmp_path / "photos" / cls / name)
    os.symlink(tmp_path / "data" / "train_catvnoncat.h5", tmp_path / "link.h5")
    os.symlink(tmp_path / "photos" / "cat" / "tabby_cat.jpg", tmp_path / "photo-link.jpg")
    shutil.copytree(tmp_path / "photos", tmp_path / "more")
    # what an ensemble's second member would checkpoint to with --checkpoint photos/cat/tabby...
    shutil.copy(PHOTOS / "tabby_cat.jpg", tmp_path / "photos" / "cat" / "tabby.member-2.jpg")
    return tmp_path


TRAIN = ["train", "-n", 2, "--print-every", 0, "--data-dir", "{w}/data"]
COLLISIONS = {
    "train --out on the training data": [*TRAIN, "--out", "{w}/data/train_catvnoncat.h5"],
    "train --out on the test data": [*TRAIN, "--out", "{w}/data/test_catvnoncat.h5"],
    "train --out through a symlink": [*TRAIN, "--out", "{w}/link.h5"],
    "train --train-file F --out F": [*TRAIN, "--train-file", "{w}/data/train_catvnoncat.h5",
                                     "--out", "{w}/data/train_catvnoncat.h5"],
    "train --checkpoint M --out M": [*TRAIN, "--checkpoint", "{w}/run.safetensors",
                                     "--out", "{w}/run.safetensors"],
    "train --resume, --out on the checkpoint": [
        *TRAIN, "--checkpoint", "{w}/run.safetensors", "--resume", "--out",
        "{w}/run.safetensors"],
    "train --out x.png --plot x.png": [*TRAIN, "--out", "{w}/x.png", "--plot", "{w}/x.png"],
    "export M M": ["export", "{w}/model.safetensors", "{w}/model.safetensors"],
    "export -m M M": ["export", "-m", "{w}/model.safetensors", "{w}/model.safetensors"],
    "report -m M --out M": ["report", "-m", "{w}/model.safetensors", "--out",
                            "{w}/model.safetensors"],
    "pack OUT among its images": ["pack", "{w}/photos", "{w}/photos/cat/tabby_cat.jpg"],
    "explain --out the photos' folder": ["explain", "-m", "{w}/model.safetensors",
                                         "{w}/photos/dog", "--out", "{w}/photos/dog"],
    "graph --out on the data": ["graph", "--example", "abc", "--data-dir", "{w}/data",
                                "--out", "{w}/data/train_catvnoncat.h5"],
    # issue 31: every output against every image of --images and --test-images
    "train --images, --out on a photo": [*TRAIN, "--images", "{w}/photos", "--out",
                                         "{w}/photos/cat/tabby_cat.jpg"],
    "train --images, --out through a symlink to a photo": [
        *TRAIN, "--images", "{w}/photos", "--out", "{w}/photo-link.jpg"],
    "train --images, --plot on a photo": [*TRAIN, "--images", "{w}/photos", "--out",
                                          "{w}/m.safetensors", "--plot",
                                          "{w}/photos/dog/coffee.png"],
    "train --images, --checkpoint on a photo": [
        *TRAIN, "--images", "{w}/photos", "--out", "{w}/m.safetensors", "--checkpoint",
        "{w}/photos/dog/rocket.jpg"],
    "train --images, --log-csv on a photo": [
        *TRAIN, "--images", "{w}/photos", "--out", "{w}/m.safetensors", "--log-csv",
        "{w}/photos/cat/cat_in_iran.jpg"],
    "train --test-images, --out on a photo": [
        *TRAIN, "--images", "{w}/photos", "--test-images", "{w}/more", "--out",
        "{w}/more/cat/tabby_cat.jpg"],
    "train --model convnet --images: a member's checkpoint on a photo": [
        *TRAIN, "--images", "{w}/photos", "--model", "convnet", "--param", "n_members=2",
        "--out", "{w}/m.safetensors", "--checkpoint", "{w}/photos/cat/tabby.jpg"],
    "train --out on the --log-csv": [*TRAIN, "--out", "{w}/x.csv", "--log-csv", "{w}/x.csv"],
}


@pytest.mark.parametrize("case", COLLISIONS)
def test_outputs_that_collide_are_refused_before_any_work(case, work):
    args = [str(a).format(w=work) for a in COLLISIONS[case]]
    before = snapshot(work)
    status, output = cli(args)
    assert_refused(status, output, code=2, names=str(work), before=before, folders=(work,))
    assert "Saved" not in output and "accuracy" not in output  # no work was done


#: issue 31, item 6: every output path is checked before any work, like --out always was
OUTPUT_PATHS = {
    "train --log-csv in a missing folder (the issue's run)": (
        ["train", "-n", 3000, "--optimizer", "momentum", "--print-every", 1000, "--data-dir",
         "{w}/data", "--out", "{w}/f.safetensors", "--log-csv", "{w}/nodir/log.csv"],
        "--log-csv"),
    "train --log-csv ''": ([*TRAIN, "--out", "{w}/f.safetensors", "--log-csv", ""],
                           "--log-csv"),
    "train --log-csv a folder": ([*TRAIN, "--out", "{w}/f.safetensors", "--log-csv",
                                  "{w}/photos"], "--log-csv"),
    "train --log-csv under a file": ([*TRAIN, "--out", "{w}/f.safetensors", "--log-csv",
                                      "{w}/run.safetensors/log.csv"], "--log-csv"),
    "train --out in a missing folder": ([*TRAIN, "--out", "{w}/nodir/m.safetensors"], "--out"),
    "train --out ''": ([*TRAIN, "--out", ""], "--out"),
    "train --plot in a missing folder": ([*TRAIN, "--out", "{w}/f.safetensors", "--plot",
                                          "{w}/nodir/c.png"], "--plot"),
    "train --checkpoint in a missing folder": ([*TRAIN, "--out", "{w}/f.safetensors",
                                                "--checkpoint", "{w}/nodir/c.ckpt"],
                                               "--checkpoint"),
    "train --model convnet --log-csv in a missing folder": (
        [*TRAIN, "--model", "convnet", "--param", "widths=4", "--out", "{w}/f.safetensors",
         "--log-csv", "{w}/nodir/log.csv"], "--log-csv"),
    "report --out in a missing folder": (["report", "-m", "{w}/model.safetensors", "--out",
                                          "{w}/nodir/r.html"], "--out"),
    "export OUT in a missing folder": (["export", "{w}/model.safetensors",
                                        "{w}/nodir/m.onnx"], "OUT"),
    "pack OUT ''": (["pack", "{w}/photos", ""], "OUT"),
    "graph --out a folder": (["graph", "--example", "abc", "--out", "{w}/photos"], "--out"),
}


@pytest.mark.parametrize("case", OUTPUT_PATHS)
def test_output_paths_are_checked_before_any_work(case, work):
    args, option = OUTPUT_PATHS[case]
    before = snapshot(work)
    status, output = cli([str(a).format(w=work) for a in args])
    assert_refused(status, output, code=2, names=option, before=before,
                   folders=(work,))
    assert "Cost" not in output and "Saved" not in output and "Training" not in output


# ------------------------------------------------------------------------------ full disk
def _full_disk(monkeypatch):
    """Every fsync fails as a full disk does, and pack's space reservation too."""
    def no_space(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    monkeypatch.setattr(os, "posix_fallocate", no_space)


WRITERS = {
    "train --out": ([*TRAIN, "--out", "{w}/old.bin"], "old.bin"),
    "train --hidden --out": ([*TRAIN, "--hidden", 3, "--out", "{w}/old.bin"], "old.bin"),
    "train --model convnet --out": ([*TRAIN[:2], 1, *TRAIN[3:], "--model", "convnet", "--param",
                                     "widths=4", "--out", "{w}/old.bin"], "old.bin"),
    "train --plot": ([*TRAIN, "--out", "{w}/new.safetensors", "--plot", "{w}/old.png"],
                     "old.png"),
    "export": (["export", "{w}/model.safetensors", "{w}/old.onnx"], "old.onnx"),
    "plot weights": (["plot", "weights", "-m", "{w}/model.safetensors", "--out", "{w}/old.png"],
                     "old.png"),
    "graph --out svg": (["graph", "--example", "abc", "--out", "{w}/old.svg"], "old.svg"),
    "graph --out txt": (["graph", "--example", "abc", "--out", "{w}/old.txt"], "old.txt"),
    "train --checkpoint": ([*TRAIN, "--out", "{w}/new.safetensors", "--checkpoint",
                            "{w}/old.ckpt", "--checkpoint-every", 1], "old.ckpt"),
    "pack": (["pack", "{w}/photos", "{w}/old.h5", "-j", 1], "old.h5"),
}


@pytest.mark.parametrize("case", WRITERS)
def test_a_full_disk_keeps_the_old_file_and_leaves_no_temporary(case, work, monkeypatch):
    args, target = WRITERS[case]
    (work / target).write_bytes(b"the user's old file")
    before = snapshot(work)
    _full_disk(monkeypatch)
    status, output = cli([str(a).format(w=work) for a in args])
    assert_refused(status, output, code=1, names="No space left on device", before=before,
                   folders=(work,))


def test_a_symlink_planted_at_a_temporary_name_is_not_followed(work):
    victim = work / "victim.txt"
    victim.write_text("precious")
    for name in (".r.html.tmp", ".x.png.tmp", "r.html.tmp", ".r.html.tmp.0"):
        os.symlink(victim, work / name)
    with paths_module.atomic_output(work / "r.html") as tmp:
        tmp.write_text("<html></html>")
    assert victim.read_text() == "precious"
    assert (work / "r.html").read_text() == "<html></html>"


def test_no_module_writes_a_file_except_through_the_atomic_writer():
    """Every write of a file in src/ goes through paths.atomic_output (or writes the temporary
    path it yields): opening for writing, write_text/write_bytes, savefig to a path, h5py in
    "w" mode anywhere else is a bypass."""
    writes = re.compile(r"""open\([^)]*["'][wax]b?\+?["']|\.write_(text|bytes)\(|"""
                        r"""savefig\((?!buffer)|h5py\.File\([^)]*["'](w|a|r\+)["']""")
    allowed = {"paths.py"}
    offenders = []
    for path in sorted((paths.ROOT / "src" / "logicat").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if writes.search(line) and path.name not in allowed and "tmp" not in line:
                offenders.append(f"{path.relative_to(paths.ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_explain_gives_every_photo_its_picture_whatever_the_names(work):
    """Issue 31, item 15: the numbering that keeps two a.png apart skips a real a-2."""
    for folder, name in (("one", "a.jpg"), ("one", "a-2.jpg"), ("two", "a.jpg")):
        (work / folder).mkdir(exist_ok=True)
        shutil.copy(PHOTOS / "tabby_cat.jpg", work / folder / name)
    model = small_model(work, "m64.safetensors", size=64)
    status, output = cli(["explain", "-m", model, work / "one" / "a.jpg", work / "one" /
                          "a-2.jpg", work / "two" / "a.jpg", "--out", work / "ex"])
    assert status == 0, output
    assert sorted(p.name for p in (work / "ex").iterdir()) == ["a-2.png", "a-3.png", "a.png"]
