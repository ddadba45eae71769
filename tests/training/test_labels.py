"""``logicat.training.labels``: what the one fit checks of the labels for every estimator
before any training - a class_weight key that is not a label of y, labels of one class, an
early-stopping split without both classes (made by ``data.splits.held_out_rows``, tested on its
own in tests/data/test_splits.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from logicat import ConvNetClassifier, LogisticRegression, MLPClassifier
from logicat.core.errors import DataFileError, ParameterError, ShapeError
from logicat.training.labels import check_labels, class_weighted

#: 20 cats and 40 others, as tiny images (the ConvNet) or their features (the dense models)
Y = np.array(["cat"] * 20 + ["non-cat"] * 40)
IMAGES = np.random.default_rng(0).integers(0, 256, (60, 8, 8, 3), dtype=np.uint8)

ESTIMATORS = {
    "LogisticRegression": lambda **kw: LogisticRegression(max_iter=5, **kw),
    "MLPClassifier": lambda **kw: MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, **kw),
    "ConvNetClassifier": lambda **kw: ConvNetClassifier(widths=(4,), max_iter=1, device="cpu",
                                                        **kw),
}


def _fit(name: str, **params):
    """Fit the estimator ``name``; the number of iterations it started (0 if refused first)."""
    if name == "ConvNetClassifier":
        pytest.importorskip("torch")
    started = []
    X = IMAGES if name == "ConvNetClassifier" else IMAGES.reshape(60, -1) / 255
    ESTIMATORS[name](callbacks=[started.append], **params).fit(X, Y)
    return len(started)


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize(("class_weight", "got"), [
    ({"dog": 2}, "'dog'"),
    ({"cat": 2, 1: 0.5, "fox": 3}, "1, 'fox'"),
])
def test_a_class_weight_key_that_is_not_a_label_of_y_is_refused_before_training(
        name, class_weight, got):
    started = []
    with pytest.raises(ValueError) as err:
        started.append(_fit(name, class_weight=class_weight))
    assert isinstance(err.value, ParameterError) and started == []
    assert str(err.value) == ("The 'class_weight' parameter's keys must be labels of y, one of "
                              f"['cat', 'non-cat']. Got {got} instead.")


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_class_weight_for_one_label_only_still_trains(name):
    assert _fit(name, class_weight={"cat": 2.0}) > 0


@pytest.mark.parametrize("name", ["LogisticRegression", "ConvNetClassifier"])
@pytest.mark.parametrize(("fraction", "message"), [
    (0.001, "validation_fraction=0.001 holds out 0 of the 60 images; early stopping needs at "
            "least one image of each class held out (validation_fraction >= 0.026 here)."),
    (0.02, "validation_fraction=0.02 holds out 1 of the 60 images; early stopping needs at "
           "least one image of each class held out (validation_fraction >= 0.026 here)."),
    (0.99, "validation_fraction=0.99 holds out 60 of the 60 images; early stopping needs at "
           "least one image of each class left for training (validation_fraction <= 0.974 "
           "here)."),
])
def test_early_stopping_refuses_a_split_without_both_classes_in_each_part(name, fraction,
                                                                          message):
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        _fit(name, early_stopping=True, validation_fraction=fraction)
    assert err.value.parameter == "validation_fraction"


@pytest.mark.filterwarnings("ignore:LogisticRegression. max_iter=5 reached")
@pytest.mark.parametrize("fraction", [0.026, 0.974])
def test_the_bounds_it_states_are_the_fractions_that_work(fraction):
    assert _fit("LogisticRegression", early_stopping=True, validation_fraction=fraction) > 0


def test_labels_of_one_class_or_of_the_wrong_shape_are_refused_naming_their_source():
    with pytest.raises(DataFileError, match=r"^photos.h5: the training labels must hold both "
                                            r"classes \(0 and 1\). Got only class 1 \(3 "):
        check_labels(np.ones(3, int), 3, "photos.h5")
    with pytest.raises(ShapeError, match=r"y must have shape \(4,\) for 4 images. Got shape "
                                         r"\(3,\)"):
        check_labels(np.array([0, 1, 1]), 4, "y", "images")
    assert check_labels([0, 1, 1], 3, "y").tolist() == [0, 1, 1]


def test_balanced_class_weights_are_scikit_learns():
    from sklearn.utils.class_weight import compute_sample_weight

    y01 = (Y == "cat").astype(int)
    ours = class_weighted(y01, None, "balanced", ["non-cat", "cat"], np.float64)
    np.testing.assert_allclose(ours, compute_sample_weight("balanced", y01), rtol=1e-15)
    assert class_weighted(y01, None, None, ["non-cat", "cat"], np.float64) is None
    with pytest.raises(ParameterError, match="Got 0 for class 'cat'"):
        class_weighted(y01, np.where(y01 == 1, 0.0, 1.0), None, ["non-cat", "cat"], np.float64)
