"""Class 8: the web app under malformed, slow and oversized requests, through a real server.

``logicat serve`` runs in a subprocess with small limits (1 MiB per upload, a 2 s body
deadline, one request working at once); its log must end without a traceback or a 500.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
import uuid

import pytest

from tests import paths
from tests.hostile.common import PHOTOS, cli, small_model

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
web_load = paths.benchmark("web_load")
MAX_UPLOAD = 1 << 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web")
    model = small_model(folder, size=64)
    log_path = folder / "serve.log"
    with open(log_path, "wb") as log, web_load.serve(
            model, "--max-upload-mb", "1", "--body-timeout", "2", "--max-concurrency", "1",
            log=log) as url:
        yield url
    text = log_path.read_text(errors="replace")
    assert "Traceback" not in text and " 500 " not in text, text[-3000:]


def _multipart(boundary: str, data: bytes) -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() + data + (
        f"\r\n--{boundary}--\r\n").encode()


def _post(url: str, body: bytes, boundary: str, timeout: float = 30):
    """POST with Python's urllib, which writes the whole body before reading the answer."""
    request = urllib.request.Request(url + "api/predict", data=body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as err:
        err.close()
        return err.code


def test_a_boundary_over_256_characters_is_400(server):
    photo = (PHOTOS / "tabby_cat.jpg").read_bytes()
    assert _post(server, _multipart("b" * 300, photo), "b" * 300) == 400
    assert _post(server, _multipart("b" * 200, photo), "b" * 200) == 200


@pytest.mark.parametrize("megabytes", [4, 64])  # a file over 1 MiB; a body over 16 of them
def test_an_oversized_body_gets_its_413_even_from_urllib(server, megabytes):
    boundary = uuid.uuid4().hex
    assert _post(server, _multipart(boundary, bytes(megabytes << 20)), boundary) == 413


def _slow_client(url: str) -> socket.socket:
    """A client that sends headers and a few bytes of a 1000-byte body, then nothing."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                 b"Content-Type: multipart/form-data; boundary=b\r\n\r\n--b\r\n")
    return sock


def test_slow_uploads_get_408_and_never_crowd_out_a_normal_one(server):
    slow = [_slow_client(server) for _ in range(70)]  # more than max_concurrency + max_queue
    try:
        time.sleep(0.5)  # all of them are dripping now
        photo = (PHOTOS / "tabby_cat.jpg").read_bytes()
        boundary = uuid.uuid4().hex
        assert _post(server, _multipart(boundary, photo), boundary) == 200
        slow[0].settimeout(30)
        answer = slow[0].recv(200)  # the deadline (2 s) answers it; the test waits at most 30
        assert answer.startswith(b"HTTP/1.1 408"), answer
    finally:
        for sock in slow:
            sock.close()


def test_the_cli_has_the_deadline_option():
    status, output = cli(["serve", "--help"])
    assert status == 0 and "--body-timeout" in output
