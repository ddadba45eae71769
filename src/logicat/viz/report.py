"""One self-contained HTML page about a trained model: metrics, pictures, hyperparameters, data.

The page has no scripts and loads nothing: every picture is embedded as a ``data:`` URI (line
charts as SVG, images as PNG), so it can be mailed, archived or opened offline. It holds the same
numbers for the same model and data, byte for byte (no timestamps).

    model = logicat.io.files.read_model("model.safetensors")
    html = build_report(model, data, model_path="model.safetensors")
    write_report(model, data, "report.html", model_path="model.safetensors")
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from logicat.core.paths import atomic_output
from logicat.evaluate.metrics import (
    METRICS,
    ClassificationMetrics,
    bootstrap_intervals,
    model_metrics,
)
from logicat.nn.layers import first_weighted, is_linear, logit_description
from logicat.nn.summary import meaningful


def build_report(
    model: Any,
    data: Any,
    *,
    model_path: str | Path | None = None,
    data_sha256: str | None = None,
    title: str | None = None,
    sources: Mapping[str, str] | None = None,
) -> str:
    """The HTML report of a model (``logicat.model.Model``) on the cat data, or on any
    training and test images (your photos: the part ``train --images`` held out).

    Parameters
    ----------
    model : the model, as ``logicat.io.files.read_model`` returns it (its ``metadata`` supplies
        the preprocessing, the class names and the recorded training data)
    data : ``CatData`` (train_x (m, s, s, 3) uint8, train_y (m,), test_x, test_y, classes);
        train_x and train_y None for a report of the test images only
    model_path : the model file, named in the report with its SHA-256
    data_sha256 : SHA-256 of the training file the report was computed on, compared with the
        one recorded in the model
    sources : what the training and the test images are, by split ("train", "test"), said
        under the metrics
    """
    from logicat import __version__
    from logicat.viz import canvas, plots, weights

    meta: Mapping[str, Any] = model.metadata
    spec = model.preprocessing
    names = model.class_names
    splits = {"train": (data.train_x, data.train_y), "test": (data.test_x, data.test_y)}
    X = {split: model.features(x) for split, (x, _) in splits.items() if x is not None}
    scores = {split: model_metrics(model, X[split], splits[split][1]) for split in X}
    sets = {split: (splits[split][1], model.proba(X[split])) for split in X}
    X_test, p_test = X["test"], sets["test"][1]

    curve_note, logit, weights_note = _captions(model.layers, meta.get("hyperparameters") or {})
    recorded = meta.get("hyperparameters") or {}
    hyper = meaningful(recorded, recorded, model.layers)  # as logicat info and the page show
    why_figures, why_note = _misclassified_explained(model, data, p_test)
    # (caption, note, format, the figure, its narrow twin for a phone's width or None)
    figures = [
        ("Learning curve", curve_note, "svg",
         plots.model_learning_curves_figure(model), None),
        ("The sigmoid", f"Each test image at its logit ({logit}); right of z = 0 is "
         f"predicted {names[1]}.", "svg",
         plots.sigmoid_figure(model.decision_function(X_test), data.test_y, names,
                              z_label=logit), None),
        ("The weights", weights_note, "png", weights.model_weights_figure(model),
         weights.model_weights_figure(model, narrow=True)),
        ("Misclassified test images", f"With the model's p({names[1]}).", "png",
         *(plots.misclassified_figure(data.test_x, data.test_y, p_test, names, columns=k)
           for k in (6, 2))),
        ("Why they were misclassified", why_note, "png", *why_figures),
        ("ROC curve", "", "svg", plots.roc_figure(sets), None),
        ("Calibration", "Fraction of positives in each bin of predicted probability.", "svg",
         plots.calibration_figure(sets), None),
    ]

    model_rows = []
    if model_path is not None:
        from logicat.data import file_sha256

        model_rows += [("file", Path(model_path).name), ("SHA-256", file_sha256(model_path))]
    history = model.cost_history
    model_rows += [
        ("model", model.description),
        ("output", model.output.describe()),
        ("classes", f"{names[0]} (0), {names[1]} (1, positive)"),
        ("features", f"{model.n_features} ({_describe_preprocessing(spec)})"),
        ("dtype", str(model.dtype)),
        (f"{plots.training_unit(meta.get('hyperparameters') or {})}s run", str(model.n_iter)),
        ("final cost", f"{history[-1]:.6f}" if len(history) else "-"),
        ("logicat version (trained)", str(meta.get("logicat_version", "-"))),
    ]
    recorded = meta.get("training_data") or {}
    data_rows = [
        ("file", str(recorded.get("file", "-"))),
        ("examples", str(recorded.get("n_samples", "-" if data.train_y is None
                                      else len(data.train_y)))),
        ("SHA-256 (recorded in the model)", str(recorded.get("sha256", "-"))),
    ]
    if data_sha256 is not None:
        same = data_sha256 == recorded.get("sha256")
        data_rows.append((
            "SHA-256 (data used for this report)",
            data_sha256 + ("  (matches)" if same else "  (DIFFERS from the training data)"),
        ))

    heading = title or (f"logicat report: {Path(model_path).name}" if model_path else
                        "logicat report")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{_e(heading)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(heading)}</h1>",
        f'<p class="note">Written by logicat {_e(__version__)}. Accuracy counts p &gt; 0.5 as '
        f"{_e(names[1])}; metrics from scikit-learn; ECE: the expected calibration error over 10 "
        "equal-width bins of p; test 95 %: where the test metric falls in 95 % of 2000 "
        "bootstrap resamples of the test images (what so few images can say).</p>",
        "<h2>Metrics</h2>",
        *(['<p class="note" id="sources">' + "; ".join(
            f"{_e(split)}: {_e(source)}" for split, source in sources.items()) + ".</p>"]
          if sources else []),
        _metrics_table(scores, meta.get("metrics") or {},
                       bootstrap_intervals(data.test_y, p_test, pos_label=model.classes[1])),
        "<h2>Confusion matrices</h2>",
        '<div class="row">',
        *(_confusion_table(split, m, names) for split, m in scores.items()),
        "</div>",
        "<h2>Model</h2>",
        _kv_table(model_rows, "model"),
        "<h2>Hyperparameters</h2>",
        _kv_table([(k, repr(v) if isinstance(v, str) else str(v)) for k, v in hyper.items()],
                  "hyperparameters"),
        "<h2>Training data</h2>",
        _kv_table(data_rows, "training-data"),
        "<h2>Pictures</h2>",
        '<div class="pictures">',
    ]
    for caption, note, fmt, fig, narrow in figures:
        uri = _data_uri(canvas.figure_bytes(fig, fmt), fmt)
        wide = ' class="wide"' if fig.get_figwidth() > 8 else ""
        # a grid of images drawn again with fewer columns for a narrow screen, whose titles
        # would be too small to read in the wide one shrunk to fit
        phone = "" if narrow is None else (
            f'<source media="(max-width: {NARROW_PX}px)" '
            f'srcset="{_data_uri(canvas.figure_bytes(narrow, fmt), fmt)}">')
        parts.append(
            f'<figure{wide}><picture>{phone}<img src="{uri}" alt="{_e(caption)}"></picture>'
            f"<figcaption><b>{_e(caption)}.</b> {_e(note)}</figcaption></figure>"
        )
    parts.append("</div></body></html>\n")
    return "\n".join(parts)


def write_report(model: Any, data: Any, path: str | Path, **kwargs: Any) -> Path:
    """Write ``build_report(model, data, **kwargs)`` to ``path`` atomically."""
    text = build_report(model, data, **kwargs)
    with atomic_output(path, "report") as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


# ----------------------------------------------------------------------------- pieces
#: the widest screen that gets the narrow drawing of a grid of images (a phone's)
NARROW_PX = 600
_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 1.5em 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; } .note { color: #666; } .row { display: flex; flex-wrap: wrap; }
code, .mono { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
.pictures { display: flex; flex-wrap: wrap; gap: 0 2em; align-items: flex-start; }
figure { margin: 1em 0; flex: 0 1 auto; } figure.wide { flex-basis: 100%; }
figure picture { display: block; } figure img { max-width: 100%; height: auto; }
#sources { overflow-wrap: anywhere; }
figcaption { color: #444; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _data_uri(payload: bytes, fmt: str) -> str:
    mime = {"png": "image/png", "svg": "image/svg+xml"}[fmt]
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.4f}"


def _metrics_table(scores: Mapping[str, ClassificationMetrics],
                   recorded: Mapping[str, Any],
                   intervals: Mapping[str, tuple[float, float]]) -> str:
    """One column per split scored ("train", "test"), then the test metrics' 95 % bootstrap
    intervals (``evaluate.metrics.bootstrap_intervals``, as ``logicat evaluate`` prints them)."""
    rows = [
        "<table id=\"metrics\"><tr><th>metric</th>"
        + "".join(f"<th>{split}</th>" for split in scores) + "<th>test 95 %</th></tr>",
        "<tr><td>examples (positive)</td>" + "".join(
            f'<td class="num">{m.n_samples} ({m.n_positive})</td>' for m in scores.values())
        + "<td></td></tr>",
    ]
    for key, name in METRICS:
        low, high = intervals.get(key, (None, None))
        rows.append(
            f'<tr data-metric="{key}"><td>{_e(name)}</td>' + "".join(
                f'<td class="num">{_fmt(getattr(m, key))}</td>' for m in scores.values())
            + (f'<td class="num interval">{low:.2f}–{high:.2f}</td>' if low is not None
               else "<td></td>") + "</tr>"
        )
    if "train_accuracy" in recorded or "test_accuracy" in recorded:
        rows.append("<tr><td>accuracy % recorded at training</td>"
                    + "".join(_recorded_cell(recorded.get(f"{split}_accuracy"))
                              for split in scores)
                    + "<td></td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _recorded_cell(value: Any) -> str:
    """A recorded accuracy to 2 decimals (it fits a phone's width), its every digit in the
    cell's title (what ``logicat train`` printed)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return f'<td class="num">{_e(value if value is not None else "-")}</td>'
    return f'<td class="num" title="{_e(repr(value))}">{value:.2f}</td>'


def _confusion_table(split: str, m: ClassificationMetrics, names: list[str]) -> str:
    cm = m.confusion_matrix
    head = "".join(f"<th>predicted {_e(n)}</th>" for n in names)
    body = "".join(
        f"<tr><th>true {_e(n)}</th>" + "".join(f'<td class="num">{v}</td>' for v in row) + "</tr>"
        for n, row in zip(names, cm, strict=True)
    )
    return (f'<table id="confusion-{split}"><caption>{split}</caption><tr><th></th>{head}</tr>'
            f"{body}</table>")


def _kv_table(rows: list[tuple[str, str]], table_id: str) -> str:
    # "12288 -> 1": a line may break before an arrow, never inside it (as on the web page)
    arrow = '<span class="nowrap">-&gt;</span>'
    body = "".join(f'<tr><th>{_e(k)}</th><td class="mono">{_e(v).replace("-&gt;", arrow)}'
                   "</td></tr>" for k, v in rows)
    return f'<table id="{table_id}">{body}</table>'


def _describe_preprocessing(spec: Mapping[str, Any] | None) -> str:
    if not spec:
        return "no preprocessing recorded"
    size = spec.get("image_size", "?")
    return f"{size}x{size}x{spec.get('channels', 3)} pixels, {spec.get('scaling', '?')}"


def _misclassified_explained(model: Any, data: Any, p_test: np.ndarray
                             ) -> tuple[tuple[Any, Any], str]:
    """The misclassified test images beside their explanation maps (``logicat explain``): the
    figure with 3 pairs a row, and with 1 (a phone's width), and its note."""
    from logicat.evaluate.explain import explain
    from logicat.viz.explanations import explanation_figure
    from logicat.viz.plots import misclassified_indices

    wrong = misclassified_indices(data.test_y, p_test)
    explanation = explain(model, data.test_x[wrong])
    names = model.class_names
    figures = tuple(explanation_figure(
        data.test_x[wrong], explanation, [f"test image #{i}" for i in wrong],
        model.positive_class, model.label_names(explanation.proba), pairs_per_row=k,
        truths=[names[int(y)] for y in data.test_y[wrong]]) for k in (3, 1))
    how = {"contributions": "the contributions w\u00b7x, which add up to z \u2212 b.",
           "gradient_input": "gradient \u00d7 input.",
           "grad_cam": "Grad-CAM of its last feature maps (signed)."}[explanation.method]
    note = ("Each misclassified test image beside the push of each of its pixels on the logit "
            f"z (red: towards {names[1]}; blue: away): {how}")
    return figures, note


def _captions(layers, hyper) -> tuple[str, str, str]:
    """(the learning curve's note, what the logit is, the weights picture's note), read from
    the model's layers and its training's hyperparameters."""
    augmented = hyper.get("flip") or hyper.get("crop") not in (None, "none")
    from logicat.viz.plots import training_unit

    if training_unit(hyper) == "epoch":
        curve = (f"The mean training loss of each epoch's {'augmented ' if augmented else ''}"
                 "mini-batches.")
    else:
        curve = "Cost J at each gradient-descent iteration."
    first = first_weighted(layers)
    if first.type == "conv2d":
        k = first["kernel"]
        weights = f"The first convolution's {k}x{k} filters as RGB images."
    elif is_linear(layers):
        weights = ("w reshaped to the image it multiplies, split into its positive and "
                   "negative parts.")
    else:
        weights = "Each first-layer unit's weights reshaped to the image they multiply."
    return curve, logit_description(layers), weights
