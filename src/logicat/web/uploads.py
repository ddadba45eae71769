"""Uploads in memory: the request body, read within its limits, -> ``[(filename, bytes), ...]``.

``read_body`` reads a request's body into memory with its limits enforced: its size (413), its
deadline (408), and the bytes all bodies in flight may hold together (``BodyBudget``, 503). The
parts are then cut out of it with python-multipart's streaming parser (``parse_files``) and
kept as ``bytes``, one copy of each file's bytes. Nothing is spooled to a temporary file
(Starlette's form parser would spool parts over 1 MB to disk).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

#: The multipart field the API reads files from.
FIELD = "files"
#: The longest multipart boundary accepted (RFC 2046 allows 70 characters; python-multipart's
#: parser takes up to 256 and raises its own error beyond, which would be a 500).
MAX_BOUNDARY = 256
#: The bytes of request bodies held at once, all requests together (``BodyBudget``).
MAX_BODY_BYTES = 256 * 1024 * 1024
#: An oversized or refused body is read and discarded, up to these bytes and seconds, before its
#: 413 or 503 is sent: clients that write the whole body before reading the answer (urllib,
#: requests) then see the answer instead of a reset connection.
DRAIN_BYTES = 128 * 1024 * 1024
DRAIN_SECONDS = 10.0


@dataclass
class UploadError(Exception):
    """A request the API refuses: an HTTP status, a short machine-readable code, a message."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


