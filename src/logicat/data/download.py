"""Fetch one file over HTTP(S) and keep it only if its SHA-256 digest is the expected one.

The bytes stream into a temporary file in the destination folder
(``logicat.core.paths.atomic_output``) and are hashed while they are written; it is renamed onto
the destination only when the digest matches. When the file's size is known in advance (the cat
data's is), the download stops as soon as more bytes arrive than the file has. On an HTTP
error, a timeout, a short read, a digest mismatch or an interruption the temporary file is
deleted, so a destination path either holds the verified file or nothing new.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from logicat.core.errors import DownloadError
from logicat.core.paths import atomic_output

#: Seconds to wait for the server to connect or to send the next bytes.
DEFAULT_TIMEOUT = 30.0
#: Seconds a whole download may take, and the most bytes it may bring: a server that streams
#: forever (or slowly, a byte under every ``timeout``) is cut off, not waited for.
DEFAULT_DEADLINE = 600.0
MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024
_CHUNK = 1 << 16


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 hex digest of a file's bytes, read in chunks (a few ms for the cat data)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_verified(
    url: str, dest: str | os.PathLike[str], sha256: str, *, size: int | None = None,
    timeout: float = DEFAULT_TIMEOUT, deadline: float = DEFAULT_DEADLINE,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Path:
    """Download ``url`` to ``dest`` unless ``dest`` already holds a file with digest ``sha256``.

    ``size``: the file's size in bytes, when it is known in advance (the cat data's are): the
    download stops as soon as more bytes arrive, or when the server announces another size;
    ``timeout``: seconds for each connect or read; ``deadline``: seconds for the whole
    download; ``max_bytes``: the largest body accepted when the size is not known. Returns the
    destination path. Raises ``DownloadError`` (naming the URL and the reason) when the
    download fails or its digest is not ``sha256``; nothing partial is left behind.
    """
    dest = Path(dest)
    sha256 = sha256.lower()
    if dest.is_file() and file_sha256(dest) == sha256:
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(dest, "download") as tmp:  # kept only if the block succeeds
            with open(tmp, "wb") as out:
                got = _stream(url, out, timeout, deadline, max_bytes, size)
            if got != sha256:
                raise DownloadError(
                    f"{url}: SHA-256 mismatch for {dest.name}: expected {sha256}, got {got}; "
                    "the download was not kept"
                )
    except OSError as err:  # the folder cannot be made or written (the network's are handled)
        raise DownloadError(f"{url}: cannot write into {dest.parent}: {err.strerror}") from None
    return dest


def _stream(url: str, out, timeout: float, deadline: float, max_bytes: int,
            size: int | None = None) -> str:
    """Copy the response body of ``url`` into ``out``; return the SHA-256 of what was written.

    Stops with ``DownloadError`` once the body passes ``size`` when it is known, else
    ``max_bytes`` (or says it will), or the download has taken ``deadline`` seconds.
    """
    digest = hashlib.sha256()
    written = 0
    end = time.monotonic() + deadline
    most = size if size is not None else max_bytes
    limit = (f"the {size} bytes the file has" if size is not None
             else f"{max_bytes} bytes, the limit")
    try:
        with urllib.request.urlopen(url, timeout=min(timeout, deadline)) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and (
                    int(length) > most or size is not None and int(length) != size):
                expected = limit if size is not None else f"at most {max_bytes}"
                raise DownloadError(f"{url}: the server announces {length} bytes, expected "
                                    f"{expected}; nothing was kept")
            # read1: what has arrived, so that a server dripping bytes meets the deadline too
            for chunk in iter(lambda: response.read1(_CHUNK), b""):
                digest.update(chunk)
                written += len(chunk)
                if written > most:
                    raise DownloadError(f"{url}: more than {limit}; the download was stopped "
                                        "and nothing was kept")
                out.write(chunk)
                if time.monotonic() > end:
                    raise DownloadError(f"{url}: not finished after {deadline:g} s; the "
                                        "download was stopped and nothing was kept")
    except DownloadError:
        raise
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
    if size is not None and written != size:
        raise DownloadError(f"{url}: the body ended after {written} of {limit}; the download "
                            "was not kept")
    return digest.hexdigest()
