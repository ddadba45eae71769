"""A run as its checkpoint records it, so that ``logicat train --resume --checkpoint FILE`` alone
goes on where Ctrl-C (or a crash) stopped it.

Every checkpoint ``logicat train`` writes records its run (``Run``, under ``run`` in the
checkpoint's header): the options the run was started with, as they would be typed again (paths
made absolute, the model's ``--out`` always there), and the data it trains on, as the model file
records it (``training_data``: the file or folder and its SHA-256 - a folder's is the SHA-256 of
its files' status, ``data.folder_cache.folder_key``). Resuming, the rule is:

- an option not given is the run's;
- an option given that says how long the run goes, where it runs, what it writes besides its
  state, or how it is shown (``MAY_DIFFER``) is taken as given;
- any other option given must say what the run had: otherwise the resumption is refused,
  naming the option, what the run had, and what to do;
- the data must be what the run trained on: the same images, the same file.

A checkpoint written by the Python API (``callbacks.Checkpoint`` without a ``run``) records no
command: it is resumed with the options given, as before (``hyperparameters.check_resumable``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from logicat.core.errors import ParameterError

#: where a checkpoint's header keeps its run
RUN_KEY = "run"
#: train's options a resumed run may change: how long it goes (a run resumed with more
#: iterations goes on to them), where it runs, where its model, curve, log and checkpoints go,
#: what it prints. Everything else decides the numbers, and must be the run's.
MAY_DIFFER = frozenset({
    "--iterations", "--device", "--nproc", "--threads", "--out", "--plot", "--log-csv",
    "--checkpoint-every", "--print-every", "--quiet", "--verbose", "--chunk-rows",
})


@dataclass
class Run:
    """What a checkpoint records of the run that wrote it.

    command : train's options as they would be typed again (``["--model", "convnet",
        "--images", "/home/me/photos", "--out", "/home/me/model.safetensors"]``), without
        ``--resume`` and ``--checkpoint``
    data : the model file's record of the data trained on (``{"file": "photos/", "sha256":
        ..., "n_samples": ...}``), once it is known; None before
    """

    command: list[str]
    data: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"command": list(self.command), "data": self.data}

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> Run | None:
        """The run a checkpoint's header records (validated by ``io.validate_checkpoint``), or
        None for a checkpoint that records none."""
        record = meta.get(RUN_KEY)
        if record is None:
            return None
        return cls(list(record["command"]), record.get("data"))


def check_options(recorded: Mapping[str, str], given: Mapping[str, str], source: str) -> None:
    """Refuse an option given that contradicts the run a checkpoint recorded.

    Each mapping goes from an option (``"--model"``) to how it reads on a command line
    (``"--model convnet"``; ``""`` when the run had it unset, or at its default for a flag):
    ``recorded`` for every option of the command, ``given`` for those given now. An option of
    ``MAY_DIFFER`` may differ; any other must read the same.
    """
    for flag, text in given.items():
        if flag in MAY_DIFFER or text == recorded.get(flag, ""):
            continue
        had = recorded.get(flag, "")
        had = f"with {had}" if had else f"without {flag}"
        raise ParameterError(
            f"{text}: {source} was written by a run {had}, and --resume goes on with that "
            f"run: drop {flag} (the checkpoint says what the run trained), or train anew "
            "without --resume.")


def check_data(recorded: Mapping[str, Any] | None, current: Mapping[str, Any],
               source: str) -> None:
    """Refuse to resume on data other than what the run recorded in its checkpoint trained on
    (``recorded``: its ``Run.data``; ``current``: the record of the data loaded now). The
    options that choose the data were checked already (``check_options``), so what differs is
    the data itself: a folder's photos, or the file."""
    if recorded is None or recorded.get("sha256") == current.get("sha256"):
        return
    name = str(current.get("file"))
    what = ("images were added, removed or edited: its listing's SHA-256 differs"
            if name.endswith(("/", "\\")) else "its SHA-256 differs")
    raise ParameterError(
        f"{name}: it has changed since {source} was written ({what}); resume on the data the "
        "run trained on, or train anew without --resume.")
