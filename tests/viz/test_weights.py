"""The weight pictures: a units or filters picture draws at most ``MAX_PANELS`` panels, and says
how many of how many, however many a model file declares."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.viz.weights import MAX_PANELS, filters_figure, model_weights_figure, units_figure


@pytest.mark.parametrize("n, drawn", [(5, 5), (MAX_PANELS, MAX_PANELS), (4096, MAX_PANELS)])
def test_a_filters_picture_draws_at_most_max_panels(n, drawn):
    W = np.random.default_rng(0).normal(size=(n, 3, 3, 3))
    fig = filters_figure(W)
    panels = [ax for ax in fig.axes if ax.get_gid() and ax.get_gid().startswith("filter-")]
    assert len(panels) == drawn
    title = fig._suptitle.get_text()
    assert f"its {n} filters" in title
    assert (f"the first {MAX_PANELS} of {n} drawn" in title) == (n > MAX_PANELS)


def test_a_units_picture_draws_at_most_max_panels():
    W = np.random.default_rng(0).normal(size=(4 * 4 * 3, 300))
    fig = units_figure(W, image_size=4)
    assert len([ax for ax in fig.axes if (ax.get_gid() or "").startswith("unit-")]) == MAX_PANELS
    assert f"the first {MAX_PANELS} of 300 drawn" in fig._suptitle.get_text()


def test_an_ensembles_picture_says_it_is_the_first_members():
    from logicat.model import Model
    from logicat.nn.families import logistic_layers

    rng = np.random.default_rng(0)
    w, b = rng.normal(size=12), np.zeros(1)
    one = Model.of(logistic_layers(), (12,), [[w, b]],
                   metadata={"preprocessing": {"image_size": 2}})
    three = Model.of(logistic_layers(), (12,), [[w, b]] * 3,
                     metadata={"preprocessing": {"image_size": 2}})
    assert "member" not in model_weights_figure(one).get_suptitle()
    assert "member 1 of 3" in model_weights_figure(three).get_suptitle().lower()


def test_the_narrow_weights_picture_stacks_its_panels():
    """For a phone's width: the three panels one above the other, the same images."""
    from logicat.viz.weights import weights_figure

    coef = np.random.default_rng(0).normal(size=64 * 64 * 3)
    wide, narrow = weights_figure(coef), weights_figure(coef, narrow=True)
    assert narrow.get_figwidth() < 5 < wide.get_figwidth()
    rows = [ax.get_position().y0 for ax in narrow.axes[:3]]
    assert rows == sorted(rows, reverse=True) and len(set(rows)) == 3  # one above the other
    for a, b in zip(wide.axes[:3], narrow.axes[:3], strict=True):
        np.testing.assert_array_equal(a.images[0].get_array(), b.images[0].get_array())
