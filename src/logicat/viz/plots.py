"""Pictures of training and evaluation, built as headless matplotlib Figures on
``logicat.viz.canvas`` (which writes them: PNG, SVG or PDF by suffix, atomically).

    learning_curves_figure({label: cost history})     cost J against iteration, several runs
    model_learning_curves_figure(model)               a Model's own curves (+ validation)
    loss_comparison_figure({loss: {label: costs}})    cross-entropy vs squared error
    sigmoid_figure(z, y)                              sigma(z), with a model's logits on it
    misclassified_figure(images, y, proba)            the wrongly classified images, with p
    roc_figure({label: (y, proba)})                   ROC curves with their AUC
    calibration_figure({label: (y, proba)})           reliability diagram + histogram of p

The weights as images are in ``logicat.viz.weights``. matplotlib is imported inside the
functions, so ``import logicat.viz.plots`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from logicat.core.errors import ShapeError
from logicat.nn.loss import loss_and_dz, sigmoid
from logicat.viz.canvas import COLORS, cycle, new_figure, save_figure


# ------------------------------------------------------------------------- learning curves
def learning_curves_figure(
    curves: Mapping[str, Sequence[float]], title: str = "Learning curve",
    unit: str = "iteration",
) -> Any:
    """Cost J against iteration (or epoch: ``unit``) for one or more runs.

    curves : {label: cost history of shape (n_iter,)}
    """
    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    for (label, costs), color in zip(curves.items(), cycle(COLORS), strict=False):
        ax.plot(np.arange(len(costs)), costs, label=label, color=color)
    ax.set_xlabel(unit)
    ax.set_ylabel("cost J")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend()
    return fig


def plot_learning_curves(
    curves: Mapping[str, Sequence[float]], path: str | Path, title: str = "Learning curve"
) -> Path:
    """Plot cost J against iteration for one or more runs; write the figure to ``path``.

    curves : {label: cost history of shape (n_iter,)}
    """
    return save_figure(learning_curves_figure(curves, title), path)


def training_unit(hyperparameters: Mapping[str, Any]) -> str:
    """What one entry of a cost history is: an "epoch" of mini-batches (``batch_size`` set, as
    for every ConvNet) or one full-batch "iteration"."""
    return "epoch" if hyperparameters.get("batch_size") else "iteration"


def model_learning_curves_figure(model: Any, title: str = "Learning curve") -> Any:
    """A ``logicat.model.Model``'s cost per iteration (or epoch), with its validation cost if it
    has one and, when early stopping chose them, the iteration whose parameters it kept."""
    hyper = model.metadata.get("hyperparameters") or {}
    rate, schedule = hyper.get("learning_rate", "?"), hyper.get("lr_schedule")
    label = f"learning rate = {rate}" + (f" ({schedule} schedule, its peak)"
                                         if schedule not in (None, "constant") else "")
    curves = {label: model.cost_history}
    if model.validation_cost_history is not None:
        curves["validation cost"] = model.validation_cost_history
    unit = training_unit(hyper)
    fig = learning_curves_figure(curves, title, unit)
    best = (model.metadata.get("early_stopping") or {}).get("best_iteration")
    if best is not None:
        ax = fig.axes[0]
        ax.axvline(best, color="grey", linestyle=":", linewidth=1, label=f"kept: {unit} {best}")
        ax.legend()
    return fig


def loss_comparison_figure(
    runs: Mapping[str, Mapping[str, Sequence[float]]], title: str = "Cross-entropy vs squared error"
) -> Any:
    """The two losses side by side: each as a function of z, and the training runs of each.

    runs : {loss name ("cross_entropy", "squared_error"): {run label: cost history (n_iter,)}}

    The first panel draws L(sigma(z), y=1) and |dL/dz| for each loss: cross-entropy keeps pushing
    a confident wrong answer (dL/dz -> -1 as z -> -inf), squared error stops (dL/dz -> 0), and
    squared error of a sigmoid is not convex in w. Then one panel per loss with its cost curves
    (the two costs are on different scales); a run label has the same colour in every panel.
    """

    fig = new_figure(4.2 * (1 + len(runs)), 4.0)
    axes = fig.subplots(1, 1 + len(runs), squeeze=False)[0]
    z = np.linspace(-8, 8, 401)
    ones = np.ones_like(z)
    ax = axes[0]
    for name, color in zip(runs, cycle(("black", "#9467bd")), strict=False):
        losses, dz = loss_and_dz(z, ones, name)
        ax.plot(z, losses, color=color, label=f"{_pretty(name)} L")
        ax.plot(z, np.abs(dz), color=color, linestyle="--", label="|dL/dz|")
    ax.set_xlabel("z = w.x + b   (true label y = 1)")
    ax.set_ylabel("loss of one example")
    ax.set_ylim(0, 4)
    ax.set_title("The losses as functions of z")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")

    colors = {}
    for ax, (name, curves) in zip(axes[1:], runs.items(), strict=True):
        for label, costs in curves.items():
            color = colors.setdefault(label, COLORS[len(colors) % len(COLORS)])
            ax.plot(np.arange(len(costs)), costs, label=label, color=color)
        ax.set_xlabel("iteration")
        ax.set_ylabel("cost J")
        ax.set_title(f"Training with {_pretty(name)}")
        ax.grid(alpha=0.3)
        if curves:
            ax.legend(fontsize="small")
    fig.suptitle(title)
    return fig


# ------------------------------------------------------------------------------- sigmoid
def sigmoid_figure(
    z: ArrayLike | None = None,
    y: ArrayLike | None = None,
    class_names: Sequence[str] = ("negative", "positive"),
    threshold: float = 0.5,
    z_label: str = "z = w.x + b",
) -> Any:
    """The sigmoid sigma(z) = 1 / (1 + e^{-z}), with the decision threshold; ``z_label`` says
    what z is (``logicat.nn.layers.logit_description`` of a model's layers).

    z, y : optional arrays of shape (m,): a model's logits and the 0/1 labels; each example is
    drawn on the curve at (z_i, sigma(z_i)), coloured by its true class.
    """

    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    limit = 8.0
    if z is not None:
        z = np.asarray(z, dtype=np.float64)
        limit = max(limit, float(np.max(np.abs(z))) * 1.05)
    grid = np.linspace(-limit, limit, 801)
    ax.plot(grid, sigmoid(grid), color="black", linewidth=1.5, label="sigma(z) = 1/(1+e^-z)")
    ax.axhline(threshold, color="grey", linestyle=":", linewidth=1)
    ax.axvline(np.log(threshold / (1 - threshold)) if 0 < threshold < 1 else 0, color="grey",
               linestyle=":", linewidth=1)
    if z is not None:
        labels = np.zeros(len(z), dtype=int) if y is None else np.asarray(y).astype(int)
        for value, name, color in ((0, class_names[0], COLORS[0]), (1, class_names[1], COLORS[1])):
            chosen = labels == value
            if chosen.any():
                ax.scatter(z[chosen], sigmoid(z[chosen]), s=14, alpha=0.6, color=color,
                           label=f"{name} ({int(chosen.sum())})", zorder=3)
    ax.set_xlabel(z_label)
    ax.set_ylabel("y_hat = sigma(z)")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("The sigmoid" if z is None else "The sigmoid and the model's logits")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return fig


# ------------------------------------------------------------------------ misclassified
def misclassified_indices(
    y_true: ArrayLike, proba: ArrayLike, threshold: float = 0.5
) -> np.ndarray:
    """Indices of the examples whose decision (proba > threshold) differs from the 0/1 label."""
    y = np.asarray(y_true).astype(int)
    predicted = (np.asarray(proba) > threshold).astype(int)
    return np.flatnonzero(predicted != y)


def misclassified_figure(
    images: ArrayLike,
    y_true: ArrayLike,
    proba: ArrayLike,
    class_names: Sequence[str] = ("non-cat", "cat"),
    columns: int = 6,
    threshold: float = 0.5,
) -> Any:
    """A grid of the misclassified images, each titled with its index, p(positive) and truth.

    images : uint8 array of shape (m, s, s, 3); y_true : 0/1 labels (m,);
    proba : p(class_names[1] | x) of shape (m,).
    Each image's axes carries the SVG id ``misclassified-<index>``; images are embedded at their
    own resolution in SVG and PDF (no resampling).
    """
    images = np.asarray(images)
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y_true).astype(int)
    if not (images.ndim == 4 and len(images) == len(y) == len(proba)):
        raise ShapeError(
            "images must have shape (m, s, s, 3) with y_true and proba of shape (m,). Got "
            f"{images.shape}, {y.shape} and {proba.shape} instead."
        )
    wrong = misclassified_indices(y, proba, threshold)
    columns = max(1, min(columns, len(wrong)))
    rows = max(1, -(-len(wrong) // columns))
    fig = new_figure(1.9 * columns + 0.2, 2.15 * rows + 0.5)
    if len(wrong) == 0:
        fig.text(0.5, 0.5, "No misclassified images.", ha="center", va="center")
        return fig
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, i in zip(axes, wrong, strict=False):
        ax.imshow(images[i], interpolation="none")
        ax.set_gid(f"misclassified-{i}")
        ax.set_title(
            f"#{i}  p({class_names[1]})={proba[i]:.2f}\ntrue: {class_names[y[i]]}", fontsize=9
        )
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(wrong):]:
        ax.set_axis_off()
    fig.suptitle(f"{len(wrong)} misclassified of {len(y)}")
    return fig


# --------------------------------------------------------------------- ROC, calibration
def roc_figure(curves: Mapping[str, tuple[ArrayLike, ArrayLike]]) -> Any:
    """ROC curves: true-positive rate against false-positive rate as the threshold moves.

    curves : {label: (y_true 0/1 of shape (m,), proba of shape (m,))}; the AUC is in the legend.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    fig = new_figure(5.0, 4.6)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="chance (AUC 0.5)")
    for (label, (y, p)), color in zip(curves.items(), cycle(COLORS), strict=False):
        fpr, tpr, _ = roc_curve(y, p)
        auc = roc_auc_score(y, p)
        ax.plot(fpr, tpr, color=color, drawstyle="steps-post", label=f"{label} (AUC {auc:.3f})")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate (recall)")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_title("ROC curve")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return fig


