"""The FastAPI application: the page, the JSON API, and the limits that keep it healthy.

Routes::

    GET  /                             the page (static HTML/CSS/JS, no build step, no CDN)
    POST /api/predict                  multipart field "files": one or more images -> p(cat) each
    GET  /api/model                    accuracies, hyperparameters, training-data checksum, the
                                       class mix it decides at, ...
    GET  /api/model/learning-curve.png the cost per iteration, drawn in memory
    GET  /api/model/weights.png        the weights folded back into a 64x64x3 image
    GET  /healthz                      {"status": "ok"}
    GET  /openapi.json, /docs          the API description (/docs loads Swagger UI from a CDN)

Limits: a file over ``max_upload_bytes`` gets 413 naming it; a request body over
``max_files`` such files with their multipart headers gets 413 too (from Content-Length before
reading, or while streaming; the rest of the body is drained first, within bounds, so that every
client sees the 413); a body that takes longer than ``body_timeout`` to arrive gets 408; an image
over ``max_pixels`` is refused from its header before decoding (422); anything that is not a
decodable image gets 422; every error is JSON ``{"detail": message, "code": code}``. The body
is read into memory only, and the bodies of all requests in flight hold at most
``max_body_bytes`` together (``uploads.BodyBudget``; a request that would pass it gets 503, so
many concurrent uploads cannot exhaust memory); parsing, decoding and prediction run in worker
threads, at most ``max_concurrency`` at once, with at most ``max_queue`` more requests waiting
(counted once their body has arrived); beyond that the server answers 503 at once.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

try:
    import anyio
    import PIL.Image
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse, Response
    from fastapi.staticfiles import StaticFiles
    from pydantic import BaseModel
    from starlette.exceptions import HTTPException as StarletteHTTPException
except ModuleNotFoundError as err:  # pragma: no cover - depends on the installed extras
    raise ModuleNotFoundError(
        f"The web app needs the 'web' extra ({err.name} is missing): "
        "pip install 'logicat[web]'."
    ) from None

from logicat import __version__
from logicat.core.errors import ParameterError
from logicat.core.validation import Interval, check_params
from logicat.web.service import Predictor
from logicat.web.uploads import (
    FIELD,
    MAX_BODY_BYTES,
    BodyBudget,
    UploadError,
    boundary_of,
    parse_files,
    read_body,
)

#: Defaults: 8 MiB per file, 50 megapixels per image, 16 files per request.
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 50_000_000
MAX_FILES = 16
#: Bytes a request may spend on each file's multipart headers (boundary, Content-Disposition
#: with the file name, Content-Type): a body may hold max_files x (max_upload_bytes + this).
PART_HEADER_BYTES = 4096
#: Seconds a request body may take to arrive (then 408): a client dripping bytes is cut off.
BODY_TIMEOUT = 60.0
STATIC = Path(__file__).parent / "static"

log = logging.getLogger("logicat.web")


class PredictResult(BaseModel):
    filename: str
    bytes: int
    probability: float
    label: str
    is_positive: bool
    input_image: str | None = None
    explanation_image: str | None = None
    explanation_method: str | None = None


class PredictResponse(BaseModel):
    positive_class: str
    results: list[PredictResult]


class ErrorResponse(BaseModel):
    detail: str
    code: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in [
        (400, "Malformed multipart data, no file in 'files', or too many files"),
        (408, "The request body did not arrive in time"),
        (413, "A file, or the request body, is larger than its upload limit"),
        (415, "The body is not multipart/form-data"),
        (422, "A file is not an image, is truncated, or has too many pixels"),
        (503, "Too many requests in progress; retry shortly"),
    ]
}

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [FIELD],
                "properties": {
                    FIELD: {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "One or more image files (JPEG, PNG, GIF, WebP, ...).",
                    }
                },
            }
        }
    },
}


def create_app(
    model: Any,
    *,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_concurrency: int | None = None,
    max_queue: int = 64,
    max_files: int = MAX_FILES,
    body_timeout: float = BODY_TIMEOUT,
    max_body_bytes: int | None = None,
    prior: float | str | None = None,
) -> FastAPI:
    """Build the web app for one model.

    Parameters
    ----------
    model : path to a model file written by ``logicat train``, a ``logicat.model.Model``, or a
        fitted ``LogisticRegression`` (its ``metadata_`` or width say how images become
        features).
    max_upload_bytes : largest file accepted; larger ones get 413. A request body may hold
        ``max_files`` of them (with ``PART_HEADER_BYTES`` of multipart headers each).
    max_pixels : largest width x height accepted; checked before any pixel is decoded.
    max_concurrency : requests parsed/decoded/predicted at once, in worker threads
        (default: the number of CPUs, at most 4).
    max_queue : requests allowed to wait for a worker; more get 503 at once.
    max_files : files allowed in one request.
    body_timeout : seconds a request body may take to arrive; slower ones get 408.
    max_body_bytes : the bytes of request bodies held at once, all requests together
        (``uploads.BodyBudget``); a request beyond gets 503. At least one largest body;
        default: ``MAX_BODY_BYTES`` (256 MiB), or one largest body when that is more.
    prior : the class mix to decide at: "train", "balanced" or the fraction of positives in
        (0, 1) (``logicat.nn.output``); None: the model's own. A ``ModelFileError`` for a model
        that does not record its training mix.
    """
    check_params(
        {"max_upload_bytes": [Interval(int, 1)], "max_pixels": [Interval(int, 1)],
         "max_concurrency": [Interval(int, 1), None], "max_queue": [Interval(int, 0)],
         "max_files": [Interval(int, 1)], "body_timeout": [Interval(float, 0, None, "neither")],
         "max_body_bytes": [Interval(int, 1), None]},
        {"max_upload_bytes": max_upload_bytes, "max_pixels": max_pixels,
         "max_concurrency": max_concurrency, "max_queue": max_queue, "max_files": max_files,
         "body_timeout": body_timeout, "max_body_bytes": max_body_bytes},
    )
    max_request_bytes = max_files * (max_upload_bytes + PART_HEADER_BYTES)
    if max_body_bytes is None:
        max_body_bytes = max(MAX_BODY_BYTES, max_request_bytes)
    if max_body_bytes < max_request_bytes:
        raise ParameterError(f"The 'max_body_bytes' parameter must hold one largest request "
                             f"body ({max_files} files of at most {max_upload_bytes} bytes with "
                             f"their multipart headers: {max_request_bytes} bytes). Got "
                             f"{max_body_bytes} instead.", parameter="max_body_bytes")
    if max_concurrency is None:
        max_concurrency = max(1, min(4, os.cpu_count() or 1))

    predictor = Predictor(model, max_pixels=max_pixels, prior=prior)
    PIL.Image.init()  # register every image plugin now, not in racing worker threads
    summary = predictor.summary()

    pictures: dict[str, bytes] = {}
    importing = threading.Lock()
    drawing = {"learning-curve": threading.Lock(), "weights": threading.Lock()}

    def picture(name: str) -> bytes:
        """The model's pictures - the figures ``logicat plot`` draws - each made once, on its
        first request (matplotlib is slow to import), under its own lock, so that one slow
        picture does not hold up the other; importing matplotlib from two threads at once can
        fail, so the import has a lock of its own."""
        with importing:
            from logicat.viz.canvas import figure_bytes
            from logicat.viz.plots import model_learning_curves_figure
            from logicat.viz.weights import model_weights_figure
        with drawing[name]:
            if name not in pictures:
                model = predictor.model
                if name == "weights":
                    figure = model_weights_figure(model)
                else:
                    loss = summary["hyperparameters"].get("loss", "cost").replace("_", "-")
                    figure = model_learning_curves_figure(model, f"Learning curve ({loss})")
                pictures[name] = figure_bytes(figure, "png")
            return pictures[name]

    limits = {
        "max_upload_bytes": max_upload_bytes,
        "max_request_bytes": max_request_bytes,
        "max_pixels": max_pixels,
        "max_files": max_files,
        "max_concurrency": max_concurrency,
        "max_queue": max_queue,
        "body_timeout": body_timeout,
        "max_body_bytes": max_body_bytes,
    }
    budget = BodyBudget(max_body_bytes)  # the bodies in flight, all requests together
    admitted = 0  # requests past the door: working or waiting for a worker
    limiter = None  # anyio.CapacityLimiter(max_concurrency), made inside the event loop

    app = FastAPI(
        title="logicat",
        version=__version__,
        description="Is this a cat? A logistic-regression classifier on 64x64 RGB images.",
    )
    app.state.predictor = predictor
    app.state.limits = limits
    app.state.body_budget = budget
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(UploadError)
    async def upload_error(request: Request, exc: UploadError) -> JSONResponse:
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return JSONResponse(
            {"detail": exc.message, "code": exc.code}, status_code=exc.status, headers=headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc.detail), "code": f"http_{exc.status_code}"},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = f"Invalid request: {where}: {first.get('msg', 'invalid value')}."
        return JSONResponse({"detail": message, "code": "invalid_request"}, status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"detail": "Internal server error.", "code": "internal"}, status_code=500
        )

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(
            STATIC / "index.html",
            headers={
                "Content-Security-Policy": "default-src 'self'; img-src 'self' data:",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @app.get("/healthz", summary="Liveness check")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/model", summary="The model: accuracies, hyperparameters, data checksum")
    async def model_info() -> dict[str, Any]:
        return {
            **summary,
            "limits": limits,
            "pictures": {
                "learning_curve": "/api/model/learning-curve.png",
                "weights": "/api/model/weights.png",
            },
        }

    @app.get(
        "/api/model/learning-curve.png",
        summary="The learning curve (cost per iteration)",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}},
    )
    async def learning_curve() -> Response:
        png = await anyio.to_thread.run_sync(picture, "learning-curve")
        return Response(png, media_type="image/png")

    @app.get(
        "/api/model/weights.png",
        summary="The weights as an image",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}},
    )
    async def weights() -> Response:
        png = await anyio.to_thread.run_sync(picture, "weights")
        return Response(png, media_type="image/png")

    @app.post(
        "/api/predict",
        summary="p(cat) and the label for each uploaded image",
        response_model=PredictResponse,
        response_model_exclude_none=True,
        responses=_ERRORS,
        openapi_extra={"requestBody": _UPLOAD_BODY},
    )
    async def predict(request: Request, image: bool = False,
                      explain: bool = False) -> dict[str, Any]:
        """Upload images in the multipart field ``files``. With ``?image=true`` each result
        also carries ``input_image``: the 64x64 picture the model sees, as a PNG data URL;
        with ``?explain=true``, ``explanation_image``: which of its pixels pushed p up (red)
        or down (blue), as ``logicat explain`` computes it, and ``explanation_method``.
        All or nothing: one unreadable file fails the request with 422 naming it."""
        nonlocal admitted, limiter
        if limiter is None:
            limiter = anyio.CapacityLimiter(max_concurrency)
        content_type = request.headers.get("content-type", "")
        boundary_of(content_type)  # 415 before reading a body of the wrong kind
        # The body arrives first, within its deadline; only then does the request take a place
        # among the working and waiting ones, so slow uploads cannot crowd out quick ones.
        body, reserved = await read_body(request, max_request_bytes, body_timeout,
                                         f"{max_files} files of at most {max_upload_bytes} "
                                         "bytes each, with their multipart headers", budget)
        try:
            if admitted >= max_concurrency + max_queue:
                raise UploadError(503, "busy", "The server is busy; retry in a moment.")
            admitted += 1
            try:
                def work() -> list[dict]:
                    files = parse_files(body, content_type, max_files=max_files,
                                        max_file_bytes=max_upload_bytes)
                    return predictor.predict(files, with_images=image,
                                             with_explanations=explain)

                results = await anyio.to_thread.run_sync(work, limiter=limiter)
            finally:
                admitted -= 1
        finally:
            budget.give(reserved)
        return {"positive_class": predictor.positive_class, "results": results}

    return app
