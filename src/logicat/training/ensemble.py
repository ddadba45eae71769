"""An ensemble and a calibration: one recipe trained K times, and the temperature of its logits.

``fit_recipe`` (``fit_members`` with the one fit) is what ``ConvNetClassifier.fit`` and
``logicat train`` call. With one member and no calibration - every model of features - it is
one fit, exactly as before. Otherwise:

- ``members="seeds"``: member k trains on every image with the seed ``random_state + k``;
- ``members="folds"``: the images are cut into K stratified folds (seeded by ``random_state``)
  and member k trains on all but fold k (seed ``random_state + k``), so each image has a logit
  from the one member that never saw it: the out-of-fold logits;
- ``calibration="temperature"``: T is fitted (``logicat.nn.output.fit_temperature``) on
  out-of-fold logits of the training images only: the members' own with "folds"; otherwise those
  of ``calibration_cv`` extra fits of one member's recipe on the training images' folds, which
  are used for that and then dropped.

Out-of-fold logits are single members' while the model decides on the members' combination
(less extreme when they disagree); the temperature fitted on them is therefore a little too
soft for a large ensemble, never too sharp. The training class mix recorded in the model is that
of all the images, weighted as the loss weighs them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from logicat.core.errors import ParameterError
from logicat.model import Model
from logicat.nn.hyperparameters import MAX_SEED
from logicat.nn.output import Output, fit_temperature, training_prior
from logicat.training.fit import Fit
from logicat.training.labels import class_weighted


def member_checkpoint(path: Path, label: str) -> Path:
    """Where an ensemble's fit ``label`` ("member-2") keeps its checkpoint, beside ``path``:
    ``ck.member-2.safetensors`` for ``--checkpoint ck.safetensors``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.{label}{path.suffix}")


def fit_labels(params: Mapping[str, Any]) -> list[str]:
    """The labels of an ensemble's fits ("member-1", ..., "calibration-1", ...), one checkpoint
    each, in the order ``fit_members`` trains them."""
    labels = [f"member-{k + 1}" for k in range(int(params.get("n_members", 1)))]
    if params.get("calibration") is not None and params.get("members") != "folds":
        labels += [f"calibration-{k + 1}" for k in range(int(params.get("calibration_cv", 5)))]
    return labels


class FitCheckpoints:
    """How an ensemble is checkpointed and resumed: one file per fit beside ``path``
    (``member_checkpoint``), each saved every ``every`` epochs (0: never on the way) and after
    its last epoch; with ``resume``, a fit whose file exists goes on from it - a finished fit
    is not trained again - so a run killed anywhere and run again ends with the parameters of
    the run never interrupted. ``interrupt`` (a ``callbacks.GracefulInterrupt``) is pointed at
    the running fit's file. Called with a fit's label: (its callbacks, its snapshot or None);
    ``written`` lists the files of the fits started."""

    def __init__(self, path: str | Path, epochs: int, every: int = 0, resume: bool = False,
                 run: Any = None, interrupt: Any = None) -> None:
        self.path, self.epochs, self.every = Path(path), int(epochs), int(every or 0)
        self.resume, self.run, self.interrupt = resume, run, interrupt
        self.written: list[Path] = []

    def __call__(self, label: str) -> tuple[list, Any]:
        from logicat.io.files import load_checkpoint
        from logicat.training.callbacks import Checkpoint

        where = member_checkpoint(self.path, label)
        self.written.append(where)
        if self.interrupt is not None:
            self.interrupt.checkpoint = Checkpoint(where, every=1, run=self.run)
        more = [Checkpoint(where, every=self.every, run=self.run)] if self.every else []
        if not self.every or self.epochs % self.every:  # and at its end, once
            more.append(Checkpoint(where, every=self.epochs, run=self.run))
        snapshot = load_checkpoint(where) if self.resume and where.is_file() else None
        return [*more, *([self.interrupt] if self.interrupt is not None else [])], snapshot


