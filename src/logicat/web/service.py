"""What the web app computes, without the web: decode uploads, predict, describe the model.

``Predictor`` wraps a fitted model and uses the same two functions as ``logicat predict``:
``logicat.data.load_image`` (decoding, EXIF, resize; pixel limit checked before decoding) and
``logicat.features.apply_preprocessing`` (the features the model was trained on). Uploads are
decoded from memory (``io.BytesIO``); nothing is written to disk.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np

from logicat.data import load_image
from logicat.errors import ImageLoadError, ModelFileError
from logicat.features import apply_preprocessing, preprocessing_spec
from logicat.web.uploads import UploadError


class Predictor:
    """A fitted image model, ready to answer "is this a cat?" for uploaded bytes.

    Parameters
    ----------
    model : a path to a model file written by ``logicat train``, or a fitted
        ``LogisticRegression`` with a ``metadata_`` dict holding its ``preprocessing`` spec.
    max_pixels : images with more pixels (width x height) are refused before decoding.
    """

    def __init__(self, model: Any, *, max_pixels: int) -> None:
        from logicat.model_io import load_model

        source = str(model) if isinstance(model, str | Path) else None
        clf = load_model(model) if source is not None else model
        meta = dict(getattr(clf, "metadata_", None) or {})
        spec = meta.get("preprocessing") or _spec_from_width(clf)
        if not spec:
            raise ModelFileError(
                f"{source or 'the model'}: this model was not trained on images "
                "(no preprocessing in its metadata, and its width is no size x size x 3)."
            )
        self.clf = clf
        self.meta = meta
        self.spec = spec
        self.source = source
        self.max_pixels = int(max_pixels)
        self.class_names = [str(c) for c in meta.get("class_names", clf.classes_)]
        self.positive_class = str(meta.get("positive_class", self.class_names[1]))

    def predict(self, files: list[tuple[str, bytes]], *, with_images: bool = False) -> list[dict]:
        """p(positive class) and the label of each ``(filename, data)``, in order.

        All or nothing: the first file that cannot be decoded raises ``UploadError`` (422)
        naming it. With ``with_images``, each result also has ``input_image``, the
        ``size x size`` image the model sees, as a PNG data URL.
        """
        size = self.spec["image_size"]
        images = np.empty((len(files), size, size, 3), np.uint8)  # (m, 64, 64, 3)
        for i, (name, data) in enumerate(files):
            source = io.BytesIO(data)
            source.name = name  # ImageLoadError messages start with it
            try:
                images[i] = load_image(source, size=size, max_pixels=self.max_pixels)
            except ImageLoadError as err:
                raise UploadError(422, "bad_image", str(err)) from None
        X = apply_preprocessing(images, self.spec, self.clf.coef_.dtype)  # (m, 12288)
        proba = self.clf.predict_proba(X)[:, 1]  # (m,) p(positive class)
        results = []
        for i, (name, data) in enumerate(files):
            p = float(proba[i])
            result = {
                "filename": name,
                "bytes": len(data),
                "probability": p,
                "label": self.class_names[int(p > 0.5)],  # as clf.predict decides
                "is_positive": bool(p > 0.5),
            }
            if with_images:
                result["input_image"] = png_data_url(images[i])
            results.append(result)
        return results

    def summary(self) -> dict:
        """What the model page shows: accuracies, hyperparameters, data checksum, ..."""
        meta, clf = self.meta, self.clf
        history = np.asarray(clf.cost_history_, dtype=np.float64)
        return {
            "source": Path(self.source).name if self.source else None,
            "class_names": self.class_names,
            "positive_class": self.positive_class,
            "metrics": meta.get("metrics", {}),
            "hyperparameters": meta.get("hyperparameters", _json_params(clf)),
            "training_data": meta.get("training_data", {}),
            "preprocessing": self.spec,
            "n_features": int(clf.n_features_in_),
            "n_iter": int(clf.n_iter_),
            "dtype": str(clf.coef_.dtype),
            "final_cost": float(history[-1]) if history.size else None,
            "intercept": float(clf.intercept_),
            "logicat_version": meta.get("logicat_version"),
        }


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 (h, w, 3) RGB array as PNG file bytes, made in memory."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(image: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def _spec_from_width(clf: Any) -> dict | None:
    """For a model fitted in this session on ``images_to_features`` output: n = s * s * 3."""
    n = int(getattr(clf, "n_features_in_", 0))
    size = round((n / 3) ** 0.5)
    return preprocessing_spec(size) if size > 0 and 3 * size * size == n else None


def _json_params(clf: Any) -> dict:
    params = clf.get_params()
    return {k: v for k, v in params.items() if v is None or isinstance(v, bool | int | float | str)}
