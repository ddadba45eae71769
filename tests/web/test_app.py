"""The web app through a real server: ``logicat serve`` on 127.0.0.1, started by the tests.

One server per test module (per xdist worker), with small limits so that they are cheap to hit:
2 MiB per request, 4 megapixels per image, 2 requests working at once.
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
import socket
import struct
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from logicat import load_model  # noqa: E402
from logicat.data import file_sha256, load_image, load_images  # noqa: E402
from logicat.data.features import apply_preprocessing  # noqa: E402
from logicat.io.files import read_metadata  # noqa: E402
from tests import paths  # noqa: E402
from tests.conftest import invoke  # noqa: E402

ROOT = paths.ROOT
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MAX_UPLOAD = 2 * 1024 * 1024
MAX_PIXELS = 4_000_000


web_load = paths.benchmark("web_load")  # the server launcher and the load client


@pytest.fixture(scope="module")
def server(model_path, tmp_path_factory):
    """The base URL of ``logicat serve`` running in a subprocess; its log is checked at the end."""
    log_path = tmp_path_factory.mktemp("web-log") / "serve.log"
    with open(log_path, "wb") as log, web_load.serve(
        model_path, "--max-upload-mb", str(MAX_UPLOAD / 2**20), "--max-pixels", str(MAX_PIXELS),
        "--max-concurrency", "2", log=log,
    ) as url:
        yield url
    text = log_path.read_text(errors="replace")
    assert "Traceback" not in text and " 500 " not in text, text[-3000:]


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server, timeout=30) as c:
        yield c


def expected_probabilities(model_path, paths) -> np.ndarray:
    """p(cat) the way ``logicat predict`` computes it: decode from the path, same features."""
    clf = load_model(model_path)
    images, ok, failures = load_images(paths, size=64)
    assert not failures
    return clf.predict_proba(apply_preprocessing(images, clf.metadata_["preprocessing"]))[:, 1]


def upload(client, *items, query=""):
    files = [("files", (name, data, "application/octet-stream")) for name, data in items]
    return client.post("/api/predict" + query, files=files)


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height pixels, with almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# ---------------------------------------------------------------- the API, happy paths
def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_predict_matches_the_cli_computation_for_every_photo(client, model_path, photos_dir):
    paths = sorted(photos_dir.iterdir())
    assert len(paths) >= 5
    response = upload(client, *[(p.name, p.read_bytes()) for p in paths])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["positive_class"] == "cat"
    results = body["results"]
    assert [r["filename"] for r in results] == [p.name for p in paths]
    expected = expected_probabilities(model_path, paths)
    got = np.array([r["probability"] for r in results])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert [r["label"] for r in results] == ["cat" if p > 0.5 else "non-cat" for p in expected]
    assert [r["bytes"] for r in results] == [p.stat().st_size for p in paths]
    assert all("input_image" not in r for r in results)


def test_predict_returns_the_64x64_image_the_model_sees(client, photos_dir):
    photo = photos_dir / "tabby_cat.jpg"
    response = upload(client, (photo.name, photo.read_bytes()), query="?image=true")
    assert response.status_code == 200, response.text
    url = response.json()["results"][0]["input_image"]
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    from PIL import Image

    seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(url[len(prefix):]))))
    np.testing.assert_array_equal(seen, load_image(photo))


def test_predict_explains_each_photo_as_logicat_explain_does(client, model_path, photos_dir):
    from PIL import Image

    from logicat.evaluate.explain import explain
    from logicat.io.files import read_model
    from logicat.viz.explanations import map_colors

    photo = photos_dir / "chelsea_cat.png"
    response = upload(client, (photo.name, photo.read_bytes()), query="?explain=true")
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["explanation_method"] == "contributions" and "input_image" not in result
    prefix = "data:image/png;base64,"
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(
        result["explanation_image"][len(prefix):]))))
    expected = explain(read_model(model_path), load_image(photo)[None]).pixel_map[0]
    np.testing.assert_array_equal(shown, map_colors(expected))
    assert shown.shape == (64, 64, 3)


def test_model_description(client, model_path):
    meta = read_metadata(model_path)
    body = client.get("/api/model").json()
    assert body["metrics"] == meta["metrics"]
    assert 50 < body["metrics"]["train_accuracy"] <= 100
    data_file = Path(__import__("os").environ["LOGICAT_DATA"]) / "train_catvnoncat.h5"
    assert body["training_data"]["sha256"] == file_sha256(data_file)
    assert body["training_data"]["n_samples"] == 209
    assert body["hyperparameters"]["max_iter"] == 200
    assert body["hyperparameters"]["learning_rate"] == 0.005
    assert body["n_iter"] == 200 and body["n_features"] == 12288
    assert body["training_unit"] == "iteration"  # full batch: its batch_size None is left out
    assert not {"callbacks", "batch_size", "tol"} & set(body["hyperparameters"])
    clf = load_model(model_path)
    assert body["final_cost"] == pytest.approx(float(clf.cost_history_[-1]), abs=0, rel=1e-15)
    assert body["limits"]["max_upload_bytes"] == MAX_UPLOAD
    assert body["limits"]["max_pixels"] == MAX_PIXELS
    assert body["limits"]["max_concurrency"] == 2


def test_model_pictures_are_pngs(client):
    """Both pictures requested at once, as the page does (the first draw imports matplotlib)."""
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    paths = ["/api/model/learning-curve.png", "/api/model/weights.png"] * 2
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(client.get, paths))
    for response, size in zip(responses, [(640, 420), (1100, 400)] * 2, strict=True):
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        picture = Image.open(io.BytesIO(response.content))
        assert picture.format == "PNG" and picture.size == size
        # not blank: a plot has many distinct colours
        assert len(np.unique(np.asarray(picture.convert("RGB")).reshape(-1, 3), axis=0)) > 50


def test_the_weights_picture_is_logicat_plot_weights(client, model_path, tmp_path):
    """The page draws the model's weights with the one function ``logicat plot weights`` uses."""
    out = tmp_path / "weights.png"
    result = invoke("plot", "weights", "-m", str(model_path), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert client.get("/api/model/weights.png").content == out.read_bytes()


def test_openapi_documents_the_api(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/predict", "/api/model", "/healthz"} <= set(spec["paths"])
    post = spec["paths"]["/api/predict"]["post"]
    schema = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["files"]["items"]["format"] == "binary"
    assert {"200", "400", "413", "415", "422", "503"} <= set(post["responses"])


def test_page_and_static_files_are_self_contained(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    texts = [page.text]
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        response = client.get(asset)
        assert response.status_code == 200, asset
        texts.append(response.text)
    assert len(texts) == 3  # the page, app.js, style.css
    for text in texts:  # no CDN, no external fonts: the page works offline
        assert not re.search(r"https?://", text)


# ---------------------------------------------------------------- limits and errors
@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("notes.txt", b"these are not pixels\n", 422, "notes.txt: not an image file"),
        ("empty.jpg", b"", 422, "empty.jpg: not an image file"),
        ("bomb.png", png_header(100_000, 100_000), 422, "refused before decoding"),
        # within Pillow's own limit, above ours: refused from the header, never decoded
        # (decoding this file would fail with "cannot decode" instead)
        ("big.png", png_header(2500, 2000), 422, "more than the limit of 4000000"),
    ],
)
def test_bad_images_get_a_clear_json_error(client, name, data, status, message):
    response = upload(client, (name, data))
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == "bad_image"
    assert message in body["detail"]
    assert "\n" not in body["detail"]


def test_truncated_jpeg_is_refused(client, photos_dir):
    data = (photos_dir / "tabby_cat.jpg").read_bytes()
    response = upload(client, ("cut.jpg", data[: len(data) // 2]))
    assert response.status_code == 422
    assert response.json()["detail"].startswith("cut.jpg: cannot decode the image data")


def test_one_bad_file_fails_the_whole_request_and_names_it(client, photos_dir):
    good = (photos_dir / "tabby_cat.jpg").read_bytes()
    response = upload(client, ("a.jpg", good), ("b.txt", b"nope"), ("c.jpg", good))
    assert response.status_code == 422
    assert response.json()["detail"].startswith("b.txt: ")


#: The largest request body: 16 files of MAX_UPLOAD bytes, with 4096 bytes of headers each.
MAX_REQUEST = 16 * (MAX_UPLOAD + 4096)


def test_the_limit_is_per_file_as_the_page_says(client, photos_dir):
    """Sixteen photos of exactly the per-file limit (a JPEG ignores what follows its end) in
    one request: each within its limit, so all are answered."""
    photo = (photos_dir / "tabby_cat.jpg").read_bytes()
    padded = photo + b"\0" * (MAX_UPLOAD - len(photo))
    response = upload(client, *[(f"{i}.jpg", padded) for i in range(16)])
    assert response.status_code == 200, response.text
    assert [r["bytes"] for r in response.json()["results"]] == [MAX_UPLOAD] * 16
    assert client.get("/api/model").json()["limits"]["max_request_bytes"] == MAX_REQUEST


def test_a_file_over_the_limit_gets_413_naming_it(client, photos_dir):
    good = (photos_dir / "tabby_cat.jpg").read_bytes()
    response = upload(client, ("a.jpg", good), ("big.jpg", b"\xff" * (MAX_UPLOAD + 1)))
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"big.jpg: a file must be at most {MAX_UPLOAD} bytes. Got {MAX_UPLOAD + 1} "
                  "bytes instead.",
        "code": "file_too_large",
    }


def test_a_body_over_the_total_gets_413_saying_so(client):
    response = client.post("/api/predict", content=b"x" * (MAX_REQUEST + 1),
                           headers={"content-type": "multipart/form-data; boundary=b0"})
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"The request body must be at most {MAX_REQUEST} bytes (16 files of at most "
                  f"{MAX_UPLOAD} bytes each, with their multipart headers). Got "
                  f"{MAX_REQUEST + 1} bytes instead.",
        "code": "too_large",
    }


def test_too_large_chunked_upload_gets_413_while_streaming(client):
    def body():  # no Content-Length: the server must count
        for _ in range(MAX_REQUEST // 2**20 + 1):
            yield b"x" * 2**20  # 33 MiB in all

    response = client.post("/api/predict", content=body(),
                           headers={"content-type": "multipart/form-data; boundary=b0"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert response.json()["detail"].endswith("Got more instead.")


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"content": b"{}", "headers": {"content-type": "application/json"}}, 415,
         "unsupported_media_type"),
        ({"files": [("other", ("a.jpg", b"x"))]}, 400, "no_files"),
        ({"files": [("files", (f"{i}.jpg", b"x")) for i in range(17)]}, 400, "too_many_files"),
        ({"content": b"--b0\r\ncontent-disposition: form-data; name=\"files\"; filename=\"a\"\r\n"
                     b"\r\nabc", "headers": {"content-type": "multipart/form-data; boundary=b0"}},
         400, "bad_multipart"),
        ({"content": b"garbage", "headers": {"content-type": "multipart/form-data"}}, 400,
         "bad_multipart"),
    ],
    ids=["json", "no-files-field", "17-files", "truncated-multipart", "no-boundary"],
)
def test_malformed_requests_get_4xx_json(client, kwargs, status, code):
    response = client.post("/api/predict", **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_unknown_routes_and_methods_answer_json(client):
    assert client.get("/nope").json() == {"detail": "Not Found", "code": "http_404"}
    response = client.get("/api/predict")
    assert response.status_code == 405 and response.json()["code"] == "http_405"


def test_a_client_that_goes_away_mid_upload_leaves_no_trace(server, client):
    """Half a body, then the connection closes; the module's teardown checks the log."""
    host, port = re.match(r"http://([^:/]+):(\d+)/", server).groups()
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"POST /api/predict HTTP/1.1\r\nHost: web\r\nContent-Length: 100000\r\n"
                    b"Content-Type: multipart/form-data; boundary=b0\r\n\r\n" + b"x" * 1000)
    time.sleep(0.3)
    assert client.get("/healthz").status_code == 200


def test_still_healthy_after_the_errors(client):
    assert client.get("/healthz").status_code == 200


def test_load_smoke_has_no_errors(server, photos_dir, model_path):
    """A tiny version of benchmarks/web_load.py: 50 requests, 8 at a time, every one right."""
    photo = photos_dir / "tabby_cat.jpg"
    files = [("files", (photo.name, photo.read_bytes(), "image/jpeg"))]
    result = web_load.run_load(server + "api/predict", 50, 8, files)
    assert result.errors == []
    assert len(result.latencies) == 50
    [expected] = expected_probabilities(model_path, [photo])
    assert all(abs(p - expected) < 1e-12 for p in result.probabilities)


# ---------------------------------------------------------------- in-process: concurrency
def test_bounded_concurrency_runs_off_the_event_loop_and_sheds_load(model_path, photos_dir):
    """max_concurrency=1, max_queue=1: one request works, one waits, the third gets 503 at once;
    while the worker is stuck in prediction, the event loop still answers /healthz."""
    from logicat.web import create_app

    app = create_app(model_path, max_concurrency=1, max_queue=1)
    predictor = app.state.predictor
    release = threading.Event()
    running, most = [0], [0]
    lock = threading.Lock()
    real_predict = predictor.predict

    def slow_predict(files, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            assert release.wait(10)
            return real_predict(files, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    predictor.predict = slow_predict
    photo = (photos_dir / "tabby_cat.jpg").read_bytes()
    files = [("files", ("tabby_cat.jpg", photo, "image/jpeg"))]

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as c:
            first = asyncio.create_task(c.post("/api/predict", files=files))
            second = asyncio.create_task(c.post("/api/predict", files=files))
            await asyncio.sleep(0.2)
            third = await c.post("/api/predict", files=files)
            health = await c.get("/healthz")  # the loop is free while a worker is busy
            release.set()
            return await first, await second, third, health

    first, second, third, health = asyncio.run(scenario())
    assert health.status_code == 200
    assert third.status_code == 503 and third.json()["code"] == "busy"
    assert third.headers["retry-after"] == "1"
    assert first.status_code == second.status_code == 200
    assert most[0] == 1


def test_uploads_are_never_written_to_disk(model_path, photos_dir, monkeypatch):
    """A 1.5 MB upload (above Starlette's 1 MB spooling threshold) while opening any file,
    temporary files included, fails."""
    import builtins
    import os
    import tempfile

    import starlette.formparsers

    from logicat.web import create_app

    app = create_app(model_path, max_upload_bytes=4 * 2**20)
    from PIL import Image

    noise = np.random.default_rng(0).integers(0, 256, (800, 700, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    assert buffer.tell() > 1.5e6
    request = httpx.Request(  # the multipart body, encoded before the trap is set
        "POST", "http://web/api/predict", files=[("files", ("noise.png", buffer.getvalue()))]
    )
    body, headers = request.read(), dict(request.headers)

    def no_disk(*args, **kwargs):
        raise AssertionError(f"a file was about to be opened: {args[:2]}")

    async def post():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as c:
            with monkeypatch.context() as trap:
                trap.setattr(os, "open", no_disk)  # under every tempfile function
                trap.setattr(builtins, "open", no_disk)
                trap.setattr(tempfile, "SpooledTemporaryFile", no_disk)
                trap.setattr(starlette.formparsers, "SpooledTemporaryFile", no_disk)
                return await c.post("/api/predict", content=body, headers=headers)

    response = asyncio.run(post())
    assert response.status_code == 200, response.text
    assert 0 < response.json()["results"][0]["probability"] < 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"max_upload_bytes": 0}, "The 'max_upload_bytes' parameter must be an int >= 1. Got 0"),
     ({"max_pixels": 1.5}, "The 'max_pixels' parameter must be an int >= 1. Got 1.5"),
     ({"max_concurrency": True}, "The 'max_concurrency' parameter must be an int >= 1 or None. "
                                 "Got True")],
)
def test_create_app_checks_its_parameters(model_path, kwargs, message):
    from logicat.web import create_app

    with pytest.raises(ValueError, match=re.escape(message)):
        create_app(model_path, **kwargs)


def test_create_app_accepts_a_fitted_model_object(model_path, cat_features, photos_dir):
    """A model fitted in this session has no metadata: 12288 = 64 * 64 * 3 gives its input."""
    from logicat import LogisticRegression
    from logicat.web import create_app
    from logicat.web.service import Predictor

    X, y, _, _ = cat_features
    clf = LogisticRegression(max_iter=20).fit(X, y)
    app = create_app(clf)
    assert app.state.predictor.model.tensors["coef"] is clf.coef_
    photo = photos_dir / "tabby_cat.jpg"
    [answer] = app.state.predictor.predict([(photo.name, photo.read_bytes())])
    x = load_image(photo).reshape(1, -1) / 255.0  # (1, 12288), the lesson's features
    expected = clf.predict_proba(x)[0, 1]
    assert answer["probability"] == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="this model was not trained on images"):
        Predictor(LogisticRegression(max_iter=5).fit(X[:, :100], y), max_pixels=10)


