"""Any image file -> one uint8 (size, size, 3) RGB array, the way the model expects its input.

The resize policy, used for training folders and for "predict on your own image" alike:

1. The file is opened (Pillow reads only the header) and refused if it has more than
   ``max_pixels`` pixels (default ``MAX_PIXELS``, 100 megapixels), before any pixel is decoded:
   a small file can declare a huge image (a decompression bomb).
2. For JPEGs, ``Image.draft("RGB", (size, size))`` lets the decoder scale down by 1/2, 1/4 or 1/8
   while staying at least size x size, so a 4000-pixel photo decodes in a fraction of the time.
   This is part of the policy: the result differs slightly from a full decode then resize.
3. The EXIF orientation is applied (``ImageOps.exif_transpose``), so photos stand upright.
4. Colours become 8-bit RGB. Greyscale and 1-bit images repeat their grey in R, G and B;
   16-bit and 32-bit greyscale (modes I;16, I, F) are scaled to 0..255 rather than clipped (see
   ``_to_8bit``); transparent pixels (alpha channels, palette or greyscale transparency) are
   composited onto white; CMYK and palette images are converted by Pillow.
5. The whole picture is resized to size x size without keeping its aspect ratio, as the lesson
   does when it predicts on your own image, with ``Image.Resampling.LANCZOS`` (antialiased).

Animated images (GIF, WebP) give their first frame. Every failure - a missing file, not an image,
truncated data, too many pixels - raises ``ImageLoadError("{path}: {reason}")``, on one line.
"""

from __future__ import annotations

import os
import reprlib
import struct
import warnings
from collections.abc import Iterable
from typing import BinaryIO, TypeVar

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from logicat.core.errors import ImageLoadError
from logicat.core.paths import not_regular
from logicat.core.validation import Interval, check_param

#: Default limit on width x height; larger images are refused before decoding.
MAX_PIXELS = 100_000_000
#: The largest side an image is resized to (4096 x 4096 x 3 bytes = 48 MiB per image).
MAX_SIZE = 4096

ImageSource = str | os.PathLike[str] | BinaryIO
#: What Pillow raises on files it cannot read, beyond OSError: its plugins parse strangers'
#: bytes with plain Python, so a malformed file can end in ValueError (a PNG text chunk that
#: inflates past MAX_TEXT_CHUNK), SyntaxError, EOFError, struct.error, IndexError, KeyError,
#: TypeError, ZeroDivisionError, or MemoryError (a header that declares a huge palette, ...).
#: Every one of them means "this file is not a usable image", for one file, never a crash.
PILLOW_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError,
                 KeyError, TypeError, ZeroDivisionError, MemoryError, RecursionError,
                 Image.DecompressionBombError)
P = TypeVar("P", bound=str | os.PathLike[str])


class _Unreadable(Exception):
    """Internal: the reason one image cannot be loaded, without its path."""