def calibration_figure(curves: Mapping[str, tuple[ArrayLike, ArrayLike]], n_bins: int = 10) -> Any:
    """Reliability diagram: the fraction of positives against the mean predicted probability in
    each of ``n_bins`` equal-width bins (a calibrated model lies on the diagonal), and below it
    the histogram of the predicted probabilities.

    curves : {label: (y_true 0/1 of shape (m,), proba of shape (m,))}
    """
    from sklearn.calibration import calibration_curve

    fig = new_figure(5.0, 5.6)
    top, bottom = fig.subplots(2, 1, height_ratios=(3, 1), sharex=True)
    top.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfectly calibrated")
    edges = np.linspace(0, 1, n_bins + 1)
    for (label, (y, p)), color in zip(curves.items(), cycle(COLORS), strict=False):
        prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, pos_label=1)
        top.plot(prob_pred, prob_true, marker="o", color=color, label=label)
        bottom.hist(np.asarray(p), bins=edges, color=color, alpha=0.5, label=label)
    top.set_ylabel("fraction of positives")
    top.set_xlim(0, 1)
    top.set_ylim(-0.02, 1.02)
    top.set_title("Calibration")
    top.grid(alpha=0.3)
    top.legend(loc="upper left", fontsize="small")
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("count")
    bottom.grid(alpha=0.3)
    return fig



def _pretty(loss: str) -> str:
    return loss.replace("_", " ").replace("cross entropy", "cross-entropy")
