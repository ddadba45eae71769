"""``logicat serve``: the web app - upload photos, see p(cat), see what the model learned."""

from __future__ import annotations

import socket
import sys

import click

from logicat.cli.options import PositiveFloat, model_option, prior_option

# The web app's defaults, repeated here so that ``logicat --help`` does not import FastAPI;
# tests/test_web_cli.py checks they agree with logicat.web.
DEFAULT_MAX_UPLOAD_MB = 8.0
DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_BODY_TIMEOUT = 60.0
MAX_FILES = 16


@click.command()
@model_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port; the URL is printed).")
@click.option("--max-upload-mb", type=PositiveFloat(), default=DEFAULT_MAX_UPLOAD_MB,
              show_default=True, help="Largest uploaded file in MiB; larger ones get HTTP "
              f"413 (a request may hold {MAX_FILES} such files).")
@click.option("--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS,
              show_default=True,
              help="Largest image (width x height) accepted; checked before decoding.")
@click.option("--max-concurrency", type=click.IntRange(min=1), default=None,
              help="Uploads decoded and predicted at once [default: CPUs, at most 4].")
@click.option("--body-timeout", type=PositiveFloat(), default=DEFAULT_BODY_TIMEOUT,
              show_default=True, help="Seconds an upload may take to arrive; slower ones get "
              "HTTP 408.")
@click.option("--max-body-mb", type=PositiveFloat(), default=None,
              help="MiB of request bodies the server holds at once, all uploads together "
              "(with their files, copied out while decoded: at most twice this); a request "
              "beyond gets HTTP 503, to retry. At least one largest request "
              f"({MAX_FILES} files of --max-upload-mb) [default: 256, or one largest request "
              "if more].")
@click.option("--blas-threads", type=click.IntRange(min=0), default=1, show_default=True,
              help="Threads each prediction's BLAS call may use (0: the BLAS library's "
              "default). Requests already run in parallel, so 1 avoids oversubscription.")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log one line per request.")
@prior_option
def serve(model_path, host, port, max_upload_mb, max_pixels, max_concurrency, body_timeout,
          max_body_mb, blas_threads, access_log, prior):
    """Serve a web page and a JSON API that classify uploaded photos with a model.

    Open the printed URL, drop photos on the page, and see for each the 64x64 image the model
    sees, p(cat) and the label, next to the model's accuracies, learning curve and weights.
    The API is described at /openapi.json. With --prior, the app decides at that class mix
    (the page and /api/model say which). Stop with Ctrl+C.
    """
    try:
        import uvicorn

        from logicat.web import create_app
    except ModuleNotFoundError as err:
        raise click.ClickException(str(err).splitlines()[0]) from None

    from logicat.core.errors import ParameterError
    from logicat.web.app import PART_HEADER_BYTES

    max_upload_bytes = max(1, int(max_upload_mb * 1024 * 1024))
    try:
        app = create_app(
            model_path,
            max_upload_bytes=max_upload_bytes,
            max_pixels=max_pixels,
            max_concurrency=max_concurrency,
            body_timeout=body_timeout,
            max_body_bytes=None if max_body_mb is None else max(1, int(max_body_mb * 2**20)),
            prior=prior,
        )
    except ParameterError as err:
        if err.parameter != "max_body_bytes":
            raise
        need = MAX_FILES * (max_upload_bytes + PART_HEADER_BYTES)
        raise click.BadParameter(f"expected room for one largest request body, {need} bytes "
                                 f"({MAX_FILES} files of --max-upload-mb with their multipart "
                                 f"headers). Got {max_body_mb:g} MiB instead.",
                                 param_hint="'--max-body-mb'") from None
    sock = _listen(host, port)
    if blas_threads:  # for the whole server process; after create_app has loaded BLAS
        from threadpoolctl import threadpool_limits

        threadpool_limits(blas_threads)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    click.echo(f"Serving {model_path} at http://{shown}:{bound_port}/ (Ctrl+C to stop)")
    sys.stdout.flush()
    config = uvicorn.Config(
        app, log_level="info", access_log=access_log, timeout_graceful_shutdown=5
    )
    uvicorn.Server(config).run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """Bind before starting the server, so a busy port is a one-line error, not a log dump."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as err:
        raise click.BadParameter(f"cannot resolve {host!r}: {err.strerror}.",
                                 param_hint="'--host'") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {err.strerror or err}."
        ) from None
    sock.set_inheritable(True)
    return sock
