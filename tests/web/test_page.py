"""The page at a phone's width (390 px) and a laptop's (1280 px), in headless Chromium, for a
logistic regression and a ConvNet: after three uploads (one with a long file name) nothing
scrolls sideways, nothing is cut at an edge, no hyperparameter value breaks mid-word or is null,
and the words fit the model (a ConvNet trains in epochs). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("httpx")
pytest.importorskip("fastapi")
sync_api = pytest.importorskip("playwright.sync_api")

from tests import paths  # noqa: E402
from tests.conftest import invoke  # noqa: E402

pytestmark = pytest.mark.browser

ARTIFACTS = paths.ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LONG_NAME = "a_very_long_file_name_of_a_cat_photo_taken_on_holiday_2026.jpg"
WIDTHS = [390, 1280]
TRAIN = {
    "logistic": ["-n", "200"],
    "convnet": ["--model", "convnet", "-n", "1", "--param", "widths=4,8", "--device", "cpu"],
}

# What the page shows that does not fit: every element wider inside than its box (text cut by
# an ellipsis or by overflow: hidden, or sticking out of it) and every element whose box ends
# past the window's right edge; the file input, 1 px and invisible, is left out.
CLIPPED = """() => {
    const edge = document.documentElement.clientWidth;
    const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
        + (e.className && typeof e.className === "string" ? "." + e.className.split(" ")[0] : "")
        + ": " + (e.textContent || "").trim().slice(0, 60);
    return [...document.querySelectorAll("body *")]
        .filter((e) => e.getClientRects().length && getComputedStyle(e).opacity !== "0")
        .filter((e) => (e.clientWidth && e.scrollWidth > e.clientWidth)
                       || e.getBoundingClientRect().right > edge + 0.5)
        .map(name);
}"""

# The hyperparameter values that take more than one line (a value broken mid-word, like ada/mw);
# a list ("4, 8") may wrap after its commas.
WRAPPED_VALUES = """() => [...document.querySelectorAll("#hyperparameters dd:not(.list)")]
    .filter((dd) => { const range = document.createRange(); range.selectNodeContents(dd);
                      return range.getClientRects().length > 1; })
    .map((dd) => dd.previousElementSibling.textContent + " = " + dd.textContent)"""


def chromium_executable(playwright) -> str | None:
    """Playwright's own Chromium if it is installed (None: launch that), else the system's."""
    if Path(playwright.chromium.executable_path).exists():
        return None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        for found in (shutil.which(name), f"/usr/bin/{name}"):
            if found and Path(found).exists():
                return found
    pytest.skip("no Chromium: neither Playwright's (playwright install chromium) nor the "
                "system's (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        executable = chromium_executable(playwright)
        try:
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except sync_api.Error as err:
            pytest.skip(f"Chromium ({executable or 'Playwright'}'s) does not start: "
                        f"{str(err).splitlines()[0]}")
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def uploads(tmp_path_factory, photos_dir) -> list[Path]:
    """Three photos, the first under a long file name."""
    long = tmp_path_factory.mktemp("photos") / LONG_NAME
    shutil.copyfile(photos_dir / "tabby_cat.jpg", long)
    return [long, photos_dir / "rocket.jpg", photos_dir / "chelsea_cat.png"]


@pytest.fixture(scope="module", params=list(TRAIN))
def server(request, tmp_path_factory, cat_data):
    """(kind, base URL) of ``logicat serve`` on a model of that kind, trained for the test."""
    if request.param == "convnet":
        pytest.importorskip("torch")
    path = tmp_path_factory.mktemp("page") / f"{request.param}.safetensors"
    result = invoke("train", *TRAIN[request.param], "--print-every", "0", "--out", path)
    assert result.exit_code == 0, result.output
    with paths.benchmark("web_load").serve(path) as url:
        yield request.param, url


@pytest.mark.parametrize("width", WIDTHS)
def test_the_page_fits_the_screen_and_speaks_of_its_model(browser, server, uploads, width):
    kind, url = server
    page = browser.new_page(viewport={"width": width, "height": 844})
    try:
        page.goto(url)
        page.wait_for_function(
            "() => document.querySelector('#training-sha256').textContent.length == 64"
        )
        page.set_input_files("#files", [str(p) for p in uploads])
        page.wait_for_function(
            "() => document.querySelectorAll('.result[data-probability]').length == 3"
            " && [...document.images].every((i) => !i.getAttribute('src') || i.complete)"
        )
        scroll = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        clipped = page.evaluate(CLIPPED)
        wrapped = page.evaluate(WRAPPED_VALUES)
        names = page.locator(".result .name").all_inner_texts()
        numbers = page.locator(".result .numbers").all_inner_texts()
        hyper = dict(zip(page.locator("#hyperparameters dt").all_inner_texts(),
                         page.locator("#hyperparameters dd").all_inner_texts(), strict=True))
        final_cost = page.inner_text("#final-cost")
        caption = page.inner_text("#curve-caption")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"web-{kind}-{width}.png"), full_page=True)
    finally:
        page.close()
    assert scroll[0] <= scroll[1], f"the page scrolls sideways: {scroll}"
    assert clipped == []
    assert wrapped == []
    assert names == [LONG_NAME, "rocket.jpg", "chelsea_cat.png"]  # whole, not cut
    assert all(n.startswith("p(cat) = ") and n.endswith("cat") for n in numbers), numbers
    assert hyper and not {"callbacks", "verbose"} & set(hyper)
    assert not {k: v for k, v in hyper.items() if v.strip() in ("", "null", "None", "undefined")}
    if kind == "convnet":
        assert hyper["widths"] == "4, 8" and hyper["optimizer"] == "adamw"
        assert final_cost.endswith(" after 1 epoch")  # one epoch, not one iteration
        assert caption.startswith("Learning curve: the cost J after each epoch")
    else:
        assert final_cost.endswith(" after 200 iterations")
        assert "after each gradient-descent step" in caption and "batch_size" not in hyper
