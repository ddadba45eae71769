"""CSV cells that cannot become formulas (issue 31, item 8), in every CSV logicat writes.

A photo named like a formula, given by a relative path as a user types it, is written to
``predict --format csv`` with a leading ' (OWASP), in a row of probabilities or of errors; the
numbers of ``predict`` and of ``train --log-csv`` stay numbers.
"""

from __future__ import annotations

import csv
import io
import shutil

import pytest

from tests.hostile.common import PHOTOS, cli, cli_process, small_model

#: file name -> whether it is a readable photo (a row of probabilities) or not (a row of errors)
FORMULA_NAMES = {
    "=HYPERLINK(1).png": True,
    "=cmd|' -C calc'!A0.jpg": False,
    "+SUM(1).jpg": True,
    "-2+3.jpg": True,
    "@SUM(A1).png": False,
}


@pytest.mark.parametrize("name", FORMULA_NAMES)
def test_predict_csv_quotes_every_cell_that_could_be_a_formula(name, tmp_path):
    model = small_model(tmp_path, size=64)
    if FORMULA_NAMES[name]:
        shutil.copy(PHOTOS / "tabby_cat.jpg", tmp_path / name)
    else:
        (tmp_path / name).write_bytes(b"=1+1")
    status, output = cli_process(["predict", "-m", model.name, "--format", "csv", "--", name],
                                 cwd=tmp_path)
    assert "Traceback" not in output and status == (0 if FORMULA_NAMES[name] else 1), output
    rows = list(csv.reader(io.StringIO(output.split("Error:")[0])))
    assert rows[0] == ["path", "probability", "label", "error"]
    assert rows[1][0] == "'" + name
    if FORMULA_NAMES[name]:
        assert 0 <= float(rows[1][1]) <= 1 and rows[1][3] == ""
    for row in rows:
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in row), row


def test_log_csv_numbers_stay_numbers(tmp_path):
    log = tmp_path / "log.csv"
    status, output = cli(["train", "-n", 3, "--print-every", 0, "--out",
                          tmp_path / "m.safetensors", "--log-csv", log])
    assert status == 0, output
    rows = list(csv.reader(io.StringIO(log.read_text())))
    assert rows[0] == ["iteration", "cost", "learning_rate", "validation_cost"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    assert all(float(r[1]) > 0 and float(r[2]) == 0.005 for r in rows[1:])
