"""Downloads, offline: a local HTTP server on 127.0.0.1 serves the real files, a corrupted copy,
a truncated response, a 404 and a server too slow to answer."""

from __future__ import annotations

import http.server
import shutil
import threading
import time
from pathlib import Path

import pytest

import logicat.data.download as download_module
from logicat.core.errors import DownloadError
from logicat.data import (
    SHA256,
    SIZES,
    TEST_FILE,
    TRAIN_FILE,
    download_catvnoncat,
    fetch_verified,
    file_sha256,
    load_catvnoncat,
)
from tests import paths

SHARED = paths.CAT_DATA


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the server's folder; /truncated/<file> sends half the body it announces and
    /slow/<file> waits longer than the client's timeout."""

    def do_GET(self):
        self.server.requests.append(self.path)
        kind, _, name = self.path.lstrip("/").partition("/")
        if kind == "truncated":
            body = (Path(self.directory) / "good" / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        elif kind == "slow":
            time.sleep(0.5)  # then hang up without an answer
            self.close_connection = True
        else:
            super().do_GET()

    def log_message(self, format, *args):  # keep the test output quiet
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Base URL of a local server: /good holds copies of the real files, /corrupt altered ones."""
    if not (SHARED / TRAIN_FILE).is_file():
        pytest.skip(f"{SHARED} does not hold the cat data")
    root = tmp_path_factory.mktemp("www")
    for folder in ("good", "corrupt"):
        (root / folder).mkdir()
        for name in (TRAIN_FILE, TEST_FILE):
            shutil.copy(SHARED / name, root / folder / name)
    with open(root / "corrupt" / TRAIN_FILE, "r+b") as f:
        f.seek(5000)
        f.write(b"\x00\xff\x00\xff")

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: _Handler(*a, directory=str(root))
    )
    httpd.daemon_threads = True
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _url(server, folder: str = "good") -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/{folder}"


def _left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_downloads_both_files_verified(server, tmp_path):
    dest = tmp_path / "data"
    assert download_catvnoncat(_url(server), dest) == dest
    assert _left_in(dest) == sorted([TRAIN_FILE, TEST_FILE])  # no temporary files left
    for name in (TRAIN_FILE, TEST_FILE):
        assert file_sha256(dest / name) == SHA256[name]
    data = load_catvnoncat(dest)
    assert data.train_x.shape == (209, 64, 64, 3) and data.classes == ("non-cat", "cat")


def test_files_already_there_are_not_downloaded_again(server, tmp_path):
    dest = tmp_path / "data"
    download_catvnoncat(_url(server) + "/", dest)  # a trailing slash is fine
    before = len(server.requests)
    download_catvnoncat(_url(server), dest)
    assert len(server.requests) == before


def test_a_wrong_file_already_there_is_replaced(server, tmp_path):
    dest = tmp_path / "data"
    dest.mkdir()
    (dest / TRAIN_FILE).write_bytes(b"stale")
    download_catvnoncat(_url(server), dest)
    assert file_sha256(dest / TRAIN_FILE) == SHA256[TRAIN_FILE]


def test_base_url_from_the_environment_and_the_cache_by_default(server, tmp_path, monkeypatch):
    monkeypatch.setenv("LOGICAT_DATA_URL", _url(server))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = download_catvnoncat()
    assert folder == tmp_path / "cache" / "logicat" / "catvnoncat"
    assert _left_in(folder) == sorted([TRAIN_FILE, TEST_FILE])


def test_load_with_download_fetches_into_the_given_folder(server, tmp_path, monkeypatch):
    monkeypatch.setenv("LOGICAT_DATA_URL", _url(server))
    data = load_catvnoncat(tmp_path / "fresh", download=True)
    assert data.test_x.shape == (50, 64, 64, 3)
    assert _left_in(tmp_path / "fresh") == sorted([TRAIN_FILE, TEST_FILE])


def test_digest_mismatch_keeps_nothing_and_says_expected_and_got(server, tmp_path):
    dest = tmp_path / "data"
    with pytest.raises(DownloadError) as err:
        download_catvnoncat(_url(server, "corrupt"), dest)
    message = str(err.value)
    assert message.startswith(f"{_url(server, 'corrupt')}/{TRAIN_FILE}: SHA-256 mismatch")
    assert f"expected {SHA256[TRAIN_FILE]}, got " in message
    got = message.split("got ")[1].split(";")[0]
    assert len(got) == 64 and got != SHA256[TRAIN_FILE]
    assert _left_in(dest) == []


def test_http_404(server, tmp_path):
    dest = tmp_path / "data"
    with pytest.raises(DownloadError) as err:
        download_catvnoncat(_url(server, "missing"), dest)
    assert str(err.value) == f"{_url(server, 'missing')}/{TRAIN_FILE}: HTTP 404 File not found"
    assert _left_in(dest) == []


def test_truncated_response(server, tmp_path):
    dest = tmp_path / "data"
    with pytest.raises(DownloadError) as err:
        download_catvnoncat(_url(server, "truncated"), dest)
    message = str(err.value)
    assert message.startswith(f"{_url(server, 'truncated')}/{TRAIN_FILE}: ")
    assert "interrupted" in message or "connection closed after" in message
    assert _left_in(dest) == []


def test_timeout(server, tmp_path):
    dest = tmp_path / "data"
    with pytest.raises(DownloadError) as err:
        download_catvnoncat(_url(server, "slow"), dest, timeout=0.2)
    assert str(err.value).startswith(f"{_url(server, 'slow')}/{TRAIN_FILE}: ")
    assert "timed out after 0.2 s" in str(err.value)
    assert _left_in(dest) == []


def test_connection_refused(tmp_path):
    # Bind a port and close it again: nothing listens there.
    probe = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()
    with pytest.raises(DownloadError, match=rf"^http://127\.0\.0\.1:{port}/x: cannot download"):
        fetch_verified(f"http://127.0.0.1:{port}/x", tmp_path / "x", SHA256[TRAIN_FILE])
    assert _left_in(tmp_path) == []


def test_not_a_url(tmp_path):
    with pytest.raises(DownloadError, match="not a valid URL"):
        fetch_verified("no-scheme/train.h5", tmp_path / "x", SHA256[TRAIN_FILE])


def test_interruption_removes_the_temporary_file(server, tmp_path, monkeypatch):
    def interrupted(url, out, *limits):
        out.write(b"some bytes")
        (temporary,) = _left_in(tmp_path)  # the bytes go to a hidden temporary file first
        assert temporary.startswith(f".{TRAIN_FILE}.") and temporary.endswith(".tmp")
        raise KeyboardInterrupt

    monkeypatch.setattr(download_module, "_stream", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fetch_verified(f"{_url(server)}/{TRAIN_FILE}", tmp_path / TRAIN_FILE, SHA256[TRAIN_FILE])
    assert _left_in(tmp_path) == []


def test_a_known_size_is_checked_against_what_the_server_announces(server, tmp_path):
    """The cat data's sizes are known (``SIZES``): a server announcing another is refused
    before the body is read; one announcing the right size downloads."""
    url = f"{_url(server)}/{TRAIN_FILE}"
    with pytest.raises(DownloadError, match=rf"^{url}: the server announces {SIZES[TRAIN_FILE]} "
                       rf"bytes, expected the {SIZES[TRAIN_FILE] - 1} bytes the file has; "):
        fetch_verified(url, tmp_path / TRAIN_FILE, SHA256[TRAIN_FILE],
                       size=SIZES[TRAIN_FILE] - 1)
    assert _left_in(tmp_path) == []
    fetch_verified(url, tmp_path / TRAIN_FILE, SHA256[TRAIN_FILE], size=SIZES[TRAIN_FILE])
    assert _left_in(tmp_path) == [TRAIN_FILE]