@dataclass
class Ensemble:
    """What ``fit_members`` produced: each member's ``Fit``, the output step, and the
    out-of-fold logits the temperature was fitted on (None without calibration)."""

    fits: list[Fit]
    output: Output
    oof_logits: np.ndarray | None = None

    # what callers of one Fit read: the first member's
    @property
    def result(self):
        return self.fits[0].result

    @property
    def warning(self) -> str | None:
        return next((f.warning for f in self.fits if f.warning), None)

    @property
    def held_out(self) -> np.ndarray | None:
        return self.fits[0].held_out if len(self.fits) == 1 else None

    def metadata(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return self.fits[0].metadata(params)

    def to_model(self, params: Mapping[str, Any], classes: Sequence[Any] = (0, 1)) -> Model:
        first = self.fits[0].to_model(params, classes)
        names = list(first.tensors)
        return replace(first, ensemble=[dict(zip(names, f.tensors(), strict=True))
                                        for f in self.fits[1:]], output=self.output)


def fit_members(params: Mapping[str, Any], images: Any, y01: np.ndarray,
                fit: Callable[..., Fit], callbacks: Sequence = (), *,
                sample_weight: np.ndarray | None = None, classes: Sequence[Any] = (0, 1),
                logits: Callable[[Fit, np.ndarray], np.ndarray] | None = None,
                checkpoint: Callable[[str], tuple[list, Any]] | None = None,
                resume_from: str | Path | None = None, **fit_kwargs: Any) -> Ensemble:
    """Train the ensemble and fit the calibration of ``params`` (see the module docstring).

    fit : one member's fit, ``fit(params, images, y01, callbacks, sample_weight=, classes=,
        **fit_kwargs)`` (``logicat.training.fit.fit``)
    logits : (a member's Fit, rows) -> its logits (before the output step) on those rows of
        ``images``, for the out-of-fold logits
    checkpoint : each fit's label ("member-2", "calibration-1") -> (more callbacks for it, the
        snapshot to resume it from or None): ``FitCheckpoints``, one checkpoint per fit; by
        default, a ``Checkpoint`` among ``callbacks`` saves each fit beside its path
    resume_from : a checkpoint's path: one fit's, or the path an ensemble's fits were
        checkpointed beside (each goes on from its own file, where there is one)
    """
    y01 = np.asarray(y01)
    k = int(params.get("n_members", 1))
    how, calibration = params.get("members", "seeds"), params.get("calibration")
    output = Output(combine=params.get("combine", "logit"), prior=params.get("prior", "train"))
    if k == 1 and calibration is None:  # one fit, which records its own training mix
        if resume_from is not None:
            from logicat.io.files import load_checkpoint

            fit_kwargs.update(resume=load_checkpoint(resume_from), resume_source=str(resume_from))
        done = fit(params, images, y01, callbacks, sample_weight=sample_weight, classes=classes,
                   **fit_kwargs)
        return Ensemble([done], replace(output, training_prior=done.training_prior))
    weights = class_weighted(y01, sample_weight, params["class_weight"], classes, np.float64)
    output = replace(output, training_prior=training_prior(y01, weights))
    if fit_kwargs.get("resume") is not None:
        raise ParameterError("An ensemble or a calibrated model is trained as several fits, "
                             "one checkpoint each: resume it from the path its Checkpoint was "
                             "given (resume_from=), not from one fit's snapshot.")
    if checkpoint is None:  # a Checkpoint callback saves each fit beside its own path
        from logicat.training.callbacks import Checkpoint

        saving = [c for c in callbacks if isinstance(c, Checkpoint)]
        if saving or resume_from is not None:
            first = saving[0] if saving else None
            checkpoint = FitCheckpoints(first.path if first else resume_from,
                                        int(params["max_iter"]), first.every if first else 0,
                                        resume=resume_from is not None,
                                        run=first.run if first else None)
            callbacks = [c for c in callbacks if not isinstance(c, Checkpoint)]
    if how == "folds" and k < 2:
        raise ParameterError("The 'members' parameter 'folds' trains member k on all folds but "
                             "fold k: it needs n_members >= 2. Got n_members=1 instead.")
    seed = int(params["random_state"] or 0)

    def one(rows: np.ndarray, j: int, what: str | None, label: str) -> Fit:
        for callback in callbacks:  # the bar and the cost lines say which fit this is
            if hasattr(callback, "desc"):
                callback.desc = what
        member = {**params, "random_state": (seed + j) % (MAX_SEED + 1)}
        more, resume = checkpoint(label) if checkpoint is not None else ([], None)
        kwargs = {key: value for key, value in fit_kwargs.items()
                  if key not in ("resume", "resume_source")}
        if resume is not None:
            kwargs.update(resume=resume, resume_source=resume.source)
        return fit(member, _rows(images, rows), y01[rows], [*callbacks, *more],
                   sample_weight=None if sample_weight is None else sample_weight[rows],
                   classes=classes, **kwargs)

    everything = np.arange(len(y01))
    oof = None
    # every fold drawn before the first fit: a count of images too small for them is refused
    # before any work, not after the members have trained (and written their checkpoints)
    folds = (_folds(y01, k, seed, "n_members") if how == "folds" else
             _folds(y01, int(params.get("calibration_cv", 5)), seed, "calibration_cv")
             if calibration is not None else [])
    if how == "folds":
        fits = [one(np.setdiff1d(everything, test), j, f"member {j + 1}/{k}", f"member-{j + 1}")
                for j, test in enumerate(folds)]
        if calibration is not None:
            oof = _out_of_fold(fits, folds, len(y01), logits)
    else:
        fits = [one(everything, j, f"member {j + 1}/{k}" if k > 1 else None, f"member-{j + 1}")
                for j in range(k)]
        if calibration is not None:
            extra = [one(np.setdiff1d(everything, test), 1000 + j,
                         f"calibration fit {j + 1}/{len(folds)}", f"calibration-{j + 1}")
                     for j, test in enumerate(folds)]
            oof = _out_of_fold(extra, folds, len(y01), logits)
    if oof is not None:
        output = replace(output, temperature=fit_temperature(oof, y01, weights))
    return Ensemble(fits, replace(output, members=k), oof)


def _folds(y01: np.ndarray, k: int, seed: int, parameter: str) -> list[np.ndarray]:
    """The test rows of each of ``k`` stratified folds (``StratifiedKFold``, shuffled by
    ``seed``), or a one-line error naming ``parameter`` when a class has fewer than ``k``
    images."""
    from sklearn.model_selection import StratifiedKFold

    fewest = int(np.bincount(y01.astype(int), minlength=2).min())
    if fewest < k:
        raise ParameterError(f"The '{parameter}' parameter asks for {k} folds, which need at "
                             f"least {k} images of each class; the smaller class has {fewest}.",
                             parameter=parameter)
    cut = StratifiedKFold(k, shuffle=True, random_state=seed % 2**32)
    return [test for _, test in cut.split(np.zeros(len(y01)), y01)]


def _out_of_fold(fits: Sequence[Fit], folds: Sequence[np.ndarray], m: int,
                 logits: Callable[[Fit, np.ndarray], np.ndarray] | None) -> np.ndarray:
    if logits is None:
        raise ParameterError("a calibration needs the members' logits (logits=...).")
    z = np.empty(m)
    for done, rows in zip(fits, folds, strict=True):
        z[rows] = logits(done, rows)
    return z


def _rows(images: Any, rows: np.ndarray) -> Any:
    """Those rows of ``images``: an array's, or a packed file's (read when trained on)."""
    if hasattr(images, "chunks") and hasattr(images, "x"):
        from logicat.training.examples import RowsOf

        return RowsOf(images, rows)
    return np.asarray(images)[rows]


def member_logits(done: Fit, params: Mapping[str, Any], images: Any, rows: np.ndarray
                  ) -> np.ndarray:
    """One fit's logits (its test-time augmentation included, before any output step) on those
    ``rows`` of ``images`` (in memory, or a packed file): an ensemble's out-of-fold logits."""
    from logicat.training.examples import image_source

    x = image_source(images).rows(np.asarray(rows))
    features = x.reshape(len(x), -1)
    if features.dtype == np.uint8:
        features = features / 255.0
    return done.to_model(params).member_logits(features)[0]


def fit_recipe(params: Mapping[str, Any], examples: Any, y01: np.ndarray,
               callbacks: Sequence = (), **kwargs: Any) -> Ensemble:
    """Every fit the recipe ``params`` asks for - one (any model), or an ensemble's members
    and its calibration (``fit_members``) - each by the one fit (``training.fit.fit``), which
    takes ``kwargs`` beyond ``fit_members``' own (``distributed``, ``chunk_rows``, ``warm``,
    ``resume``)."""
    from logicat.training.fit import fit

    return fit_members(params, examples, y01, fit, callbacks,
                       logits=lambda one, rows: member_logits(one, params, examples, rows),
                       **kwargs)
