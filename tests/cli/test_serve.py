"""``logicat serve``'s command line: errors before any server starts, and its defaults."""

from __future__ import annotations

import importlib
import socket

import pytest

from tests.conftest import invoke

pytest.importorskip("fastapi")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, cat_data):
    path = tmp_path_factory.mktemp("serve") / "model.safetensors"
    result = invoke("train", "--iterations", "5", "--print-every", "0", "--out", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_missing_model_is_a_one_line_error(tmp_path):
    missing = tmp_path / "nope.safetensors"
    result = invoke("serve", "--model", str(missing), "--port", "0")
    assert result.exit_code == 1
    assert result.output == f"Error: {missing}: no such model file.\n"


def test_a_file_that_is_no_model_is_a_one_line_error(tmp_path):
    bogus = tmp_path / "photo.safetensors"
    bogus.write_bytes(b"\xff\xd8\xff not a model")
    result = invoke("serve", "--model", str(bogus), "--port", "0")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {bogus}: this is a JPEG image (give images to "
                                    "'logicat predict -m MODEL IMAGE'), not a logicat model")
    assert result.output.count("\n") == 1


def test_busy_port_is_a_one_line_error(model_file):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = invoke("serve", "-m", str(model_file), "--port", str(port), "--blas-threads", "0")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "where"),
    [(["--port", "70000"], "--port"), (["--max-upload-mb", "0"], "--max-upload-mb"),
     (["--max-pixels", "0"], "--max-pixels"), (["--max-concurrency", "0"], "--max-concurrency"),
     (["--max-body-mb", "0"], "--max-body-mb"),
     (["--max-body-mb", "100"], "Invalid value for '--max-body-mb': expected room for one "
                                "largest request body, 134283264 bytes (16 files of "
                                "--max-upload-mb with their multipart headers). Got 100 MiB")],
)
def test_bad_options_are_usage_errors(model_file, args, where):
    result = invoke("serve", "-m", str(model_file), *args)
    assert result.exit_code == 2
    assert where in result.output


def test_cli_defaults_agree_with_the_app():
    serve_module = importlib.import_module("logicat.cli.serve")  # not the click command
    from logicat.web import MAX_PIXELS, MAX_UPLOAD_BYTES

    assert serve_module.DEFAULT_MAX_PIXELS == MAX_PIXELS
    assert serve_module.DEFAULT_MAX_UPLOAD_MB * 2**20 == MAX_UPLOAD_BYTES
    from logicat.web.app import BODY_TIMEOUT, MAX_FILES

    assert serve_module.DEFAULT_BODY_TIMEOUT == BODY_TIMEOUT
    assert serve_module.MAX_FILES == MAX_FILES
