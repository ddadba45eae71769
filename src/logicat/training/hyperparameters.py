"""What a run records of its hyperparameters: their JSON form, the warning that tol ran out, and
what a checkpoint records of a run, to refuse resuming it with other settings or other data.

The tables themselves - each hyperparameter's default and what it may be - are
``logicat.nn.hyperparameters`` (re-exported here).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from logicat.core.errors import ModelFileError, ParameterError
from logicat.io.files import Snapshot
from logicat.nn.hyperparameters import (  # noqa: F401 (the tables, for their users here)
    CONSTRAINTS,
    CONVNET_CONSTRAINTS,
    CONVNET_DEFAULTS,
    DEFAULTS,
    DTYPES,
    ESTIMATOR_DEFAULTS,
    MLP_DEFAULTS,
    NETWORK_DEFAULTS,
    estimator_name,
)
from logicat.training.loop import FitResult

#: Hyperparameters that may differ between a checkpointed run and its resumption.
RESUME_MAY_DIFFER = frozenset({"max_iter", "callbacks", "device", "warm_start"})


def json_params(params: Mapping[str, Any], layers: bool = False) -> dict[str, Any]:
    """The hyperparameters that JSON can hold (callbacks and generators are dropped; tuples of
    sizes become lists). A network's ``layers`` are their JSON objects with ``layers`` (what a
    checkpoint records, to resume the same network), else left out (a model file holds them
    as its architecture)."""
    out = {}
    for key, value in params.items():
        if key == "layers":
            if layers and value is not None:
                out[key] = value if isinstance(value, str) else [
                    v.to_json() if hasattr(v, "to_json") else v for v in value]
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, tuple | list) and all(isinstance(v, int | np.integer)
                                                   for v in value):
            out[key] = [int(v) for v in value]
        elif isinstance(value, tuple | list) and all(isinstance(v, float | np.floating)
                                                     for v in value):
            out[key] = [float(v) for v in value]
        elif value is None or isinstance(value, bool | int | float | str):
            out[key] = value
    return out


def data_fingerprint(*arrays: np.ndarray | None, head: str = "") -> str:
    """SHA-256 of the training data as fit sees it (``head``, e.g. a file's own SHA-256, then
    each array's dtype, shape and bytes; None is skipped), to refuse resuming on other data."""
    h = hashlib.sha256(head.encode())
    for a in arrays:
        if a is not None:
            h.update(str((a.dtype.str, a.shape)).encode())
            h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def run_meta(params, n_features: int, data_sha256: Callable[[], str]
             ) -> Callable[[], dict[str, Any]]:
    """What every checkpoint of this fit records about the run, computed once, on demand
    (``data_sha256`` hashes the data only when a checkpoint is taken or resumed)."""
    fingerprint: dict[str, Any] = {}

    def meta() -> dict[str, Any]:
        if not fingerprint:
            fingerprint.update(kind=estimator_name(params),
                               hyperparameters=json_params(params, layers=True),
                               n_features=int(n_features), data_sha256=data_sha256())
        return fingerprint

    return meta


def convergence_warning(params: Mapping[str, Any], result: FitResult) -> str | None:
    """The message of the warning that ``tol`` or early stopping ran out of iterations."""
    if not ((params["tol"] is not None or params["early_stopping"])
            and result.stopped == "max_iter"):
        return None
    what = "validation cost stopped improving" if params["early_stopping"] else "cost settled"
    return (
        f"{estimator_name(params)}: max_iter={params['max_iter']} reached before the {what} (by "
        f"tol={params['tol'] or 0.0} for n_iter_no_change={params['n_iter_no_change']} "
        "iterations); increase max_iter or the learning rate."
    )


def check_resumable(snapshot: Snapshot, mine: Mapping[str, Any], source: str) -> None:
    """The checkpoint must come from this kind of fit, these hyperparameters, this data."""
    meta = snapshot.meta
    if meta.get("kind") != mine["kind"]:
        raise ModelFileError(f"{source}: not a {mine['kind']} checkpoint: it was written by "
                             f"a {meta.get('kind')}; resume it with the model that wrote it.")
    saved, ours = meta.get("hyperparameters", {}), mine["hyperparameters"]
    # a hyperparameter added after the checkpoint was written: it ran with the default
    known = json_params(ESTIMATOR_DEFAULTS[mine["kind"]], layers=True)
    saved = {**{k: v for k, v in known.items() if k in ours}, **saved}
    for name in sorted(set(saved) | set(ours)):
        if name not in RESUME_MAY_DIFFER and saved.get(name) != ours.get(name):
            raise ParameterError(
                f"{source}: the checkpoint was written with {name}={saved.get(name)!r}, but "
                f"this estimator has {name}={ours.get(name)!r}. Resume with the same "
                "hyperparameters."
            )
    if meta.get("data_sha256") != mine["data_sha256"]:
        raise ParameterError(
            f"{source}: the checkpoint was written while training on other data (its SHA-256 "
            "differs). Resume with the same X, y and sample_weight (the same images, labels "
            "and weights)."
        )
    spans = ours.get("lr_schedule") == "cosine" or float(ours.get("warmup") or 0.0) > 0
    if spans and saved.get("max_iter") != ours.get("max_iter"):
        import warnings

        warnings.warn(
            f"{source}: the checkpoint's run was of max_iter={saved.get('max_iter')}, and its "
            f"learning-rate schedule spans the whole run: going on to max_iter="
            f"{ours.get('max_iter')} follows the schedule of a run of {ours.get('max_iter')} "
            f"from epoch {meta.get('epoch')} on, so the model is neither the first run's nor "
            "the one such a run trains from the start.",
            UserWarning, stacklevel=2)
