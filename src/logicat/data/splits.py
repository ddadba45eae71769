"""The one stratified split of labelled data: the rows held out of labels in {0, 1}.

Early stopping holds them out to watch (``validation_fraction``), ``logicat train --images``
holds them out as the test set (``test_fraction``): from each class, round(fraction x its
count) of its rows, drawn by a seeded generator; a fraction that leaves a class out of either
part is refused, with the bound that works.
"""

from __future__ import annotations

import math

import numpy as np

from logicat.core.errors import ParameterError


def held_out_rows(y01: np.ndarray, fraction: float, rng: np.random.Generator, *,
                    parameter: str = "validation_fraction", purpose: str = "early stopping"
                    ) -> np.ndarray:
    """The rows (increasing) held out of labels y01 (m,) in {0, 1} - by early stopping, or as
    the test set of ``logicat train --images`` (``parameter``, ``purpose`` name it in
    messages): from each class, round(fraction x its count) of its rows, drawn by ``rng``.

    A fraction that would hold out none of a class, or all of one, is refused (ParameterError
    naming ``parameter``), with the bound that works for these labels.
    """
    m = len(y01)
    members = [np.flatnonzero(y01 == c) for c in (0, 1)]
    counts = [len(rows) for rows in members]
    if min(counts) < 2:
        raise ParameterError(
            f"{purpose}: cannot hold out {parameter}={fraction} of {m} examples with both "
            "classes in each part (a class has fewer than 2).", parameter=parameter)
    held = [round(fraction * n) for n in counts]
    if not _splits_both(fraction, counts):
        lower = min(held) < 1  # else a class has none left for training
        where, bound = ("held out", ">=") if lower else ("left for training", "<=")
        raise ParameterError(
            f"{parameter}={fraction} holds out {sum(held)} of the {m} images; {purpose} "
            f"needs at least one image of each class {where} ({parameter} "
            f"{bound} {_fraction_bound(counts, lower)} here).", parameter=parameter)
    return np.sort(np.concatenate([rng.permutation(rows)[:k]
                                   for rows, k in zip(members, held, strict=True)]))


def _splits_both(fraction: float, counts: list[int]) -> bool:
    """Whether round(fraction x n) of each class's n examples leaves both parts both classes."""
    return all(1 <= round(fraction * n) <= n - 1 for n in counts)


def _fraction_bound(counts: list[int], lower: bool) -> str:
    """The smallest (``lower``) or the largest fraction that splits both classes: round(f x n)
    >= 1 needs f > 0.5 / n, round(f x n) <= n - 1 needs f < 1 - 0.5 / n, for the smallest
    class's count n; the distance from 0 or 1 is written with two significant digits."""
    edge = 0.5 / min(counts)
    step = 10.0 ** (math.floor(math.log10(edge)) - 1)
    d = (math.floor(edge / step) + 1) * step
    while not _splits_both(d if lower else 1 - d, counts):  # float rounding at the edge
        d += step
    return f"{d if lower else 1 - d:.6g}"
