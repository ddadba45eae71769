"""An ensemble, a calibration and a decision prior on the ConvNet: one model that is the mean of
its members, kept whole by model files and ONNX, and a scikit-learn estimator like the others."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("torch")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402

from logicat import ConvNetClassifier, load_model  # noqa: E402
from logicat.data.features import images_to_features, preprocessing_spec  # noqa: E402
from logicat.io.files import read_model  # noqa: E402
from logicat.model import Model  # noqa: E402
from logicat.nn.loss import sigmoid  # noqa: E402
from logicat.nn.output import log_odds  # noqa: E402
from tests.conftest import TINY  # noqa: E402


@pytest.fixture(scope="module")
def small(cat_data):
    """45 training images (15 cats), 20 test images, at 32x32 (each 2x2 block's top left)."""
    rng = np.random.default_rng(1)
    cats, others = np.flatnonzero(cat_data.train_y == 1), np.flatnonzero(cat_data.train_y == 0)
    idx = np.concatenate([rng.choice(cats, 15, replace=False),
                          rng.choice(others, 30, replace=False)])
    return (cat_data.train_x[idx][:, ::2, ::2], cat_data.train_y[idx],
            cat_data.test_x[:20, ::2, ::2])


@pytest.fixture(scope="module")
def ensemble(small):
    X, y, _ = small
    return ConvNetClassifier(**TINY, n_members=3, members="folds", calibration="temperature",
                             random_state=5).fit(X, y)


def test_an_ensemble_is_the_mean_of_its_members(ensemble, small):
    _, _, test = small
    z = ensemble.decision_function(test)
    alone = []
    for params in ensemble.members_:
        member = _alone(ensemble, params)
        alone.append(member.decision_function(images_to_features(test)))
    np.testing.assert_allclose(z, np.mean(alone, axis=0) / ensemble.temperature_, rtol=1e-6)
    assert len({float(a[0]) for a in alone}) == 3  # three different members


def test_the_calibration_comes_from_out_of_fold_logits(ensemble, small):
    X, y, _ = small
    from logicat.nn.output import fit_temperature

    assert ensemble.oof_logits_.shape == (len(y),)
    assert ensemble.temperature_ == pytest.approx(fit_temperature(ensemble.oof_logits_, y))
    assert ensemble.training_prior_ == pytest.approx(15 / 45)


def test_predicting_at_another_prior_is_the_bayes_correction(ensemble, small):
    _, _, test = small
    z = ensemble.decision_function(test)
    shift = log_odds(0.5) - log_odds(15 / 45)
    np.testing.assert_allclose(ensemble.decision_function(test, prior="balanced"), z + shift,
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ensemble.predict_proba(test, prior=0.8)[:, 1],
                               sigmoid(z + log_odds(0.8) - log_odds(15 / 45)), rtol=1e-6)
    balanced = clone(ensemble).set_params(prior="balanced")
    balanced.__dict__.update({k: v for k, v in ensemble.__dict__.items() if k.endswith("_")})
    np.testing.assert_allclose(balanced.decision_function(test), z + shift, rtol=1e-6,
                               atol=1e-6)


def test_one_file_holds_the_whole_ensemble(ensemble, small, tmp_path):
    _, _, test = small
    path = ensemble.save(tmp_path / "ens.safetensors",
                         preprocessing=preprocessing_spec(32))
    model = read_model(path)
    assert len(model.members) == 3 and model.output == ensemble.output_
    assert "an ensemble of 3" in model.description
    np.testing.assert_allclose(model.proba(images_to_features(test)),
                               ensemble.predict_proba(test)[:, 1], rtol=1e-6)
    again = load_model(path)
    np.testing.assert_array_equal(again.decision_function(test),
                                  ensemble.decision_function(test))
    assert again.temperature_ == ensemble.temperature_


def test_the_onnx_graph_is_the_whole_ensemble(ensemble, small):
    ort = pytest.importorskip("onnxruntime")
    from logicat.io.onnx import to_onnx

    _, _, test = small
    for combine, prior in (("logit", "train"), ("proba", "balanced")):
        clf = clone(ensemble).set_params(combine=combine, prior=prior)
        clf.__dict__.update({k: v for k, v in ensemble.__dict__.items() if k.endswith("_")})
        model = clf.to_model()
        model.metadata["preprocessing"] = preprocessing_spec(32)
        session = ort.InferenceSession(to_onnx(model).SerializeToString())
        p, z = session.run(None, {"images": test})
        np.testing.assert_allclose(z, clf.decision_function(test), atol=1e-5)
        np.testing.assert_allclose(p, clf.predict_proba(test)[:, 1], atol=1e-6)


def test_explain_averages_the_members_maps(ensemble, small, tmp_path):
    from logicat.evaluate.explain import explain

    _, _, test = small
    model = ensemble.to_model()
    model.metadata["preprocessing"] = preprocessing_spec(32)
    both = explain(model, test[:2])
    maps = []
    for k in range(3):
        member = _alone(ensemble, ensemble.members_[k], metadata=model.metadata)
        maps.append(explain(member, test[:2]).pixel_map)
    np.testing.assert_allclose(both.pixel_map, np.mean(maps, axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(both.proba, ensemble.predict_proba(test[:2])[:, 1], rtol=1e-6)


def test_an_ensemble_is_a_scikit_learn_estimator(ensemble, small):
    X, y, test = small
    twin = pickle.loads(pickle.dumps(ensemble))
    np.testing.assert_array_equal(twin.decision_function(test), ensemble.decision_function(test))
    fresh = clone(ensemble)
    assert fresh.get_params() == ensemble.get_params() and not hasattr(fresh, "members_")
    scores = cross_val_score(ConvNetClassifier(**TINY, n_members=2, random_state=0), X, y, cv=2)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))


def test_seed_members_are_seeded(small):
    X, y, test = small
    a = ConvNetClassifier(**TINY, n_members=2, combine="proba", random_state=2).fit(X, y)
    b = ConvNetClassifier(**TINY, n_members=2, combine="proba", random_state=2).fit(X, y)
    np.testing.assert_array_equal(a.decision_function(test), b.decision_function(test))
    first = ConvNetClassifier(**TINY, random_state=2).fit(X, y)
    np.testing.assert_array_equal(a.members_[0]["head.1.weight"], first.params_["head.1.weight"])
    np.testing.assert_allclose(a.predict_proba(test)[:, 1], np.mean(
        [sigmoid(_alone(a, p).decision_function(
            images_to_features(test))) for p in a.members_], axis=0), rtol=1e-6)


def _off_the_kinks(model, images, margin=1e-9):
    """Test images moved off every kink of the model: each pixel +-3 at random (seeded). A
    photo's flat region (the same pixels read by two windows) ties a max-pool exactly in exact
    arithmetic; each engine's convolution then rounds the tie its own way on its processor,
    and each routes the window's gradient to a different, equally valid, maximum (issue 26).
    Asserts that no member, on the image or its mirror (TTA), is within ``margin`` of a kink."""
    from logicat.nn.backward import kinks

    rng = np.random.default_rng(26)
    images = np.clip(images + rng.integers(-3, 4, images.shape), 0, 255).astype(np.uint8)
    x = images / 255.0
    for k, member in enumerate(model.members):
        tensors = {name: np.asarray(t, np.float64) for name, t in member.items()}
        for view in (x, x[:, :, ::-1]):
            assert kinks(model.layers, tensors, view, margin) == {}, f"member {k}"
    return images


@pytest.fixture(params=["this processor", "another processor"])
def rounding(request, monkeypatch):
    """torch's convolutions as this processor computes them, or as another one might: each
    float64 result moved by about one rounding (1e-15, relative; seeded), as kernels that sum
    in another order do. Ties that depend on the processor then break the other way."""
    import torch

    if request.param == "another processor":
        conv2d = torch.nn.functional.conv2d
        generator = torch.Generator().manual_seed(26)

        def rounded_otherwise(*args, **kwargs):
            out = conv2d(*args, **kwargs)
            return out * (1 + 1e-15 * torch.randn(out.shape, generator=generator,
                                                  dtype=out.dtype))

        monkeypatch.setattr(torch.nn.functional, "conv2d", rounded_otherwise)
    return request.param


@pytest.mark.parametrize("method", ["grad_cam", "gradient_input"])
def test_numpy_explains_a_convnet_as_torch_does(ensemble, small, method, rounding):
    """The NumPy engine's backward pass of the layers (``nn.backward``) gives torch.autograd's
    maps, TTA and the members' mean included, to 1e-10 in float64, on images away from the
    kinks, where the gradient is unique (``nn.backward.kinks``; at a kink each engine takes
    one valid subgradient, ``tests/nn/test_backward.py`` checks logicat's rule)."""
    from logicat.evaluate.explain import explain

    _, _, test = small
    model = ensemble.to_model()
    model.metadata["preprocessing"] = preprocessing_spec(32)
    assert model.tta
    images = _off_the_kinks(model, test[:3])
    numpy = explain(model, images, method=method, engine="numpy")
    torch_ = explain(model, images, method=method, engine="torch")
    scale = np.abs(torch_.pixel_map).max()
    np.testing.assert_allclose(numpy.pixel_map, torch_.pixel_map, rtol=0, atol=1e-10 * scale)
    np.testing.assert_array_equal(numpy.logit, torch_.logit)
    if method == "gradient_input":
        np.testing.assert_allclose(numpy.values, torch_.values, rtol=0, atol=1e-10 * scale)


def test_upsampling_is_torchs_bilinear():
    import torch

    from logicat.evaluate.explain import upsample_bilinear

    maps = np.random.default_rng(0).normal(size=(2, 4, 4))
    for size in (8, 32, 10):
        expected = torch.nn.functional.interpolate(torch.from_numpy(maps)[:, None], size=(
            size, size), mode="bilinear", align_corners=False)[:, 0].numpy()
        np.testing.assert_allclose(upsample_bilinear(maps, size), expected, rtol=0, atol=1e-14)


def test_info_counts_each_members_parameters_and_says_the_output_step(ensemble, tmp_path):
    from tests.conftest import invoke as run

    path = ensemble.save(tmp_path / "ens.safetensors", preprocessing=preprocessing_spec(32))
    result = run("info", "-m", path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith(", an ensemble of 3")
    assert "layers, in each of its 3 members:" in lines
    assert lines[1] == f"output: mean logit of 3 members; logit / T, T = " \
        f"{ensemble.temperature_:.4g}; deciding at the training class mix (0.333 positive)"


def _alone(clf, tensors, **fields) -> Model:
    """One member of ``clf`` as a model of its own: its layers and ``tensors``, no output step."""
    side = clf.spec_.image_size
    return Model(clf.spec_.layers(), dict(tensors), (3, side, side), tta=clf.spec_.tta, **fields)
