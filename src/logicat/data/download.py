"""Fetch one file over HTTP(S) and keep it only if its SHA-256 digest is the expected one.

The bytes stream into a temporary file in the destination folder (``logicat.paths.atomic_output``)
and are hashed while they are written; it is renamed onto the destination only when the digest
matches. On an HTTP error, a timeout, a short read, a digest mismatch or an interruption the
temporary file is deleted, so a destination path either holds the verified file or nothing new.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

from logicat.errors import DownloadError
from logicat.paths import atomic_output

#: Seconds to wait for the server to connect or to send the next bytes.
DEFAULT_TIMEOUT = 30.0
_CHUNK = 1 << 16


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 hex digest of a file's bytes, read in chunks (a few ms for the cat data)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_verified(
    url: str, dest: str | os.PathLike[str], sha256: str, *, timeout: float = DEFAULT_TIMEOUT
) -> Path:
    """Download ``url`` to ``dest`` unless ``dest`` already holds a file with digest ``sha256``.

    Returns the destination path. Raises ``DownloadError`` (naming the URL and the reason) when
    the download fails or its digest is not ``sha256``; nothing partial is left behind.
    """
    dest = Path(dest)
    sha256 = sha256.lower()
    if dest.is_file() and file_sha256(dest) == sha256:
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(dest, "download") as tmp:  # kept only if the block succeeds
            with open(tmp, "wb") as out:
                got = _stream(url, out, timeout)
            if got != sha256:
                raise DownloadError(
                    f"{url}: SHA-256 mismatch for {dest.name}: expected {sha256}, got {got}; "
                    "the download was not kept"
                )
    except OSError as err:  # the folder cannot be made or written (the network's are handled)
        raise DownloadError(f"{url}: cannot write into {dest.parent}: {err.strerror}") from None
    return dest


def _stream(url: str, out, timeout: float) -> str:
    """Copy the response body of ``url`` into ``out``; return the SHA-256 of what was written."""
    digest = hashlib.sha256()
    written = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
                written += len(chunk)
    except urllib.error.HTTPError as err:
        err.close()  # it holds the open response; left to the garbage collector it warns
        raise DownloadError(f"{url}: HTTP {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, TimeoutError):
            reason = f"timed out after {timeout:g} s"
        raise DownloadError(f"{url}: cannot download: {reason}") from None
    except TimeoutError:
        raise DownloadError(f"{url}: timed out after {timeout:g} s") from None
    except ValueError as err:  # a malformed URL, e.g. no scheme
        raise DownloadError(f"{url}: not a valid URL ({err})") from None
    except (http.client.HTTPException, OSError) as err:  # IncompleteRead, reset, disk full
        raise DownloadError(f"{url}: download interrupted: {err!r}") from None
    # A server that closes the connection early can end the body without an exception.
    if length is not None and length.isdigit() and written != int(length):
        raise DownloadError(
            f"{url}: connection closed after {written} of {length} bytes; the download was not kept"
        )
    return digest.hexdigest()
