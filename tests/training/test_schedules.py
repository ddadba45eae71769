"""Learning-rate schedules (``training.schedules``) follow their formulas (the loop stepping
them: tests/training/test_loop.py, test_image_fit.py)."""

from __future__ import annotations

import math

import pytest

from logicat.training.schedules import make_schedule


def test_schedules_follow_their_formulas():
    assert make_schedule("constant", 0.1, 0.5, 100)(7) == 0.1
    assert make_schedule("inverse", 0.1, 0.5, 100)(4) == pytest.approx(0.1 / 3)
    assert make_schedule("exponential", 0.1, 0.5, 100)(2) == pytest.approx(0.1 * math.exp(-1))
    cosine = make_schedule("cosine", 0.1, 0.0, 100)
    assert cosine(0) == 0.1 and cosine(50) == pytest.approx(0.05) and cosine(100) < 1e-12