class BodyBudget:
    """The bytes of request bodies held in memory at once, all requests together: at most
    ``limit``. A request reserves its body's bytes before they are read - its Content-Length
    at once, else chunk by chunk - and gives them back once it has been answered; a request
    that would pass the limit is refused with 503 (``read_body``). So however many clients
    upload at once, their bodies hold at most ``limit`` bytes, and their files (one copy of
    each, while parsed and decoded) at most as much again. Used from the event loop only (one
    thread): no lock."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, n: int) -> bool:
        """Reserve n more bytes; False (nothing reserved) if that would pass the limit."""
        if self.held + n > self.limit:
            return False
        self.held += n
        return True

    def give(self, n: int) -> None:
        self.held -= n

    def busy(self) -> UploadError:
        return UploadError(503, "busy", f"The server holds as many uploaded bytes as it may "
                           f"({self.limit} bytes, all uploads together); retry in a moment.")


async def read_body(request: Any, limit: int, timeout: float, why: str,
                    budget: BodyBudget) -> tuple[bytearray, int]:
    """(the request body in memory, the bytes it holds of ``budget``: the caller gives them
    back once it has answered). 413 as soon as the body is known to exceed ``limit`` (``why``
    says how the limit is made up) and 503 as soon as the bodies in flight would pass the
    budget, both after draining the rest (``drain``); 408 if it has not all arrived after
    ``timeout`` seconds; 400 for a bad Content-Length or a client gone mid-upload."""
    import anyio
    from starlette.requests import ClientDisconnect

    def too_large(got: str) -> UploadError:
        return UploadError(413, "too_large", f"The request body must be at most {limit} bytes "
                           f"({why}). Got {got} instead.")

    chunks = request.stream().__aiter__()  # one iterator: the drain goes on where reading stops
    length = request.headers.get("content-length")
    if length is not None and not length.isdigit():
        raise UploadError(400, "bad_request", f"Invalid Content-Length {length!r}.")
    declared = int(length) if length is not None else None
    refusal = None
    if declared is not None and declared > limit:
        refusal = too_large(f"{declared} bytes")
    elif declared is not None and not budget.take(declared):
        refusal = budget.busy()
    reserved = declared if declared is not None and refusal is None else 0
    body = bytearray()
    try:
        with anyio.fail_after(timeout):
            while refusal is None:
                chunk = await anext(chunks, None)
                if chunk is None:
                    break
                if len(body) + len(chunk) > limit:
                    refusal = too_large("more")
                elif (extra := len(body) + len(chunk) - reserved) > 0 and not budget.take(extra):
                    refusal = budget.busy()  # a chunked body reserves as it comes
                else:
                    reserved += max(extra, 0)
                    body += chunk
    except TimeoutError:
        budget.give(reserved)
        raise UploadError(408, "timeout", f"The upload did not arrive within {timeout:g} s."
                          ) from None
    except ClientDisconnect:
        budget.give(reserved)
        raise UploadError(400, "client_disconnected", "The client went away mid-upload.") from None
    except BaseException:
        budget.give(reserved)
        raise
    if refusal is not None:
        budget.give(reserved)
        del body[:]
        if refusal.status == 503:  # a body within the limits: drained as it would be read
            await drain(request, chunks, limit, timeout)
        else:
            await drain(request, chunks)
        raise refusal
    return body, reserved


async def drain(request: Any, chunks, most: int = DRAIN_BYTES,
                seconds: float = DRAIN_SECONDS) -> None:
    """Read and discard the rest of a refused body, at most ``most`` bytes for at most
    ``seconds`` (an oversized body: ``DRAIN_BYTES``, ``DRAIN_SECONDS``; one refused for the
    budget, within the limits: what reading it would have allowed), before the answer is sent.

    A server that answers and closes while the body is still arriving makes the client's
    kernel see a reset, and clients that read the answer only after sending everything
    (Python's urllib, requests) report "connection reset" instead of the answer. A client that
    asked "Expect: 100-continue" has sent nothing yet: it gets the answer at once.
    """
    import anyio
    from starlette.requests import ClientDisconnect

    if request.headers.get("expect", "").lower() == "100-continue":
        return
    drained = 0
    with anyio.move_on_after(seconds):
        try:
            async for chunk in chunks:
                drained += len(chunk)
                if drained > most:
                    break
        except ClientDisconnect:
            pass


def boundary_of(content_type: str) -> bytes:
    """The multipart boundary from a Content-Type header; 415 if it is not multipart/form-data."""
    from python_multipart.multipart import parse_options_header

    kind, options = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        got = content_type or "no Content-Type"
        raise UploadError(
            415,
            "unsupported_media_type",
            f"The request body must be multipart/form-data with a '{FIELD}' field. "
            f"Got {got} instead.",
        )
    boundary = options.get(b"boundary")
    if not boundary:
        raise UploadError(400, "bad_multipart", "The multipart Content-Type has no boundary.")
    if len(boundary) > MAX_BOUNDARY:
        raise UploadError(400, "bad_multipart", f"The multipart boundary must be at most "
                          f"{MAX_BOUNDARY} characters. Got {len(boundary)}.")
    return boundary


def parse_files(body: bytes | bytearray, content_type: str, *, max_files: int,
                max_file_bytes: int) -> list[tuple[str, bytes]]:
    """The files of the ``files`` field of a multipart/form-data body, in upload order: one
    copy of each file's bytes (the parser's pieces are views of ``body``).

    Other fields are ignored. Raises ``UploadError`` (400) for malformed or truncated multipart
    data, no ``files`` part, or more than ``max_files`` of them; 413 naming the first file over
    ``max_file_bytes``.
    """
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    boundary = boundary_of(content_type)
    parts: list[dict] = []
    state = {"field": b"", "value": b"", "ended": False}

    def on_part_begin() -> None:
        parts.append({"headers": {}, "chunks": []})

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        parts[-1]["headers"][state["field"].lower()] = state["value"]
        state["field"] = state["value"] = b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1]["chunks"].append(memoryview(data)[start:end])  # no copy yet

    def on_end() -> None:
        state["ended"] = True

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_end": on_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError as err:  # every refusal of the parser (MultipartParseError, ...)
        raise UploadError(400, "bad_multipart", f"Malformed multipart data: {err}.") from None
    if not state["ended"]:
        raise UploadError(400, "bad_multipart", "Truncated multipart data (no final boundary).")

    files = []
    for part in parts:
        disposition = part["headers"].get(b"content-disposition", b"")
        _, options = parse_options_header(disposition)
        if options.get(b"name") != FIELD.encode():
            continue
        if len(files) == max_files:
            raise UploadError(
                400, "too_many_files", f"At most {max_files} files per request. Got more."
            )
        name = _display_name(options.get(b"filename", b""), len(files))
        data = b"".join(part["chunks"])
        if len(data) > max_file_bytes:
            raise UploadError(413, "file_too_large", f"{name}: a file must be at most "
                              f"{max_file_bytes} bytes. Got {len(data)} bytes instead.")
        files.append((name, data))
    if not files:
        raise UploadError(
            400, "no_files", f"No file in the '{FIELD}' field: upload one or more images."
        )
    return files


def _display_name(raw: bytes, index: int) -> str:
    """A client's file name, for messages only: decoded, base name, printable, at most 100 chars."""
    name = raw.decode("utf-8", "replace").replace("\\", "/")
    name = os.path.basename(name)
    name = "".join(c for c in name if c.isprintable())[:100]
    return name or f"file {index + 1}"
