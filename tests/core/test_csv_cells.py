"""CSV cells that cannot become formulas (``logicat.core.csv_cells``): text that a spreadsheet
would run gets a leading ', numbers stay numbers."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import pytest

from logicat.core.csv_cells import cell, csv_text


@pytest.mark.parametrize("text", ["=HYPERLINK(1).png", "=cmd|' -C calc'!A0.jpg", "+1", "-2",
                                  "@SUM(A1)", "\t=1", "\r=1", "-0.5"])
def test_text_that_starts_a_formula_gets_a_quote(text):
    assert cell(text) == "'" + text
    if text[0] not in "\t\r":  # a path's tab or CR is shown escaped, which starts no formula
        assert cell(Path(text)) == "'" + text
    else:
        assert cell(Path(text)) == text.replace("\t", "\\t").replace("\r", "\\r")


@pytest.mark.parametrize("text", ["cat", "non-cat", "photos/=x.png", "'quoted", "", "a=b"])
def test_other_text_is_written_as_it_is(text):
    assert cell(text) == text


@pytest.mark.parametrize("number, written", [(-0.5, "-0.5"), (np.float64(-1e-300), "-1e-300"),
                                             (np.float32(0.25), "0.25"), (-3, -3),
                                             (np.int64(7), 7), (0.1, "0.1")])
def test_numbers_stay_numbers(number, written):
    assert cell(number) == written


def test_none_is_empty_and_undecodable_names_are_shown():
    assert cell(None) == ""
    assert cell(Path(os.fsdecode(b"junk\xff.jpg"))) == "junk\\xff.jpg"


def test_csv_text_reads_back_as_written():
    text = csv_text(["path", "probability"], [[Path("=x,y.png"), -0.5], ["-a", None]])
    assert list(csv.reader(io.StringIO(text))) == [["path", "probability"],
                                                   ["'=x,y.png", "-0.5"], ["'-a", ""]]
