"""Take docs/img/web.png: the page of ``logicat serve`` after uploading photos, in Chromium.

    python scripts/web_screenshot.py [--model M] [--out docs/img/web.png] [PHOTO ...]

Without --model it trains the reference model (``logicat train``, 2000 iterations); without
photos it uploads ../shared/data/photos/tabby_cat.jpg, cat_in_iran.jpg and rocket.jpg. Uses
Debian's /usr/bin/chromium through Playwright (no browser download). The PNG is reduced to
256 colours when that keeps it under 300 KB.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "data" / "photos"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _web_load():
    spec = importlib.util.spec_from_file_location("web_load", ROOT / "benchmarks" / "web_load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["web_load"] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "web.png")
    parser.add_argument("photos", nargs="*", type=Path,
                        default=[PHOTOS / n for n in ("tabby_cat.jpg", "cat_in_iran.jpg",
                                                      "rocket.jpg")])
    args = parser.parse_args()
    from PIL import Image
    from playwright.sync_api import sync_playwright

    web_load = _web_load()
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or web_load.train_reference(Path(tmp) / "model.safetensors")
        with web_load.serve(model, "--no-access-log") as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.goto(url)
                page.wait_for_function(
                    "() => document.querySelector('#training-sha256').textContent.length == 64")
                page.set_input_files("#files", [str(p) for p in args.photos])
                page.wait_for_function(
                    f"() => document.querySelectorAll('.result[data-probability]').length == "
                    f"{len(args.photos)}")
                page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
                for card in page.locator(".result").all():
                    print(card.locator(".name").inner_text(), "|",
                          card.locator(".numbers").inner_text())
                png = page.screenshot(full_page=True)
            finally:
                browser.close()
    if len(png) > 300_000:
        image = Image.open(io.BytesIO(png)).convert("RGB").quantize(256)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        png = buffer.getvalue()
    args.out.write_bytes(png)
    print(f"wrote {args.out} ({len(png)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
