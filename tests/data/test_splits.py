"""``logicat.data.splits.held_out_rows``: the stratified rows early stopping holds out, and
the fractions it refuses, with the bound it states."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.core.errors import ParameterError
from logicat.data.splits import held_out_rows


def _labels(cats: int, others: int) -> np.ndarray:
    return np.array([1] * cats + [0] * others)


def test_each_class_gives_round_fraction_of_its_rows():
    y = _labels(72, 137)  # the cat data's training set
    rows = held_out_rows(y, 0.1, np.random.default_rng(0))
    assert np.all(np.diff(rows) > 0)
    assert (y[rows] == 1).sum() == 7 and (y[rows] == 0).sum() == 14


@pytest.mark.parametrize(("cats", "others", "fraction", "held", "bound"), [
    (72, 137, 0.001, 0, ">= 0.007"),
    (72, 137, 0.999, 209, "<= 0.993"),
    (2, 2, 0.2, 0, ">= 0.26"),
    (2, 2, 0.8, 4, "<= 0.74"),
    (1000, 1000, 0.0002, 0, ">= 0.00051"),
])
def test_a_fraction_without_both_classes_in_each_part_is_refused_with_the_bound(
        cats, others, fraction, held, bound):
    y = _labels(cats, others)
    with pytest.raises(ParameterError) as err:
        held_out_rows(y, fraction, np.random.default_rng(0))
    where = "held out" if ">" in bound else "left for training"
    assert str(err.value) == (
        f"validation_fraction={fraction} holds out {held} of the {cats + others} images; early "
        f"stopping needs at least one image of each class {where} (validation_fraction {bound} "
        "here).")
    assert err.value.parameter == "validation_fraction"
    works = float(bound.split()[1])  # the bound itself splits both classes
    rows = held_out_rows(y, works, np.random.default_rng(0))
    assert set(y[rows]) == {0, 1} and set(np.delete(y, rows)) == {0, 1}


def test_a_class_of_one_example_cannot_be_split():
    with pytest.raises(ParameterError, match="a class has fewer than 2"):
        held_out_rows(_labels(1, 50), 0.5, np.random.default_rng(0))
