"""The class-name rule (``logicat.core.validation.is_class_name``), shared by class folders and
model files; the constraint tables are tested in tests/hostile/test_sizes_and_options.py and
tests/test_estimator_options.py."""

from __future__ import annotations

import os

import pytest

from logicat.core.validation import MAX_CLASS_NAME, is_class_name


@pytest.mark.parametrize("name", ["cat", "non-cat", "chien de garde", "é", "x" * MAX_CLASS_NAME])
def test_class_names(name):
    assert is_class_name(name)


@pytest.mark.parametrize("name", ["", " ", "oth\ter", "a\nb", " cat", "cat ", "x\r",
                                  os.fsdecode(b"c\xff"), "x" * (MAX_CLASS_NAME + 1), 1, None])
def test_not_class_names(name):
    assert not is_class_name(name)
