"""Multipart uploads parsed in memory: the request body -> ``[(filename, bytes), ...]``.

The body has already been read, with its size limit enforced, into one ``bytes`` object; the
parts are cut out of it with python-multipart's streaming parser and kept as ``bytes``. Nothing
is spooled to a temporary file (Starlette's form parser would spool parts over 1 MB to disk).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: The multipart field the API reads files from.
FIELD = "files"
#: The longest multipart boundary accepted (RFC 2046 allows 70 characters; python-multipart's
#: parser takes up to 256 and raises its own error beyond, which would be a 500).
MAX_BOUNDARY = 256


@dataclass
class UploadError(Exception):
    """A request the API refuses: an HTTP status, a short machine-readable code, a message."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


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


def parse_files(body: bytes, content_type: str, *, max_files: int,
                max_file_bytes: int) -> list[tuple[str, bytes]]:
    """The files of the ``files`` field of a multipart/form-data body, in upload order.

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
        parts[-1]["chunks"].append(data[start:end])

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
