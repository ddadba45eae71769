"""Test-time augmentation: the views of an image whose logits an image network averages.

``tta`` is one of ``CHOICES``:

- False: the image alone;
- True ("flip"): the image and its mirror image (left-right) - the ConvNet's default;
- "shifts": those two, and the image shifted by ``SHIFT`` pixels along each of its four
  diagonals (its border reflected, as the training crops pad it), each with its mirror: 10
  views. On the cat data's training images it was not chosen (BENCHMARKS.md, "Test-time
  augmentation"): +1.1 points of CV accuracy, an interval that holds 0.

Every view is a gather of rows and columns, ``view[i, j] = image[rows[i], cols[j]]``
(``views``), so each engine takes it the same way - NumPy's fancy indexing, ``torch``'s
``index_select``, ONNX's ``Gather`` - and a map over a view goes back to the image by the
transposed gather (``back``: each view pixel's value added to the image pixel it came from),
which for a gradient is the chain rule itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: what ``tta`` may be: no augmentation, the mirror, or shifts and mirrors
CHOICES = (False, True, "shifts")
#: the diagonal shifts of "shifts", in pixels (the training crops' default padding)
SHIFT = 4


def views(tta: Any, side: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each view of an image of ``side`` x ``side`` as (rows (side,), cols (side,)) of indices:
    the image itself first, then its mirror (``tta`` True or "shifts"), then the shifts and
    their mirrors ("shifts")."""
    same, mirror = np.arange(side), np.arange(side)[::-1].copy()
    out = [(same, same)]
    if tta:
        out.append((same, mirror))
    if tta == "shifts":
        for dy in (-SHIFT, SHIFT):
            for dx in (-SHIFT, SHIFT):
                rows, cols = _reflected(same + dy, side), _reflected(same + dx, side)
                out += [(rows, cols), (rows, cols[::-1].copy())]
    return out


def _reflected(index: np.ndarray, side: int) -> np.ndarray:
    """Indices past either border reflected back inside, as ``np.pad(mode="reflect")`` and
    ``torch.nn.functional.pad(mode="reflect")`` read them."""
    index = np.abs(index)
    return np.where(index > side - 1, 2 * (side - 1) - index, index)


def apply(images: np.ndarray, view: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The view of images (m, s, s, ...) (rows then columns on axes 1 and 2)."""
    rows, cols = view
    return images[:, rows][:, :, cols]


def back(maps: np.ndarray, view: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """A map over a view (m, s, s, ...) taken back to the image: each of its pixels added to
    the image pixel it was read from (the gather's transpose)."""
    rows, cols = view
    out = np.zeros_like(maps)
    by_rows = np.zeros_like(maps)
    np.add.at(by_rows, (slice(None), rows), maps)
    np.add.at(out, (slice(None), slice(None), cols), by_rows)
    return out


def check(tta: Any, side: int) -> str | None:
    """Why ``tta`` cannot serve images of ``side``, or None."""
    if not any(tta is choice or (isinstance(tta, str) and tta == choice) for choice in CHOICES):
        return "tta must be true, false or 'shifts'"
    if tta == "shifts" and side <= SHIFT:
        return f"tta 'shifts' reflects {SHIFT} pixels: images of at least {SHIFT + 1}x{SHIFT + 1}"
    return None


def describe(tta: Any) -> str:
    return {False: "none", True: "the mirror image's logit averaged in",
            "shifts": f"the mirror and 4 diagonal shifts by {SHIFT} pixels, 10 views averaged"
            }[tta]
