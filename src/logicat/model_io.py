"""Model files: weights in safetensors, everything else as JSON in its header.

A model file holds three tensors - ``coef`` (n,), ``intercept`` (1,), ``cost_history``
(n_iter,) - and one header entry, ``logicat``, a JSON object with the image size, the pixel order,
the scaling, the class names and which one is positive, the hyperparameters, the logicat
version and the SHA-256 of the training data. safetensors never executes code on load (unlike
pickle). Saving writes a temporary file in the same folder and renames it over the target, so an
interrupted save never replaces a good model with a broken one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from logicat.errors import ModelFileError

FORMAT = "logicat-model"
FORMAT_VERSION = 1
_HEADER_KEY = "logicat"
_MAX_HEADER = 100_000_000  # safetensors' own limit on the JSON header


def save_model(clf: Any, path: str | Path, **metadata: Any) -> Path:
    """Write a fitted ``LogisticRegression`` to ``path`` atomically.

    Keyword arguments are extra metadata stored in the header (JSON-serialisable), e.g.
    ``preprocessing={"image_size": 64, ...}``, ``class_names=["non-cat", "cat"]``,
    ``training_data={"sha256": ...}``, ``metrics={...}``. They are merged over the metadata the
    model was loaded with, if any.
    """
    from safetensors.numpy import save
    from sklearn.utils.validation import check_is_fitted

    from logicat import __version__

    check_is_fitted(clf)
    path = Path(path)
    header = dict(getattr(clf, "metadata_", {}) or {})
    header.update(metadata)
    header.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        logicat_version=__version__,
        n_features=int(clf.n_features_in_),
        dtype=str(clf.coef_.dtype),
        classes=clf.classes_.tolist(),
        hyperparameters=_json_params(clf.get_params()),
        n_iter=int(clf.n_iter_),
    )
    header.setdefault("class_names", [str(c) for c in clf.classes_])
    header.setdefault("positive_class", header["class_names"][1])
    tensors = {
        "coef": np.ascontiguousarray(clf.coef_),
        "intercept": np.array([clf.intercept_], dtype=clf.coef_.dtype),
        "cost_history": np.ascontiguousarray(clf.cost_history_, dtype=np.float64),
    }
    # Feature standardisation fitted in training (LogisticRegression(standardize=True)): its
    # statistics are tensors, its choice is in the header; the model applies it when predicting.
    header["feature_standardization"] = None
    if getattr(clf, "feature_mean_", None) is not None:
        tensors["feature_mean"] = np.ascontiguousarray(clf.feature_mean_)
        tensors["feature_scale"] = np.ascontiguousarray(clf.feature_scale_)
        header["feature_standardization"] = "x' = (x - feature_mean) / feature_scale"
    data = save(tensors, metadata={_HEADER_KEY: json.dumps(header)})
    atomic_write_bytes(path, data, "model")
    clf.metadata_ = header
    return path


def atomic_write_bytes(path: Path, data: bytes, what: str = "file") -> None:
    """Write ``data`` to a temporary file next to ``path``, fsync it, rename it over ``path``.

    An interrupted write (an error, Ctrl-C, a full disk) leaves ``path`` as it was and no
    temporary file behind. Model files, checkpoints and ONNX exports are all written this way.
    """
    if not path.parent.is_dir():
        raise ModelFileError(
            f"{path}: cannot save the {what}, folder {path.parent} does not exist."
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The header of a logicat model file, validated, without reading the weights."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ModelFileError(f"{path}: not a logicat model (file is {len(head)} bytes).")
            n = int.from_bytes(head, "little")
            size = path.stat().st_size
            if n > _MAX_HEADER or n > size - 8:
                raise ModelFileError(
                    f"{path}: not a logicat model, or truncated (its header claims {n} bytes, "
                    f"the file has {size})."
                )
            raw = f.read(n)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file.") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a folder, not a model file.") from None
    except PermissionError:
        raise ModelFileError(f"{path}: permission denied.") from None
    try:
        header = json.loads(raw)
        meta = json.loads(header["__metadata__"][_HEADER_KEY])
    except (ValueError, KeyError, TypeError):
        raise ModelFileError(
            f"{path}: not a logicat model (a safetensors header with logicat metadata was "
            "expected)."
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a logicat model (format is not {FORMAT!r}).")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {meta.get('format_version')!r} is not supported "
            f"(this logicat reads version {FORMAT_VERSION})."
        )
    return meta


def load_model(path: str | Path) -> Any:
    """Read a model file written by ``save_model`` and return a fitted ``LogisticRegression``.

    Raises ``ModelFileError`` with a one-line message for a missing, truncated, corrupted or
    foreign file, or one whose tensors do not match its metadata.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from logicat.estimator import LogisticRegression

    path = Path(path)
    meta = read_metadata(path)
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(f"{path}: corrupted model file ({_first_line(e)}).") from None
    n = meta.get("n_features")
    expected = {"coef": (n,), "intercept": (1,), "cost_history": (meta.get("n_iter"),)}
    for name, shape in expected.items():
        if name not in tensors:
            raise ModelFileError(f"{path}: the tensor {name!r} is missing.")
        if tensors[name].shape != shape:
            raise ModelFileError(
                f"{path}: tensor {name!r} has shape {tensors[name].shape}, but the metadata "
                f"says {shape}."
            )
    classes = meta.get("classes")
    if not isinstance(classes, list) or len(classes) != 2:
        raise ModelFileError(f"{path}: the metadata must list 2 classes. Got {classes!r}.")
    coef = tensors["coef"]
    if not np.all(np.isfinite(coef)) or not np.isfinite(tensors["intercept"][0]):
        raise ModelFileError(f"{path}: the weights contain NaN or infinity.")

    clf = LogisticRegression(**_known_params(meta.get("hyperparameters", {})))
    clf.coef_ = coef
    clf.intercept_ = float(tensors["intercept"][0])
    clf.classes_ = np.array(classes)
    clf.n_features_in_ = int(n)
    clf.n_iter_ = int(meta["n_iter"])
    clf.cost_history_ = tensors["cost_history"]
    if meta.get("feature_standardization"):
        for name in ("feature_mean", "feature_scale"):
            t = tensors.get(name)
            if t is None or t.shape != (n,) or not np.all(np.isfinite(t)):
                raise ModelFileError(
                    f"{path}: the tensor {name!r} must hold {n} finite values for the feature "
                    "standardisation its metadata names."
                )
        if not np.all(tensors["feature_scale"] > 0):
            raise ModelFileError(f"{path}: the tensor 'feature_scale' must be > 0.")
        clf.feature_mean_ = tensors["feature_mean"]
        clf.feature_scale_ = tensors["feature_scale"]
    clf.metadata_ = meta
    return clf


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters that JSON can hold (callbacks and generators are dropped)."""
    out = {}
    for key, value in params.items():
        if isinstance(value, np.generic):
            value = value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            out[key] = value
    return out


def _known_params(params: dict[str, Any]) -> dict[str, Any]:
    from logicat.estimator import LogisticRegression

    known = LogisticRegression().get_params()
    return {k: v for k, v in params.items() if k in known}


def _first_line(e: BaseException) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__
