"""What the web app computes, without the web: decode uploads, predict, describe the model.

``Predictor`` wraps a model (``logicat.model.Model``) and uses the same functions as ``logicat
predict``: ``logicat.data.load_image`` (decoding, EXIF, resize; pixel limit checked before
decoding) and ``Model.features`` (the features the model was trained on). Uploads are decoded
from memory (``io.BytesIO``); nothing is written to disk.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np

from logicat.core.errors import ImageLoadError, ModelFileError
from logicat.data.images import load_image
from logicat.model import Model
from logicat.nn.layers import output_layer
from logicat.nn.summary import meaningful
from logicat.viz.plots import training_unit
from logicat.web.uploads import UploadError

#: what a model file records of its photos that the page does not show: where they are on the
#: machine that trained it (the model's own source is shown by its file name only, likewise)
PRIVATE_DATA_KEYS = ("folder", "test_folder")


class Predictor:
    """A model, ready to answer "is this a cat?" for uploaded bytes.

    Parameters
    ----------
    model : a path to a model file written by ``logicat train``, a ``logicat.model.Model``, or
        a fitted ``LogisticRegression`` (its ``to_model()``).
    max_pixels : images with more pixels (width x height) are refused before decoding.
    prior : the class mix to decide at ("train", "balanced", a number in (0, 1); None: the
        model's own), as ``Model.at_prior`` takes it.
    """

    def __init__(self, model: Any, *, max_pixels: int,
                 prior: float | str | None = None) -> None:
        from logicat.io.files import read_model

        source = str(model) if isinstance(model, str | Path) else None
        if source is not None:
            model = read_model(model)
        elif not isinstance(model, Model):
            model = model.to_model()
        spec = model.image_preprocessing(source or "the model")
        model.check_memory()  # to predict; an explanation checks its own need when asked
        model = model.at_prior(prior)
        self.model = model
        self.meta = dict(model.metadata)
        self.spec = spec
        self.source = source
        self.max_pixels = int(max_pixels)
        self.class_names = model.class_names
        self.positive_class = model.positive_class

    def predict(self, files: list[tuple[str, bytes]], *, with_images: bool = False,
                with_explanations: bool = False) -> list[dict]:
        """p(positive class) and the label of each ``(filename, data)``, in order.

        All or nothing: the first file that cannot be decoded raises ``UploadError`` (422)
        naming it. With ``with_images``, each result also has ``input_image``, the
        ``size x size`` image the model sees, as a PNG data URL; with ``with_explanations``,
        ``explanation_image``, its ``logicat explain`` map (red pixels push p up, blue down)
        as a PNG data URL of the same size, and ``explanation_method``.
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
        try:  # a model whose logit is not a number is a 500 that says so, never a null
            proba = self.model.proba(self.model.features(images))  # (m,) p(positive class)
            if with_explanations:
                from logicat.evaluate.explain import explain
                from logicat.viz.explanations import map_colors

                explanation = explain(self.model, images)
        except ModelFileError as err:
            raise UploadError(500, "model_error", str(err)) from None
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
            if with_explanations:
                result["explanation_image"] = png_data_url(map_colors(explanation.pixel_map[i]))
                result["explanation_method"] = explanation.method
            results.append(result)
        return results

    def summary(self) -> dict:
        """What the model page shows: accuracies, hyperparameters, data checksum, ...

        ``hyperparameters`` are those the training recorded that mean something for this model
        (``nn.summary.meaningful``, as ``logicat info`` shows them), less those left
        unset (``None``: no mini-batches, no tolerance, no class weights); ``training_unit``
        says what ``n_iter`` counts, the way ``logicat train`` and ``logicat report`` say it:
        "epoch" (of mini-batches) or "iteration". ``prior`` is the class mix (the fraction of
        positives) it decides at, None when that is its unrecorded training mix; ``output`` its
        output step as the model file records it, ``output_description`` in words.
        """
        meta, model = self.meta, self.model
        history = np.asarray(model.cost_history, dtype=np.float64)
        recorded = meta.get("hyperparameters") or {}
        return {
            "source": Path(self.source).name if self.source else None,
            "class_names": self.class_names,
            "positive_class": self.positive_class,
            "architecture": model.architecture_summary,
            "prior": model.output.decision_prior(),
            "output": model.output.to_json(),
            "output_description": model.output.describe(),
            "metrics": meta.get("metrics", {}),
            "hyperparameters": {key: value for key, value in meaningful(
                recorded, recorded, model.layers).items() if value is not None},
            "training_data": {key: value for key, value in meta.get("training_data", {}).items()
                              if key not in PRIVATE_DATA_KEYS},
            "preprocessing": self.spec,
            "n_features": model.n_features,
            "n_iter": int(model.n_iter),
            "training_unit": training_unit(recorded),
            "dtype": str(model.dtype),
            "final_cost": float(history[-1]) if history.size else None,
            "intercept": float(_output_bias(model)),
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


def _output_bias(model: Model) -> float:
    """b of the output unit: the bias of the dense layer that gives the logit."""
    output = output_layer(model.layers)
    return float(model.tensors[output.tensor_names()["bias"]][0])

