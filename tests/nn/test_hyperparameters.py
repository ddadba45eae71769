"""The hyperparameter tables: which estimator a run's hyperparameters are, by their names."""

from __future__ import annotations

import pytest

from logicat import ConvNetClassifier, LogisticRegression, MLPClassifier, ParameterError
from logicat.nn.hyperparameters import ESTIMATOR_DEFAULTS, estimator_name


@pytest.mark.parametrize("estimator", [LogisticRegression, MLPClassifier, ConvNetClassifier])
def test_each_estimators_hyperparameters_name_it(estimator):
    params = estimator().get_params()
    assert estimator_name(params) == estimator.__name__
    assert set(ESTIMATOR_DEFAULTS[estimator.__name__]) == set(params)


def test_hyperparameters_of_no_estimator_are_refused_saying_what_differs():
    params = {**MLPClassifier().get_params(), "widths": (8,)}
    with pytest.raises(ParameterError, match=r"of MLPClassifier, the closest, they have no "
                                             r"\['widths'\]\.$"):
        estimator_name(params)
    del params["widths"], params["activation"], params["hidden_layer_sizes"]
    with pytest.raises(ParameterError, match=r"LogisticRegression, the closest, they miss "
                                             r"\['n_iter_no_change'\]\.$"):
        estimator_name({k: v for k, v in params.items() if k != "n_iter_no_change"})
