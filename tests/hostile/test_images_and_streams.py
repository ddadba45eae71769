"""Classes 4 and 5: bad images are skipped with their path; what is not a regular file is
never opened; folder walks end; downloads have a deadline and a size limit.

The FIFO cases run ``logicat`` in a subprocess with a timeout: opening a FIFO would block
forever, and the timeout turns that hang into a failure instead of a stuck suite.
"""

from __future__ import annotations

import asyncio
import http.server
import io
import os
import shutil
import socket
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from logicat.core.errors import DownloadError, ImageLoadError
from logicat.data import load_image
from logicat.data.download import fetch_verified
from tests.hostile.common import (
    CAT_DATA,
    PHOTOS,
    assert_refused,
    cli,
    cli_process,
    small_model,
    snapshot,
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(extra: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    png = buffer.getvalue()
    return png[:33] + extra + png[33:]  # after the IHDR chunk


#: 70 MiB of text compressed into ~70 KB: Pillow refuses it with a ValueError.
_BOMB = zlib.compress(b"a" * (70 << 20), 9)
BAD_IMAGES = {
    "zTXt bomb.png": lambda: _png(_chunk(b"zTXt", b"k\x00\x00" + _BOMB)),
    "iTXt bomb.png": lambda: _png(_chunk(b"iTXt", b"k\x00\x01\x00\x00\x00" + _BOMB)),
    "iCCP bomb.png": lambda: _png(_chunk(b"iCCP", b"p\x00\x00" + _BOMB)),
    "truncated.jpg": lambda: (PHOTOS / "tabby_cat.jpg").read_bytes()[:2000],
    "text.png": lambda: b"not an image at all",
    "empty.gif": lambda: b"",
    "header only.png": lambda: _png()[:40],
    "bad IHDR.png": lambda: _png()[:16] + b"\xff" * 8 + _png()[24:],
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """root/cat: two good photos and every bad image; root/dog: two good photos."""
    root = tmp_path_factory.mktemp("images")
    (root / "cat").mkdir()
    (root / "dog").mkdir()
    for name, make in BAD_IMAGES.items():
        (root / "cat" / name).write_bytes(make())
    for cls, names in (("cat", ["tabby_cat.jpg", "cat_in_iran.jpg"]),
                       ("dog", ["rocket.jpg", "coffee.png"])):
        for name in names:
            shutil.copy(PHOTOS / name, root / cls / name)
    return root


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_load_image_names_the_file(name, folder):
    with pytest.raises(ImageLoadError) as err:
        load_image(folder / "cat" / name)
    assert str(err.value).startswith(f"{folder / 'cat' / name}: ") and "\n" not in str(err.value)


def test_predict_skips_each_bad_image_and_predicts_the_rest(folder, tmp_path):
    model = small_model(tmp_path, size=64)
    status, output = cli(["predict", "-m", model, "-j", 1, folder])
    assert status == 1 and "Traceback" not in output
    assert output.count("p(cat) = ") == 4  # every good photo
    for name in BAD_IMAGES:
        assert f"Error: {folder / 'cat' / name}: " in output


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """A logistic-regression model and a tiny trained ConvNet (one epoch, widths 4, 8)."""
    folder = tmp_path_factory.mktemp("models")
    convnet = folder / "cnn.safetensors"
    status, output = cli(["train", "--model", "convnet", "-n", 1, "--param", "widths=4,8",
                          "--print-every", 0, "--out", convnet])
    assert status == 0, output
    return {"logistic": small_model(folder, size=64), "convnet": convnet}


#: Files no model can read: a web page saved as .jpg, an empty file, a missing path, a FIFO.
UNREADABLE = {"page.jpg": b"<!doctype html><html><body>a cat</body></html>", "empty.jpg": b"",
              "missing.jpg": None, "fifo.jpg": "fifo"}


@pytest.mark.parametrize("kinds", [["logistic"], ["convnet"], ["logistic", "convnet"]])
def test_predict_with_no_readable_image_names_each_and_exits_1(kinds, models, tmp_path):
    for name, content in UNREADABLE.items():
        if content == "fifo":
            os.mkfifo(tmp_path / name)
        elif content is not None:
            (tmp_path / name).write_bytes(content)
    options = [arg for kind in kinds for arg in ("-m", models[kind])]
    status, output = cli_process(["predict", *options, *(tmp_path / n for n in UNREADABLE)])
    assert status == 1 and "Traceback" not in output, output
    for name in UNREADABLE:
        assert f"Error: {tmp_path / name}: " in output
    assert output.splitlines()[-1] == "Error: none of the 4 images could be read."


def test_a_batch_of_only_unreadable_files_is_skipped_and_the_rest_predicted(tmp_path):
    bad = []
    for i in range(64):  # one whole batch of iter_decoded, nothing in it to predict
        bad.append(tmp_path / f"{i}.jpg")
        bad[-1].write_bytes(b"")
    status, output = cli(["predict", "-m", small_model(tmp_path, size=64), "-j", 1, *bad,
                          PHOTOS / "tabby_cat.jpg"])
    assert status == 1 and output.count("p(cat) = ") == 1, output
    assert output.count("not an image file") == 64 and "could be read" not in output


def test_pack_skips_them_and_exits_0(folder, tmp_path):
    status, output = cli(["pack", folder, tmp_path / "out.h5", "-j", 1])
    assert status == 0 and "Wrote 4 images" in output, output
    assert f"Skipped {len(BAD_IMAGES)} unreadable image(s)" in output


def test_the_web_app_answers_422(folder, tmp_path):
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("fastapi")
    from logicat.web import create_app

    app = create_app(small_model(tmp_path, size=64))

    async def post_each() -> list:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://logicat") as client:
            return [await client.post("/api/predict", files={
                "files": (name, (folder / "cat" / name).read_bytes())})
                for name in ("zTXt bomb.png", "iCCP bomb.png", "truncated.jpg")]

    for name, response in zip(("zTXt bomb.png", "iCCP bomb.png", "truncated.jpg"),
                              asyncio.run(post_each()), strict=True):
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith(f"{name}: ")


# ------------------------------------------------------------------------------ not files
@pytest.fixture
def streams(tmp_path) -> Path:
    """FIFOs and a socket named like the files logicat reads, a symlink loop in a folder."""
    for name in ("model.safetensors", "run.safetensors", "big.h5", "photo.jpg"):
        os.mkfifo(tmp_path / name)
    (tmp_path / "photos" / "cat").mkdir(parents=True)
    (tmp_path / "photos" / "dog").mkdir()
    shutil.copy(PHOTOS / "tabby_cat.jpg", tmp_path / "photos" / "cat")
    shutil.copy(PHOTOS / "rocket.jpg", tmp_path / "photos" / "dog")
    os.mkfifo(tmp_path / "photos" / "cat" / "fifo.jpg")
    os.symlink(".", tmp_path / "photos" / "cat" / "loop")
    os.symlink("..", tmp_path / "photos" / "dog" / "up")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock.safetensors"))
    yield tmp_path
    sock.close()


STREAM_CASES = {
    "info on a FIFO": (["info", "{t}/model.safetensors"], "model.safetensors"),
    "predict -m FIFO": (["predict", "-m", "{t}/model.safetensors", "{t}/photos"],
                        "model.safetensors"),
    "info on a socket": (["info", "{t}/sock.safetensors"], "sock.safetensors"),
    "info on a device": (["info", "/dev/zero"], "/dev/zero"),
    "serve -m FIFO": (["serve", "-m", "{t}/model.safetensors", "--port", "0"],
                      "model.safetensors"),
    "train --train-file FIFO": (["train", "--train-file", "{t}/big.h5", "-n", 1], "big.h5"),
    "train --resume FIFO": (["train", "-n", 2, "--checkpoint", "{t}/run.safetensors",
                             "--resume"], "run.safetensors"),
}


@pytest.mark.parametrize("case", STREAM_CASES)
def test_what_is_not_a_regular_file_is_refused_unopened(case, streams):
    args, names = STREAM_CASES[case]
    before = snapshot(streams)
    status, output = cli_process([str(a).format(t=streams) for a in args], timeout=60)
    code = 2 if "--resume" in args else 1
    assert_refused(status, output, code=code, names=names, before=before, folders=(streams,))


def test_folders_with_fifos_and_symlink_loops_are_walked_once(streams, tmp_path):
    model = small_model(streams, "m.safetensors", size=64)
    status, output = cli_process(["predict", "-m", model, "-j", 1, streams / "photos",
                                  streams / "photo.jpg"], timeout=60)
    assert status == 1 and "Traceback" not in output
    assert output.count("tabby_cat.jpg  p(cat)") == 1  # not once per trip round the loop
    assert "fifo.jpg: not a regular file" in output and "photo.jpg: not a regular file" in output
    status, output = cli_process(["pack", streams / "photos", tmp_path / "p.h5", "-j", 1])
    assert status == 0 and "Wrote 2 images" in output, output


# ------------------------------------------------------------------------------ downloads
class _Endless(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        if self.path.endswith("/announced"):
            self.send_header("Content-Length", str(10**12))
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"x" * 1024 if "drip" not in self.path else b"x")
                if "drip" in self.path:
                    time.sleep(0.05)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def endless():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = False  # server_close() waits for each handler to see its client go
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path, limits, message", [
    ("/forever", {"max_bytes": 1 << 20}, "more than 1048576 bytes, the limit"),
    ("/forever", {"size": 5000}, "more than the 5000 bytes the file has"),
    ("/announced", {}, "announces 1000000000000 bytes, expected at most"),
    ("/announced", {"size": 5000}, "announces 1000000000000 bytes, expected the 5000 bytes"),
    ("/drip", {"deadline": 1.0, "timeout": 5.0}, "not finished after 1 s"),
])
def test_downloads_stop_at_their_size_limit_and_deadline(endless, tmp_path, path, limits,
                                                         message):
    (tmp_path / CAT_DATA.name).mkdir()
    with pytest.raises(DownloadError, match=message) as err:
        fetch_verified(endless + path, tmp_path / "x.h5", "0" * 64, **limits)
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == [CAT_DATA.name]  # nothing kept


def test_download_stops_as_soon_as_more_bytes_arrive_than_the_file_has(endless, tmp_path):
    """Issue 31, item 11: the cat data's sizes are known, so a server that keeps streaming is
    cut off after them, not after the deadline or the size limit."""
    from logicat.data import SIZES, TRAIN_FILE

    started = time.monotonic()
    status, output = cli(["download", "--base-url", endless + "/forever", "--dest",
                          tmp_path / "data"])
    assert_refused(status, output, code=1, names=f"{endless}/forever/{TRAIN_FILE}: more than "
                   f"the {SIZES[TRAIN_FILE]} bytes the file has")
    assert time.monotonic() - started < 30
    assert not list((tmp_path / "data").iterdir())