def load_image(source: ImageSource, size: int = 64, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Load one image file (a path or a binary file object) as model input.

    Returns a uint8 ndarray of shape (size, size, 3), RGB, following the module's resize policy.
    Raises ``ImageLoadError`` with a one-line "{path}: {reason}" message if it cannot, and
    ``TypeError`` if ``source`` is neither a path nor a file object.
    """
    _check_size(size)
    try:
        return _load(source, size, max_pixels)
    except _Unreadable as err:
        raise ImageLoadError(f"{_name(source)}: {err}") from None


def load_images(
    paths: Iterable[P], size: int = 64, *, max_pixels: int = MAX_PIXELS
) -> tuple[np.ndarray, list[P], list[tuple[P, str]]]:
    """Load many images, skipping the unreadable ones instead of failing.

    Returns
    -------
    images : uint8 ndarray of shape (k, size, size, 3), the k images that loaded, in order
    ok_paths : list of the k paths that loaded, as given
    failures : list of ``(path, reason)`` for the others, in order
    """
    _check_size(size)
    arrays: list[np.ndarray] = []
    ok_paths: list[P] = []
    failures: list[tuple[P, str]] = []
    for path in paths:
        try:
            arrays.append(_load(path, size, max_pixels))
            ok_paths.append(path)
        except _Unreadable as err:
            failures.append((path, str(err)))
    images = np.stack(arrays) if arrays else np.empty((0, size, size, 3), np.uint8)
    return images, ok_paths, failures


def _check_size(size: int) -> None:
    check_param("size", size, [Interval(int, 1, MAX_SIZE, closed="both")])


def _name(source: ImageSource) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fsdecode(source)
    return str(getattr(source, "name", "<file object>"))


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text or type(err).__name__


def _load(source: ImageSource, size: int, max_pixels: int) -> np.ndarray:
    if not isinstance(source, str | os.PathLike) and not callable(getattr(source, "read", None)):
        raise TypeError(
            "source must be a path (str or os.PathLike) or a binary file object (io.BytesIO for "
            f"bytes in memory). Got {reprlib.repr(source)} ({type(source).__name__}) instead."
        )
    if isinstance(source, str | os.PathLike):
        why = not_regular(source, "file")
        if why is not None:
            raise _Unreadable(why)
    # Pillow warns about what it tolerates (corrupt EXIF, ~89 Mpx and more): the image either
    # decodes or is refused here with its reason, so its warnings would only repeat that.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _decode(source, size, max_pixels)


def _decode(source: ImageSource, size: int, max_pixels: int) -> np.ndarray:
    try:
        image = Image.open(source)
    except Image.DecompressionBombError as err:
        raise _Unreadable(f"too many pixels, refused before decoding ({_one_line(err)})") from None
    except UnidentifiedImageError:
        raise _Unreadable("not an image file Pillow can read") from None
    except PILLOW_ERRORS as err:
        raise _Unreadable(f"cannot open: {_one_line(err)}") from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise _Unreadable(
                f"image is {width}x{height} = {width * height} pixels, more than the limit of "
                f"{max_pixels}; refused before decoding"
            )
        try:
            if image.format == "JPEG":
                image.draft("RGB", (size, size))
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = _to_rgb(upright).resize((size, size), Image.Resampling.LANCZOS)
        except PILLOW_ERRORS as err:
            # Pillow reports truncated or corrupt pixel data as OSError (sometimes SyntaxError).
            raise _Unreadable(f"cannot decode the image data: {_one_line(err)}") from None
    return np.asarray(rgb, dtype=np.uint8).copy()


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; transparency is composited onto white."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        image = Image.fromarray(_to_8bit(image))
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _to_8bit(image: Image.Image) -> np.ndarray:
    """High-bit-depth greyscale -> uint8 (h, w), scaled, never clipped as ``convert("L")`` does.

    I;16 images use the full 16-bit range: v * 255 / 65535. For modes I (32-bit int) and F
    (float) the range is the smallest of [0, 1] (F only), [0, 255] and [0, 65535] that holds the
    data, else the data's own min..max.
    """
    values = np.asarray(image, dtype=np.float64)  # (h, w)
    if image.mode.startswith("I;16"):
        low, high = 0.0, 65535.0
    else:
        finite = values[np.isfinite(values)]
        lo = float(finite.min()) if finite.size else 0.0
        hi = float(finite.max()) if finite.size else 0.0
        if image.mode == "F" and lo >= 0.0 and hi <= 1.0:
            low, high = 0.0, 1.0
        elif lo >= 0.0 and hi <= 255.0:
            low, high = 0.0, 255.0
        elif lo >= 0.0 and hi <= 65535.0:
            low, high = 0.0, 65535.0
        else:
            low, high = lo, hi if hi > lo else lo + 1.0
    scaled = (np.nan_to_num(values, nan=low) - low) * (255.0 / (high - low))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
