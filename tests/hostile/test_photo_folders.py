"""Folders of photos (issue 31, items 2-4 and 7): one way to list them, for ``train --images``,
``pack`` and ``evaluate --images`` alike.

Entries that cannot be read - a dangling symlink, a symlink loop, a FIFO, a file whose name has
undecodable bytes, a web page named .jpg - are skipped with one line each, the name shown
safely; class folders whose names could not be class names are refused when the folder is
listed, before anything is decoded or written. Commands run in a subprocess (a FIFO opened by
mistake would hang it; the timeout turns that into a failure).
"""

from __future__ import annotations

import os

import pytest

from tests.hostile.common import assert_refused, cli, cli_process, photos, small_model, snapshot

UNDECODABLE = os.fsdecode(b"junk\xff.jpg")
#: entry name -> how to make it; each is skipped with one line naming it (as shown)
ENTRIES = {
    "dangling.jpg": lambda p: os.symlink("gone.jpg", p),
    "loop.jpg": lambda p: os.symlink(p.name, p),
    "fifo.png": os.mkfifo,
    UNDECODABLE: lambda p: p.write_bytes(b"junk"),
    "page.jpg": lambda p: p.write_bytes(b"<!doctype html><html>a cat</html>"),
}
COMMANDS = {
    "train --images": ["train", "--images", "{r}", "-n", 2, "--print-every", 0, "--out",
                       "{t}/m.safetensors"],
    "pack": ["pack", "{r}", "{t}/p.h5", "-j", 1],
    "evaluate --images": ["evaluate", "-m", "{t}/model.safetensors", "--images", "{r}"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_entry_that_cannot_be_read_is_skipped_with_one_line(command, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = photos(tmp_path / "r")
    for name, make in ENTRIES.items():
        make(root / ("cat" if "j" in name else "other") / name)
    small_model(tmp_path, size=64)
    args = [str(a).format(r=root, t=tmp_path) for a in COMMANDS[command]]
    status, output = cli_process(args)
    assert status == 0 and "Traceback" not in output, output
    for name in ENTRIES:
        shown = name.replace("\udcff", "\\xff")
        assert sum(shown in line for line in output.splitlines()) == 1, (name, output)


#: class folder names that could not be class names: refused when the folder is listed
CLASS_FOLDERS = {
    "a tab": ("oth\ter", "'oth\\ter'"),
    "a newline": ("oth\ner", "'oth\\ner'"),
    "only a space": (" ", "' '"),
    "spaces around": (" other ", "' other '"),
    "undecodable bytes": (os.fsdecode(b"oth\xffer"), "'oth\\xffer'"),
}
FOLDER_COMMANDS = {
    "train --images": ["train", "--images", "{r}", "-n", 2, "--print-every", 0, "--out",
                       "{t}/m.safetensors"],
    "train --test-images": ["train", "--images", "{g}", "--test-images", "{r}", "-n", 2,
                            "--print-every", 0, "--out", "{t}/m.safetensors"],
    "pack": ["pack", "{r}", "{t}/p.h5"],
    "evaluate --images": ["evaluate", "-m", "{t}/model.safetensors", "--images", "{r}"],
}


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
@pytest.mark.parametrize("case", CLASS_FOLDERS)
def test_a_class_folder_that_cannot_be_a_class_name_is_refused_up_front(case, command,
                                                                        tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    name, shown = CLASS_FOLDERS[case]
    root = photos(tmp_path / "r", negative=name)
    photos(tmp_path / "good")
    small_model(tmp_path, size=64)
    before = snapshot(tmp_path)
    args = [str(a).format(r=root, g=tmp_path / "good", t=tmp_path)
            for a in FOLDER_COMMANDS[command]]
    status, output = cli(args)
    assert_refused(status, output, code=1, names=f"{root}: expected class folders", before=before,
                   folders=(tmp_path,))
    assert f"Got the folder {shown} instead" in output


@pytest.mark.parametrize("command", ["train --images", "train --test-images",
                                     "evaluate --images"])
@pytest.mark.parametrize("unreadable", ["cat", "other"])
def test_a_class_with_no_readable_image_is_refused_alike(unreadable, command, tmp_path,
                                                         monkeypatch):
    """Issue 31, item 7: not a message about --test-fraction (exit 2) from train."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    work = tmp_path / "work"
    root = photos(work / "r")
    for path in (root / unreadable).iterdir():
        path.write_bytes(b"<!doctype html><html>a cat</html>")
    photos(work / "good")
    small_model(work, size=64)
    before = snapshot(work)
    args = [str(a).format(r=root, g=work / "good", t=work) for a in FOLDER_COMMANDS[command]]
    status, output = cli(args)
    assert_refused(status, output, code=1, before=before, folders=(work,),
                   names=f"{root}: no readable '{unreadable}' images (5 file(s) skipped as "
                   "unreadable)")


@pytest.mark.parametrize("test_folder", ["{r}", "{t}/link"])
def test_train_refuses_its_training_folder_as_its_test_folder(test_folder, tmp_path,
                                                            monkeypatch):
    """Issue 31, also seen: a "test accuracy" that is the training accuracy misleads."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    work = tmp_path / "work"
    root = photos(work / "r")
    (work / "link").symlink_to(root)
    before = snapshot(work)
    test = test_folder.format(r=root, t=work)
    status, output = cli(["train", "--images", root, "--test-images", test, "-n", 2,
                          "--print-every", 0, "--out", work / "m.safetensors"])
    assert_refused(status, output, code=2, before=before, folders=(work,),
                   names=f"--test-images {test}: expected a folder other than --images")
    assert not (tmp_path / "cache").exists()  # refused before anything was decoded
