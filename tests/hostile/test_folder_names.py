"""A fuzzer over the names in a folder of photos (issue 31): any class folder name and any file
name - control characters, spaces, other scripts, undecodable bytes, hidden names, names that
look like options or formulas - gives ``logicat pack`` either a file whose class names every
command can show and read back, or one ``Error:`` line, exit 1 or 2, with nothing written and
nothing changed. No traceback, no hang (the command runs in a subprocess with a timeout)."""

from __future__ import annotations

import os

from hypothesis import event, given
from hypothesis import strategies as st

from tests.hostile.common import FUZZ, cli_process, photos, snapshot

#: one name in a folder: any bytes but "/" and NUL, as a file system takes them
NAMES = st.binary(min_size=1, max_size=24).filter(
    lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b".."))
#: ... and the kinds of names users and tools make, so that the examples are not all noise
PICKED = st.sampled_from([b"dogs", b" ", b"a b", b"-n", b"=cmd", b"\xff", b"\t", b"caf\xc3\xa9",
                          b".hidden", b"\xe7\x8c\xab", b"x" * 200, b"other\n"])


@FUZZ
@given(negative=st.one_of(PICKED, NAMES), photo=st.one_of(PICKED, NAMES),
       suffix=st.sampled_from([b".png", b"", b".PNG", b".jpg"]))
def test_any_names_in_a_photo_folder_pack_or_are_refused_in_one_line(tmp_path_factory, negative,
                                                                    photo, suffix):
    from logicat.core.validation import is_class_name
    from logicat.data.catvnoncat import load_h5_dataset

    tmp = tmp_path_factory.mktemp("names")
    root = photos(tmp / "r", n=2, negative=os.fsdecode(b"placeholder"))
    try:  # the drawn class folder name, and one photo renamed to the drawn file name
        os.rename(root / "placeholder", os.path.join(os.fsencode(root), negative))
        other = os.path.join(os.fsencode(root), negative)
        first = sorted(os.listdir(other))[0]
        os.rename(os.path.join(other, first), os.path.join(other, photo + suffix))
    except OSError:  # a name this file system does not take (too long, a clash)
        return
    before = snapshot(tmp)
    out = tmp / "packed.h5"
    status, output = cli_process(["pack", root, out, "-j", "1"], cwd=tmp)
    assert "Traceback" not in output, output
    event(f"exit {status}")  # --hypothesis-show-statistics: both outcomes come up
    if status == 0:
        _, y, classes = load_h5_dataset(out)
        assert all(is_class_name(c) for c in classes) and classes[1] == "cat", classes
        assert set(y.tolist()) <= {0, 1}
    else:
        assert status in (1, 2), output
        assert len([line for line in output.splitlines() if line.startswith("Error")]) == 1
        assert not out.exists() and snapshot(tmp) == before, output
