"""Uploads in memory (``logicat.web.uploads``), bounded as a whole (issue 31, item 10): the
bodies of all requests in flight hold at most the server's budget (``--max-body-mb``); a
request beyond it gets 503 at once, every way a request ends gives its bytes back, and 32
concurrent maximal uploads to a real ``logicat serve`` are all answered, its peak memory under
the bound docs/web.md states."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from logicat.web.uploads import BodyBudget  # noqa: E402
from tests import paths  # noqa: E402
from tests.hostile.common import small_model  # noqa: E402

PHOTO = paths.SHARED_DATA / "photos" / "tabby_cat.jpg"
MiB = 1 << 20


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A logistic-regression model file on 64x64 images (no training needed)."""
    return small_model(tmp_path_factory.mktemp("uploads"), size=64)


def test_the_budget_reserves_what_it_holds_and_gives_it_back():
    budget = BodyBudget(10)
    assert budget.take(6) and not budget.take(5) and budget.held == 6
    assert budget.take(4) and budget.held == 10
    budget.give(10)
    assert budget.held == 0
    refusal = budget.busy()
    assert refusal.status == 503 and refusal.code == "busy" and "(10 bytes," in refusal.message


def _multipart(*files: tuple[str, bytes]) -> tuple[bytes, dict]:
    """A multipart body of ``files`` in the ``files`` field, and its headers."""
    request = httpx.Request("POST", "http://web/api/predict",
                            files=[("files", (name, data, "image/jpeg")) for name, data in files])
    return request.read(), {"content-type": request.headers["content-type"]}


def test_a_body_beyond_the_budget_gets_503_at_once_and_every_end_gives_its_bytes_back(model):
    """The budget holds one largest body: while one request works, a second - declared or
    chunked - gets 503 with Retry-After; 413, 400 and 422 give their bytes back too."""
    from logicat.web import create_app

    photo = PHOTO.read_bytes()
    app = create_app(model, max_upload_bytes=len(photo), max_files=1,
                     max_body_bytes=len(photo) + 4096, max_concurrency=2)
    budget = app.state.body_budget
    predictor = app.state.predictor
    release, working = threading.Event(), threading.Event()
    real_predict = predictor.predict

    def slow_predict(files, **kwargs):
        working.set()
        assert release.wait(10)
        return real_predict(files, **kwargs)

    body, headers = _multipart(("tabby_cat.jpg", photo))

    async def chunked():
        for piece in (body[:1000], body[1000:]):
            yield piece

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as c:
            predictor.predict = slow_predict
            first = asyncio.create_task(c.post("/api/predict", content=body, headers=headers))
            while not working.is_set():
                await asyncio.sleep(0.01)
            held = budget.held
            declared = await c.post("/api/predict", content=body, headers=headers)
            streamed = await c.post("/api/predict", content=chunked(), headers=headers)
            release.set()
            answered = [await first, declared, streamed]
            predictor.predict = real_predict
            ends = [await c.post("/api/predict", content=content, headers=kind)
                    for content, kind in ((body, headers),
                                          _multipart(("big.jpg", photo + b"x")),
                                          (b"--nonsense", headers),
                                          _multipart(("a.jpg", b"not a jpeg")),
                                          (b"x" * (len(photo) + 5000), headers))]
            return held, answered, ends

    held, (first, declared, streamed), ends = asyncio.run(scenario())
    assert held == len(body)
    assert first.status_code == 200
    for refused in (declared, streamed):
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert refused.json() == {"detail": f"The server holds as many uploaded bytes as it "
                                  f"may ({len(photo) + 4096} bytes, all uploads together); "
                                  "retry in a moment.", "code": "busy"}
    assert [r.status_code for r in ends] == [200, 413, 400, 422, 413]
    assert budget.held == 0


def test_the_budget_must_hold_one_largest_body(model):
    from logicat.web import create_app

    with pytest.raises(ValueError, match=re.escape(
            "The 'max_body_bytes' parameter must hold one largest request body (16 files of at "
            "most 1000 bytes with their multipart headers: 81536 bytes). Got 81535 instead.")):
        create_app(model, max_upload_bytes=1000, max_body_bytes=81535)
    assert create_app(model).state.limits["max_body_bytes"] == 256 * MiB
    big = create_app(model, max_upload_bytes=32 * MiB).state.limits
    assert big["max_body_bytes"] == big["max_request_bytes"] == 16 * (32 * MiB + 4096)


def _memory(pid: int) -> dict[str, int]:
    """The process's resident memory now (VmRSS) and at its peak (VmHWM), in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


def test_concurrent_maximal_uploads_are_all_answered_within_the_stated_memory(model, tmp_path):
    """The issue's load test: 32 concurrent uploads of 16 files of 8 MiB each (4 GiB in all)
    to ``logicat serve`` with its default limits, on 127.0.0.1: every request is answered (200
    or 503 ``busy``), and the server's peak resident memory stays under the bound docs/web.md
    states: its memory once started, plus twice --max-body-mb (256 MiB: the bodies held, then
    the files copied out of them), plus 64 MiB for the rest (the event loop's buffers, the
    decoding of a small photo). Without the budget the bodies alone would ask for 4 GiB."""
    if not Path("/proc/self/status").is_file():
        pytest.skip("reads the server's memory from /proc")
    photo = PHOTO.read_bytes()
    padded = photo + bytes(8 * MiB - len(photo))  # a maximal file: a JPEG, then zeros
    body, headers = _multipart(*[(f"cat{i}.jpg", padded) for i in range(16)])
    assert len(body) <= 16 * (8 * MiB + 4096)
    server = subprocess.Popen(
        [sys.executable, "-m", "logicat", "serve", "-m", str(model), "--port", "0",
         "--no-access-log"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = re.search(r"http://\S+/", server.stdout.readline().decode()).group(0)
        with httpx.Client(base_url=url, timeout=10) as c:  # ready, and every import made
            for _ in range(100):
                try:
                    c.get("healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            small, small_headers = _multipart(("tabby_cat.jpg", photo))
            assert c.post("api/predict", content=small, headers=small_headers).status_code == 200
        started = _memory(server.pid)["VmRSS"]

        async def load():
            limits = httpx.Limits(max_connections=32)
            async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as c:
                return await asyncio.gather(*(c.post("api/predict", content=body,
                                                     headers=headers) for _ in range(32)))

        begun = time.monotonic()
        answers = asyncio.run(load())
        took = time.monotonic() - begun
        peak = _memory(server.pid)["VmHWM"]
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    codes = sorted(a.status_code for a in answers)
    assert set(codes) <= {200, 503} and 200 in codes, codes
    assert all(a.json()["code"] == "busy" for a in answers if a.status_code == 503)
    assert all(len(a.json()["results"]) == 16 for a in answers if a.status_code == 200)
    bound = started + 2 * 256 * MiB + 64 * MiB
    assert peak <= bound, (f"peak {peak / MiB:.0f} MiB, started at {started / MiB:.0f} MiB, "
                           f"bound {bound / MiB:.0f} MiB; {codes.count(200)} answered 200, in "
                           f"{took:.1f} s")
    assert b"Traceback" not in errors, errors.decode()[-2000:]
