"""``logicat.training.fit``: one fit for every model and every source - features or images, in
memory or streamed from a packed file - each prepared by its model (test_dense_fit.py,
test_image_fit.py), checked and weighed the same way (test_labels.py), run by the one loop."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.data.chunks import H5Images
from logicat.data.features import images_to_features
from logicat.training.fit import DEFAULTS, fit
from logicat.training.hyperparameters import CONVNET_DEFAULTS, MLP_DEFAULTS
from tests.conftest import TINY


@pytest.mark.parametrize(("params", "solver", "shape"), [
    ({**DEFAULTS, "max_iter": 2000}, "gram", (12288,)),  # the lesson's run: the span solver
    ({**DEFAULTS, "max_iter": 3, "batch_size": 64}, "primal", (12288,)),
    ({**MLP_DEFAULTS, "hidden_layer_sizes": (4,), "max_iter": 3, "standardize": True},
     "primal", (12288,)),
])
def test_a_model_of_features_from_memory(cat_features, params, solver, shape):
    X, y, _, _ = cat_features
    done = fit(params, X, y)
    assert (done.solver, done.input_shape, done.result.n_iter) == (
        solver, shape, params["max_iter"])
    model = done.to_model(params)
    assert model.proba(X[:5]).shape == (5,)
    assert (done.feature_mean is not None) == params["standardize"]


def test_one_recipe_trains_the_same_from_memory_and_from_its_file(cat_h5, cat_data):
    """The lesson's features in memory and the same images streamed from their file: one
    pipeline, the same costs (the chunked sums differ in their last digits only)."""
    params = {**DEFAULTS, "max_iter": 30, "solver": "primal"}
    in_memory = fit(params, images_to_features(cat_data.train_x), cat_data.train_y)
    with H5Images(cat_h5) as source:
        streamed = fit(params, source, source.y)
    np.testing.assert_allclose(streamed.result.cost_history, in_memory.result.cost_history,
                               rtol=0, atol=1e-13)


def test_an_image_network_takes_images_or_the_lessons_features(cat_data):
    pytest.importorskip("torch")
    params = {**CONVNET_DEFAULTS, **TINY, "max_iter": 1}
    x, y = cat_data.train_x[:40, ::4, ::4], cat_data.train_y[:40]
    images = fit(params, x, y)
    features = fit(params, x.reshape(40, -1) / 255.0, y)
    assert (images.solver, images.input_shape) == ("minibatch", (3, 16, 16))
    np.testing.assert_allclose(features.result.cost_history, images.result.cost_history,
                               rtol=1e-6)
    with pytest.raises(ValueError, match=r"y must have shape \(40,\) for 40 images"):
        fit(params, x, y[:39])
