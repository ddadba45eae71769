"""What a file is, by its first bytes: for a one-line error that says what came in.

A README renamed ``model.safetensors``, the cat data's HDF5 file or a PyTorch ``.pt`` given as a
model: ``file_kind(first_bytes)`` says "a text file that starts with '# logicat'", "an HDF5 file",
"a zip archive" ..., with what to do with such a file where logicat has a use for it. Only
signatures that cannot be mistaken are recognised; anything else is None.
"""

from __future__ import annotations

#: how many bytes ``file_kind`` reads
SNIFF_BYTES = 64

_IMAGE = "give images to 'logicat predict -m MODEL IMAGE'"
#: (signature at the start of the file, what the file is)
SIGNATURES = (
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (a data set, as the cat data's or what 'logicat pack' "
     "writes: give it to 'logicat train --train-file' or 'logicat evaluate --test-file')"),
    (b"PK\x03\x04", "a zip archive (a PyTorch .pt file is one; logicat reads its own "
     ".safetensors files only, which cannot run code when loaded)"),
    (b"\x89PNG\r\n\x1a\n", f"a PNG image ({_IMAGE})"),
    (b"\xff\xd8\xff", f"a JPEG image ({_IMAGE})"),
    (b"GIF87a", f"a GIF image ({_IMAGE})"),
    (b"GIF89a", f"a GIF image ({_IMAGE})"),
    (b"\x1f\x8b", "a gzip-compressed file (decompress it first)"),
)


def file_kind(start: bytes) -> str | None:
    """What a file whose first bytes are ``start`` is, in words, or None when they do not say.

    Besides ``SIGNATURES``: a WebP image (``RIFF....WEBP``); a Python pickle (protocol 2 to 5,
    what ``torch.save`` wrote before its zip format); text (printable UTF-8), quoting its start.
    """
    for signature, kind in SIGNATURES:
        if start.startswith(signature):
            return kind
    if start[:4] == b"RIFF" and start[8:12] == b"WEBP":
        return f"a WebP image ({_IMAGE})"
    if len(start) >= 2 and start[0] == 0x80 and 2 <= start[1] <= 5:
        return ("a Python pickle (a PyTorch .pt file saved the old way is one; logicat reads "
                "its own .safetensors files only, which cannot run code when loaded)")
    text = _text(start)
    if text is not None:
        first = text.strip().splitlines()[0] if text.strip() else ""
        first = first if len(first) <= 40 else first[:37] + "..."
        return f"a text file that starts with {first!r}" if first else "a blank text file"
    return None


def _text(start: bytes) -> str | None:
    """``start`` as text when it is printable UTF-8 (a character cut at the end allowed)."""
    if not start:
        return None
    for cut in range(4):  # the last character may be cut by the 64-byte window
        try:
            text = start[:len(start) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return text if all(c.isprintable() or c in "\t\r\n" for c in text) else None
    return None