# ---------------------------------------------------------------- the page, in Chromium
@pytest.mark.browser
def test_page_shows_the_probability_of_tabby_cat(server, model_path, photos_dir):
    """Pick tabby_cat.jpg, then drop chelsea_cat.png and a text file on the page; read what it
    shows. The screenshot is kept in test-artifacts/web.png."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    tabby, chelsea = photos_dir / "tabby_cat.jpg", photos_dir / "chelsea_cat.png"
    expected = expected_probabilities(model_path, [tabby, chelsea])
    train_accuracy = read_metadata(model_path)["metrics"]["train_accuracy"]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(server)
            page.wait_for_function(
                "() => document.querySelector('#training-sha256').textContent.length == 64"
            )
            shown_accuracy = page.inner_text("#train-accuracy")
            kind, lead = page.inner_text("#model-kind"), page.inner_text("#lead")
            caption = page.inner_text("#weights-caption")
            page.set_input_files("#files", str(tabby))
            page.wait_for_function("() => document.querySelector('.result[data-probability]')")
            card = page.locator(".result").first
            shown = card.locator(".probability").inner_text()
            label = card.locator(".label").inner_text()
            width = card.locator(".fill").evaluate("e => e.style.width")
            seen = card.locator(".seen").evaluate("e => [e.naturalWidth, e.naturalHeight]")
            why = card.locator(".why").evaluate("e => [e.naturalWidth, e.naturalHeight]")
            meta = card.locator(".meta").inner_text()

            dropped = page.evaluate_handle(
                """(files) => {
                    const transfer = new DataTransfer();
                    for (const [name, b64] of files) {
                        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                        transfer.items.add(new File([bytes], name));
                    }
                    return transfer;
                }""",
                [[chelsea.name, base64.b64encode(chelsea.read_bytes()).decode()],
                 ["notes.txt", base64.b64encode(b"not a photo").decode()]],
            )
            page.dispatch_event("#drop", "drop", {"dataTransfer": dropped})
            page.wait_for_function(
                "() => document.querySelectorAll('.result[data-probability], .result.failed')"
                ".length == 3"
            )
            chelsea_shown = page.locator(".result").nth(1).locator(".probability").inner_text()
            failed = page.locator(".result.failed .label").inner_text()
            page.screenshot(path=str(ARTIFACTS / "web.png"), full_page=True)
        finally:
            browser.close()
    assert shown == f"p(cat) = {expected[0]:.4f}"
    assert label == ("cat" if expected[0] > 0.5 else "non-cat")
    assert width == f"{100 * expected[0]:.1f}%"
    assert seen == [64, 64]
    assert why == [64, 64]  # the explanation map beside the photo
    assert "right: why (contributions w\u00b7x): red pixels push p(cat) up" in meta
    assert chelsea_shown == f"p(cat) = {expected[1]:.4f}"
    assert failed == "notes.txt: not an image file Pillow can read"
    assert shown_accuracy == f"{train_accuracy:.2f}".rstrip("0").rstrip(".") + " %"
    assert kind == "logistic regression 12288 -> 1"  # the page says which model it serves
    assert lead.startswith("A logistic-regression classifier: one weight per input value of a "
                           "64\u00d764 RGB image")
    assert "the 12,288 weights folded back into a 64\u00d764\u00d73 image" in caption
    assert (ARTIFACTS / "web.png").stat().st_size > 10_000


def test_a_slow_picture_does_not_hold_up_the_other(model_path, monkeypatch):
    """Each picture is drawn under its own lock: while weights.png is being drawn (a file may
    declare thousands of filters), learning-curve.png answers."""
    import logicat.viz.weights
    from logicat.web import create_app

    release = threading.Event()
    draw = logicat.viz.weights.model_weights_figure

    def slow(model):
        assert release.wait(30)
        return draw(model)

    monkeypatch.setattr(logicat.viz.weights, "model_weights_figure", slow)
    app = create_app(model_path)

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as c:
            weights = asyncio.create_task(c.get("/api/model/weights.png"))
            await asyncio.sleep(0.2)
            curve = await asyncio.wait_for(c.get("/api/model/learning-curve.png"), 20)
            done_first = weights.done()
            release.set()
            return curve, done_first, await weights

    curve, done_first, weights = asyncio.run(scenario())
    assert curve.status_code == 200 and not done_first
    assert weights.status_code == 200 and weights.content.startswith(b"\x89PNG")
