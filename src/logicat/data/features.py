"""Images -> feature vectors: one function, used by training, prediction and the web app.

An image is three 64x64 matrices (red, green, blue). The lesson unrolls it into one column of
n_x = 64*64*3 = 12288 values with ``x.reshape(m, -1)`` - row-major, so the order is
(row, column, channel): x[0:3] are the R, G, B of the top-left pixel - and divides by 255.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from logicat.core.errors import ShapeError

#: What the 1/255 scaling is called in model files.
SCALING = "divide_by_255"
#: Pixel order of the unrolled vector, as stored in model files.
PIXEL_ORDER = "row-major (row, column, channel), RGB"


def unroll(images: ArrayLike) -> np.ndarray:
    """Flatten each image into one row, keeping the pixel values.

    Parameters
    ----------
    images : array of shape (m, height, width, 3)

    Returns
    -------
    ndarray of shape (m, height*width*3), same dtype, in the order of ``images.reshape(m, -1)``.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ShapeError(
            f"images must have shape (m, height, width, 3). Got shape {images.shape} instead."
        )
    return images.reshape(images.shape[0], -1)


def images_to_features(images: ArrayLike, dtype: DTypeLike = np.float64) -> np.ndarray:
    """Unroll images and scale them to [0, 1]: the features the model sees.

    Parameters
    ----------
    images : uint8 array of shape (m, height, width, 3)
    dtype : float dtype of the result (float64 or float32)

    Returns
    -------
    X : ndarray of shape (m, height*width*3), ``images.reshape(m, -1) / 255``.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ShapeError(f"images must be uint8 pixel values. Got dtype {images.dtype} instead.")
    X = unroll(images).astype(dtype)
    X /= 255.0
    return X


def preprocessing_spec(image_size: int = 64) -> dict:
    """How images become features, as recorded in model files and applied at predict time."""
    return {
        "image_size": int(image_size),
        "channels": 3,
        "pixel_order": PIXEL_ORDER,
        "scaling": SCALING,
    }


def apply_preprocessing(images: ArrayLike, spec: dict, dtype: DTypeLike = np.float64) -> np.ndarray:
    """Turn uint8 images (m, s, s, 3) into the features a model was trained on, per its ``spec``."""
    images = np.asarray(images)
    size = spec.get("image_size")
    if images.ndim != 4 or images.shape[1:] != (size, size, 3):
        raise ShapeError(
            f"images must have shape (m, {size}, {size}, 3) for this model. "
            f"Got shape {images.shape} instead."
        )
    scaling = spec.get("scaling")
    if scaling != SCALING:
        raise ShapeError(f"Unknown feature scaling {scaling!r} (expected {SCALING!r}).")
    return images_to_features(images, dtype=dtype)
