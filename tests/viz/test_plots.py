"""logicat.plots: every picture renders headless to PNG and SVG, and shows what it claims to."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from logicat import LogisticRegression
from logicat.viz import canvas, plots, weights

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


@pytest.fixture(scope="module")
def trained(cat_data, cat_features):
    X_train, y_train, X_test, y_test = cat_features
    clf = LogisticRegression(learning_rate=0.005, max_iter=100).fit(X_train, y_train)
    return clf, cat_data, X_train, X_test


def _figures(trained):
    clf, data, X_train, X_test = trained
    p_train, p_test = clf.predict_proba(X_train)[:, 1], clf.predict_proba(X_test)[:, 1]
    sets = {"train": (data.train_y, p_train), "test": (data.test_y, p_test)}
    costs = clf.cost_history_
    return {
        "learning_curves": lambda: plots.learning_curves_figure({"a": costs, "b": costs / 2}),
        "loss_comparison": lambda: plots.loss_comparison_figure(
            {"cross_entropy": {"lr": costs}, "squared_error": {"lr": costs / 4}}
        ),
        "sigmoid": lambda: plots.sigmoid_figure(clf.decision_function(X_test), data.test_y),
        "weights": lambda: weights.weights_figure(clf.coef_),
        "misclassified": lambda: plots.misclassified_figure(data.test_x, data.test_y, p_test),
        "roc": lambda: plots.roc_figure(sets),
        "calibration": lambda: plots.calibration_figure(sets),
    }


PICTURES = ["learning_curves", "loss_comparison", "sigmoid", "weights", "misclassified", "roc",
            "calibration"]


@pytest.mark.parametrize("name", PICTURES)
def test_each_picture_writes_png_and_svg_that_parse(trained, tmp_path, name):
    make = _figures(trained)[name]
    png = canvas.save_figure(make(), tmp_path / f"{name}.png")
    svg = canvas.save_figure(make(), tmp_path / f"{name}.svg")
    with Image.open(png) as image:
        image.verify()
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width > 300 and image.height > 200
    root = ET.parse(svg).getroot()
    assert root.tag == f"{SVG}svg"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{name}.png", f"{name}.svg"])


def test_svg_output_is_reproducible(trained):
    make = _figures(trained)["roc"]
    assert canvas.figure_bytes(make(), "svg") == canvas.figure_bytes(make(), "svg")


def test_learning_curves_plot_the_cost_history(trained, tmp_path):
    clf = trained[0]
    fig = plots.learning_curves_figure({"lr 0.005": clf.cost_history_})
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_ydata(), clf.cost_history_)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(clf.n_iter_))
    assert plots.plot_learning_curves({"a": [3, 2, 1]}, tmp_path / "c.pdf").read_bytes()[:4] == (
        b"%PDF"
    )


def test_weights_image_is_64x64_rgb_and_splits_w_into_its_signs(trained):
    w = trained[0].coef_
    positive, negative = weights.weights_images(w)
    assert positive.shape == negative.shape == (64, 64, 3)
    assert positive.min() >= 0 and negative.min() >= 0
    assert max(positive.max(), negative.max()) == pytest.approx(1.0)
    np.testing.assert_allclose(positive - negative, w.reshape(64, 64, 3) / np.abs(w).max())
    # pixel (row 0, column 1, green) is feature 0*64*3 + 1*3 + 1 of the unrolled image
    assert positive[0, 1, 1] - negative[0, 1, 1] == pytest.approx(w[4] / np.abs(w).max())
    with pytest.raises(ValueError, match=r"coef must have shape \(12288,\).*Got shape \(10,\)"):
        weights.weights_images(np.ones(10))


def test_misclassified_grid_shows_exactly_the_misclassified_test_images(trained):
    clf, data, _, X_test = trained
    expected = np.flatnonzero(clf.predict(X_test) != data.test_y)
    assert 0 < len(expected) < 50
    p = clf.predict_proba(X_test)[:, 1]
    np.testing.assert_array_equal(plots.misclassified_indices(data.test_y, p), expected)

    svg = canvas.figure_bytes(plots.misclassified_figure(data.test_x, data.test_y, p), "svg")
    root = ET.fromstring(svg)
    shown = {}
    for group in root.iter(f"{SVG}g"):
        gid = group.get("id", "")
        if gid.startswith("misclassified-"):
            (image,) = group.iter(f"{SVG}image")
            payload = image.get(f"{XLINK}href").split(",", 1)[1]
            shown[int(gid.split("-")[1])] = np.asarray(
                Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB")
            )
    assert sorted(shown) == expected.tolist()
    for i, pixels in shown.items():  # embedded at full resolution, pixel for pixel
        np.testing.assert_array_equal(pixels, data.test_x[i])
    titles = [ax.get_title() for ax in plots.misclassified_figure(
        data.test_x, data.test_y, p).axes if ax.get_title()]
    assert titles[0] == (
        f"#{expected[0]}  p(cat)={p[expected[0]]:.2f}\n"
        f"true: {('non-cat', 'cat')[data.test_y[expected[0]]]}"
    )


def test_no_misclassified_images_gives_a_message(cat_data):
    y = cat_data.test_y
    fig = plots.misclassified_figure(cat_data.test_x, y, y.astype(float))
    assert [t.get_text() for t in fig.texts] == ["No misclassified images."]


def test_roc_legend_carries_scikit_learns_auc(trained):
    from sklearn.metrics import roc_auc_score

    clf, data, _, X_test = trained
    p = clf.predict_proba(X_test)[:, 1]
    fig = plots.roc_figure({"test": (data.test_y, p)})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[1] == f"test (AUC {roc_auc_score(data.test_y, p):.3f})"


def test_sigmoid_points_lie_on_the_curve(trained):
    clf, data, _, X_test = trained
    z = clf.decision_function(X_test)
    fig = plots.sigmoid_figure(z, data.test_y, ("non-cat", "cat"))
    points = np.vstack([c.get_offsets() for c in fig.axes[0].collections])
    assert len(points) == 50
    np.testing.assert_allclose(points[:, 1], 1 / (1 + np.exp(-points[:, 0])), atol=1e-12)


def test_pixel_weights_undo_standardisation(cat_features):
    X_train, y_train, _, _ = cat_features
    clf = LogisticRegression(max_iter=10, standardize=True).fit(X_train, y_train)
    w = clf.to_model().pixel_weights()
    assert w.shape == (12288,)
    # z = (x - mu)/sigma . coef + b = x . w + constant: the same logit up to one offset
    offset = clf.decision_function(X_train) - X_train @ w
    assert offset.std() < 1e-9 * np.abs(offset).max()
    plain = LogisticRegression(max_iter=10).fit(X_train, y_train)
    np.testing.assert_array_equal(plain.to_model().pixel_weights(), plain.coef_)


def test_the_weights_picture_draws_the_pixel_weights_and_says_so(cat_features):
    X_train, y_train, _, _ = cat_features
    model = LogisticRegression(max_iter=10, standardize=True).fit(X_train, y_train).to_model()
    fig = weights.model_weights_figure(model)
    expected = weights.weights_figure(model.pixel_weights(), 64, model.class_names)
    assert canvas.figure_bytes(fig, "png") == canvas.figure_bytes(expected, "png")
    assert canvas.figure_bytes(fig, "png") != canvas.figure_bytes(
        weights.weights_figure(model.tensors["coef"]), "png")  # not the standardised coef_
    label = fig.axes[-1].get_ylabel()  # the colour bar
    assert "sum of w over R, G, B" in label and "max |w|" in label


def test_a_convnets_learning_curve_counts_epochs_and_names_its_schedule():
    """A ConvNet trained with early stopping: its curve's unit is the epoch, its rate the peak
    of its schedule."""
    pytest.importorskip("torch")
    from logicat import ConvNetClassifier, load_catvnoncat
    from logicat.viz.plots import model_learning_curves_figure

    data = load_catvnoncat()
    clf = ConvNetClassifier(widths=(4,), max_iter=4, batch_size=32, early_stopping=True,
                            n_iter_no_change=2, device="cpu").fit(data.train_x, data.train_y)
    ax = model_learning_curves_figure(clf.to_model()).axes[0]
    kept = clf.metadata_["early_stopping"]["best_iteration"]
    assert [line.get_label() for line in ax.get_lines()] == [
        "learning rate = 0.003 (cosine schedule, its peak)", "validation cost",
        f"kept: epoch {kept}"]
    assert ax.get_xlabel() == "epoch"
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), clf.validation_cost_history_)
