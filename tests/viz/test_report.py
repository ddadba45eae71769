"""``logicat report``: one self-contained HTML page of a model's numbers; Chromium renders it."""

from __future__ import annotations

import base64
import html
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from logicat import load_model
from logicat.data import TRAIN_FILE, file_sha256, find_catvnoncat
from logicat.evaluate.metrics import METRICS, bootstrap_intervals, model_metrics
from tests import paths
from tests.conftest import invoke as run  # noqa: E402

ARTIFACTS = paths.ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IMG = re.compile(
    r'<img src="data:(image/png|image/svg\+xml);base64,([A-Za-z0-9+/=]+)" alt="([^"]*)"'
)




@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    model = folder / "cat.safetensors"
    result = run("train", "--iterations", 60, "--print-every", 0, "--out", model)
    assert result.exit_code == 0, result.output
    out = folder / "report.html"
    result = run("report", "--model", model, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output == f"Saved the report to {out}\n"
    return model, out


def test_report_holds_the_models_checksums_hyperparameters_and_metrics(report, cat_features):
    model, out = report
    text = out.read_text(encoding="utf-8")
    clf = load_model(model)
    assert f"<td class=\"mono\">{file_sha256(model)}</td>" in text
    data_sha = file_sha256(find_catvnoncat() / TRAIN_FILE)
    assert clf.metadata_["training_data"]["sha256"] == data_sha
    assert f"{data_sha}  (matches)" in text
    assert "<th>max_iter</th><td class=\"mono\">60</td>" in text
    assert "<th>learning_rate</th><td class=\"mono\">0.005</td>" in text
    for unused in ("momentum", "beta_1", "verbose", "callbacks"):  # nothing to plain GD
        assert f"<th>{unused}</th>" not in text
    assert '12288 <span class="nowrap">-&gt;</span> 1' in text  # no break inside the arrow
    _, _, X_test, y_test = cat_features
    X_train, y_train = cat_features[0], cat_features[1]
    train, test = model_metrics(clf, X_train, y_train), model_metrics(clf, X_test, y_test)
    intervals = bootstrap_intervals(y_test, clf.predict_proba(X_test)[:, 1])
    for key, _ in METRICS:
        row = re.search(rf'<tr data-metric="{key}">.*?</tr>', text).group(0)
        cells = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert cells == [f"{getattr(train, key):.4f}", f"{getattr(test, key):.4f}"]
        within = re.findall(r'<td class="num interval">([^<]*)</td>', row)  # as evaluate says
        assert within == ([f"{intervals[key][0]:.2f}–{intervals[key][1]:.2f}"]
                          if key in intervals else [])
    assert {"balanced_accuracy", "ece", "brier", "log_loss"} <= {key for key, _ in METRICS}
    assert "<td>balanced accuracy</td>" in text and "<td>ECE (10 bins)</td>" in text
    # the model's output step in words: the class mix it decides at
    assert ('<tr><th>output</th><td class="mono">deciding at the training class mix (0.344 '
            "positive)</td></tr>") in text
    assert clf.metadata_["metrics"]["test_accuracy"] == pytest.approx(100 * test.accuracy)
    recorded = clf.metadata_["metrics"]["train_accuracy"]  # to 2 decimals, every digit in title
    assert f'<td class="num" title="{recorded!r}">{recorded:.2f}</td>' in text
    (tn, fp), (fn, tp) = test.confusion_matrix
    assert (f'<tr><th>true cat</th><td class="num">{fn}</td><td class="num">{tp}</td></tr>'
            in text)


def test_the_grids_of_images_have_a_narrow_drawing_for_a_phone(report):
    """The weights, the misclassified images and their explanations: a second PNG, with fewer
    columns, that a screen of at most 600 px shows instead (``<picture>``, no script)."""
    text = report[1].read_text(encoding="utf-8")
    pictures = re.findall(r'<picture><source media="\(max-width: 600px\)" srcset="data:image/'
                          r'png;base64,([A-Za-z0-9+/=]+)"><img src="data:image/png;base64,'
                          r'([A-Za-z0-9+/=]+)" alt="([^"]*)"></picture>', text)
    assert [html.unescape(alt) for _, _, alt in pictures] == [
        "The weights", "Misclassified test images", "Why they were misclassified"]
    for narrow, wide, alt in pictures:
        with Image.open(io.BytesIO(base64.b64decode(narrow))) as a, \
                Image.open(io.BytesIO(base64.b64decode(wide))) as b:
            assert a.width <= 500 < b.width, alt  # shrunk to 358 px, by 0.7 at least


def test_report_is_self_contained_with_every_picture(report):
    text = report[1].read_text(encoding="utf-8")
    assert "<script" not in text
    # nothing is fetched: every src/href is a data: URI
    assert re.findall(r'(?:src|href)="(?!data:)', text) == []
    images = IMG.findall(text)
    assert [html.unescape(alt) for _, _, alt in images] == [
        "Learning curve", "The sigmoid", "The weights", "Misclassified test images",
        "Why they were misclassified", "ROC curve", "Calibration",
    ]
    for mime, payload, _ in images:
        data = base64.b64decode(payload)
        if mime == "image/png":
            with Image.open(io.BytesIO(data)) as image:
                assert image.format == "PNG" and image.width > 300
        else:
            assert ET.fromstring(data).tag == "{http://www.w3.org/2000/svg}svg"


def test_report_refuses_a_missing_folder_and_a_bad_model(report, tmp_path):
    model, _ = report
    result = run("report", "--model", model, "--out", tmp_path / "no" / "r.html")
    assert result.exit_code == 2 and "does not exist" in result.output
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    result = run("report", "--model", bad, "--out", tmp_path / "r.html")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {bad}: this is a text file that starts with 'not "
                                    "a model', not a logicat model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.safetensors"]


@pytest.mark.browser
def test_report_renders_in_headless_chromium(report):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (scripts/install-system-deps.sh installs it)")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(report[1].as_uri(), wait_until="load")
            sizes = page.evaluate(
                "Array.from(document.images)"
                ".map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
            )
            title = page.title()
            metric_rows = page.locator("#metrics tr[data-metric]").count()
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
            page.set_viewport_size({"width": 390, "height": 844})
            narrow = page.evaluate("document.documentElement.scrollWidth")
            page.screenshot(path=str(ARTIFACTS / "report-390.png"), full_page=True)
            # each picture as drawn at this width: its scale, whether the narrow one was chosen
            phone = page.evaluate(
                "Array.from(document.images).map(i => [i.alt, i.currentSrc !== i.src, "
                "i.getBoundingClientRect().width / i.naturalWidth])")
        finally:
            browser.close()
    assert errors == []
    assert narrow <= 390  # no sideways scroll on a phone
    assert title == "logicat report: cat.safetensors"
    assert metric_rows == len(METRICS)
    assert len(sizes) == 7
    assert all(complete and width > 0 and height > 0 for complete, width, height in sizes), sizes
    # on a phone the grids of images are drawn with fewer columns, shrunk to no less than 0.7
    # (9-point titles stay 8 px or more); the wide drawings would be shrunk to a third or half
    grids = {"The weights", "Misclassified test images", "Why they were misclassified"}
    assert {alt for alt, narrow_drawing, _ in phone if narrow_drawing} == grids, phone
    assert all(scale >= 0.7 for alt, _, scale in phone if alt in grids), phone
    with Image.open(ARTIFACTS / "report.png") as shot:
        assert shot.width == 1200 and shot.height > 2000
