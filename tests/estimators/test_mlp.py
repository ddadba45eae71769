"""``MLPClassifier``: every training option, files, and the
network with no hidden layer being logistic regression."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from logicat import LogisticRegression, MLPClassifier, ModelFileError, load_model
from logicat.nn.families import dense_layers
from logicat.nn.layers import to_json
from logicat.training.callbacks import Checkpoint


@pytest.fixture(scope="module")
def problem():
    X, y = make_classification(n_samples=160, n_features=10, n_informative=6, random_state=4)
    return StandardScaler().fit_transform(X), y


def test_no_hidden_layer_is_logistic_regression_exactly(cat_features):
    X, y, _, _ = cat_features
    lr = LogisticRegression(max_iter=300).fit(X, y)
    net = MLPClassifier(hidden_layer_sizes=(), init="zeros", learning_rate=0.005,
                        max_iter=300).fit(X, y)
    np.testing.assert_array_equal(net.cost_history_, lr.cost_history_)
    np.testing.assert_array_equal(net.coefs_[0][:, 0], lr.coef_)
    assert net.intercepts_[0][0] == lr.intercept_ and net.n_layers_ == 2


@pytest.mark.parametrize("params", [
    dict(optimizer="adam", learning_rate=0.01, batch_size=16),
    dict(optimizer="nesterov", learning_rate=0.05, alpha=0.3, class_weight="balanced"),
    dict(activation="tanh", learning_rate=0.3, early_stopping=True, n_iter_no_change=5,
         lr_schedule="cosine"),
    dict(activation="sigmoid", init="glorot_uniform", learning_rate=0.5, standardize=True),
], ids=["adam-minibatch", "nesterov-l2-balanced", "tanh-early-stopping-cosine", "sigmoid"])
def test_every_training_option_trains_a_network(problem, params):
    X, y = problem
    clf = MLPClassifier(hidden_layer_sizes=(8, 4), max_iter=150, random_state=0, **params)
    clf.fit(X, y)
    assert clf.solver_ == "primal" and clf.score(X, y) > 0.8
    assert [W.shape for W in clf.coefs_] == [(10, 8), (8, 4), (4, 1)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (4,), (1,)]


def test_a_resumed_network_run_equals_an_uninterrupted_one_bit_for_bit(problem, tmp_path):
    X, y = problem
    params = dict(hidden_layer_sizes=(6,), optimizer="adam", learning_rate=0.02, batch_size=20,
                  max_iter=30, random_state=2)
    whole = MLPClassifier(**params).fit(X, y)
    path = tmp_path / "ck.safetensors"

    class StopAt:
        def __call__(self, state):
            return state.iteration == 16

    MLPClassifier(**params, callbacks=[Checkpoint(path, every=10), StopAt()]).fit(X, y)
    resumed = MLPClassifier(**params).fit(X, y, resume_from=path)
    np.testing.assert_array_equal(resumed.cost_history_, whole.cost_history_)
    for a, b in zip(resumed.coefs_, whole.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MLPClassifier(**{**params, "hidden_layer_sizes": (7,)}).fit(X, y, resume_from=path)


def test_warm_start_continues_and_refuses_other_layers(problem):
    X, y = problem
    two = MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0, warm_start=True,
                        learning_rate=0.1)
    two.fit(X, y).fit(X, y)
    whole = MLPClassifier(hidden_layer_sizes=(5,), max_iter=40, random_state=0,
                          learning_rate=0.1).fit(X, y)
    np.testing.assert_allclose(two.coefs_[0], whole.coefs_[0], rtol=0, atol=1e-13)
    two.set_params(hidden_layer_sizes=(4,))
    with pytest.raises(ValueError, match="hidden_layer_sizes differ"):
        two.fit(X, y)


def test_a_network_round_trips_through_its_model_file(problem, tmp_path):
    X, y = problem
    clf = MLPClassifier(hidden_layer_sizes=(6, 3), activation="tanh", max_iter=40,
                        random_state=0, learning_rate=0.1).fit(X, y)
    path = clf.save(tmp_path / "net.safetensors")
    loaded = load_model(path)
    assert type(loaded) is MLPClassifier
    assert loaded.hidden_layer_sizes == (6, 3) and loaded.activation == "tanh"
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.metadata_["architecture"] == {
        "input_shape": [10], "tta": False, "layers": to_json(dense_layers((6, 3), "tanh"))}
    assert [layer["type"] for layer in loaded.metadata_["architecture"]["layers"]] == [
        "dense", "tanh", "dense", "tanh", "dense", "sigmoid"]
    with pytest.raises(ModelFileError, match=r"a network 10 -> 6 -> 3 -> 1 \(tanh\), not a "
                       r"LogisticRegression \(read it with load_model\)"):
        LogisticRegression.from_model(loaded.to_model())


def _rewrite(path, tensors=None, **changes):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    meta = json.loads(header["__metadata__"]["logicat"])
    meta.update(changes)
    save_file(tensors if tensors is not None else load_file(path), path,
              metadata={"logicat": json.dumps(meta)})


@pytest.mark.parametrize(("change", "message"), [
    (dict(architecture={"input_shape": [10], "layers": to_json(dense_layers((6, 4), "tanh"))}),
     r"tensor 'coefs.1' has shape \(6, 3\), but the metadata says \(6, 4\)"),
    (dict(architecture={"input_shape": [10], "layers": to_json(dense_layers((6,), "tanh"))}),
     "unexpected tensor 'coefs.2'"),
    (dict(architecture={"input_shape": [10], "layers": to_json(dense_layers((6, 3), "tanh"))
                        [:-1]}),
     "the architecture's layers must end with a sigmoid"),
    # files of format 5 and before: the family's entries, and the list they must describe
    (dict(format_version=5, architecture={"hidden_layer_sizes": [6, 4], "activation": "tanh",
                                          "layers": to_json(dense_layers((6, 3), "tanh"))}),
     r"the architecture's layer 2 is \{'type': 'dense', 'units': 3, .*, but its other "
     r"entries describe \{'type': 'dense', 'units': 4, "),
    (dict(format_version=5, architecture={"hidden_layer_sizes": [6, 3], "activation": "softmax",
                                          "layers": to_json(dense_layers((6, 3), "tanh"))}),
     "the architecture's activation must be one of"),
    (dict(format_version=5, architecture={"hidden_layer_sizes": [6, 0], "activation": "tanh",
                                          "layers": to_json(dense_layers((6, 3), "tanh"))}),
     r"hidden_layer_sizes must be a list of at most 64 ints in \[1, 1048576\]"),
])
def test_a_file_whose_layers_do_not_chain_is_refused(problem, tmp_path, change, message):
    X, y = problem
    path = MLPClassifier(hidden_layer_sizes=(6, 3), activation="tanh", max_iter=3,
                         random_state=0).fit(X, y).save(tmp_path / "net.safetensors")
    _rewrite(path, **change)
    with pytest.raises(ModelFileError, match=message) as e:
        load_model(path)
    assert str(e.value).startswith(str(path)) and "\n" not in str(e.value)


def test_bad_architecture_parameters_are_one_line_errors(problem):
    X, y = problem
    for params, message in [
        ({"hidden_layer_sizes": (5, 0)}, "The 'hidden_layer_sizes' parameter must be a tuple of "
         "at most 64 ints in [1, 1048576]. Got (5, 0) instead."),
        ({"hidden_layer_sizes": (2,) * 65}, "The 'hidden_layer_sizes' parameter must be a tuple "
         "of at most 64 ints"),  # what the reader of model files would refuse
        ({"activation": "gelu"}, "The 'activation' parameter must be one of"),
        ({"init": "orthogonal"}, "The 'init' parameter must be one of 'zeros', 'random', "
         "'small_normal'"),
    ]:
        with pytest.raises(ValueError) as e:
            MLPClassifier(**params).fit(X, y)
        assert str(e.value).startswith(message)
