"""Training checkpoints: the whole state of a run, in a safetensors file written atomically.

A checkpoint holds the parameters, the costs so far, the optimizer's state (velocities, Adam's
moments and step count), the random generator's state (for the mini-batch shuffling), the
stopping rule's counters and the hyperparameters, so that ``fit(..., resume_from=path)``
continues exactly where the run stopped: a resumed run equals an uninterrupted one bit for bit.

Arrays are safetensors tensors; everything else is one JSON entry in the header. Nothing is
pickled, so loading a checkpoint never executes code. Writing goes to a temporary file in the same
folder, renamed over the target: an interrupted save never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from logicat.errors import ModelFileError
from logicat.model_io import atomic_write_bytes
from logicat.optim import Snapshot

FORMAT = "logicat-checkpoint"
FORMAT_VERSION = 1
_HEADER_KEY = "logicat_checkpoint"


def save_checkpoint(path: str | Path, snapshot: Snapshot) -> Path:
    """Write ``snapshot`` to ``path`` (atomically) and return the path."""
    from safetensors.numpy import save

    path = Path(path)
    meta = dict(snapshot.meta, format=FORMAT, format_version=FORMAT_VERSION)
    tensors = {k: np.ascontiguousarray(v) for k, v in snapshot.tensors.items()}
    data = save(tensors, metadata={_HEADER_KEY: json.dumps(meta)})
    atomic_write_bytes(path, data, what="checkpoint")
    return path


def load_checkpoint(path: str | Path) -> Snapshot:
    """Read a checkpoint written by ``save_checkpoint`` (one-line ``ModelFileError`` if not)."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such checkpoint file.")
    try:
        with safe_open(path, framework="numpy") as f:
            header = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118
        meta = json.loads(header[_HEADER_KEY])
    except (SafetensorError, OSError, ValueError, KeyError, TypeError) as e:
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ModelFileError(f"{path}: not a logicat checkpoint ({why}).") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a logicat checkpoint (format is not {FORMAT!r}).")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: checkpoint format version {meta.get('format_version')!r} is not supported "
            f"(this logicat reads version {FORMAT_VERSION})."
        )
    return Snapshot(tensors, meta)
