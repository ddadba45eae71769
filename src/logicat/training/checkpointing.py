"""A fit with checkpoints: the policy of saving and resuming a run, for any fit and any front end.

``fit_planned`` runs every fit a recipe asks for with its checkpoints - the one call of
``logicat train``. ``fit_checkpointed`` runs one fit (``training.fit.fit``)
saving a checkpoint every ``every`` iterations (or epochs) and on Ctrl-C, and resuming from
one when asked; ``fit_ensemble_checkpointed`` does the same for the several fits of an ensemble
or a calibration (``training.ensemble.fit_members``), one file per fit beside the path
(``ensemble.FitCheckpoints``), so that a run killed anywhere and run again redoes no finished
fit and ends with the parameters of the run never interrupted. A Ctrl-C saves the running fit's
checkpoint and raises ``callbacks.TrainingInterrupted`` (its ``path``, its ``iteration``): what
to say of it, and how to exit, is the caller's (``logicat train`` prints the command that goes
on and exits 130).

    plan = Checkpointing("run.safetensors", every=100)
    done = fit_checkpointed(fit, params, X, y, plan)            # ... Ctrl-C: TrainingInterrupted
    done = fit_checkpointed(fit, params, X, y, plan.resuming())  # goes on exactly
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Checkpointing:
    """Where a run's checkpoints go (``path``; None: none), every how many iterations or epochs
    one is saved on the way (0 or None: only on Ctrl-C, and, for an ensemble's fits, at each
    fit's end), whether the run goes on from them (``resume``), and what each records of the
    command that started the run (``run``: ``cli/resume.record``'s, or None)."""

    path: Path | None
    every: int | None = None
    resume: bool = False
    run: Any = None

    def resuming(self) -> Checkpointing:
        return replace(self, resume=True)


def fit_checkpointed(fit: Callable[..., Any], params: Any, X: Any, y: Any, plan: Checkpointing,
                     callbacks: Sequence = ()) -> Any:
    """``fit(params, X, y, callbacks=...)`` with ``plan``'s checkpoints: every ``plan.every``
    iterations, on Ctrl-C (then ``TrainingInterrupted``), and resumed from ``plan.path`` with
    ``plan.resume``. Without a path, the plain fit."""
    from logicat.io.files import load_checkpoint
    from logicat.training.callbacks import Checkpoint, GracefulInterrupt

    if plan.path is None:
        return fit(params, X, y, callbacks=list(callbacks))
    extra = [Checkpoint(plan.path, every=plan.every, run=plan.run)] if plan.every else []
    resume = load_checkpoint(plan.path) if plan.resume else None
    with GracefulInterrupt(plan.path, run=plan.run) as interrupt:
        return fit(params, X, y, callbacks=[*callbacks, *extra, interrupt], resume=resume,
                   resume_source=str(plan.path))


def fit_ensemble_checkpointed(fit_all: Callable[..., Any], params: Any, images: Any, y: Any,
                              plan: Checkpointing, callbacks: Sequence = (), *,
                              keep: bool = True) -> Any:
    """``fit_all(params, images, y, callbacks=..., checkpoint=...)`` (``fit_members``' form)
    with one checkpoint per fit beside ``plan.path``: every ``plan.every`` epochs and at each
    fit's end; with ``plan.resume``, a fit whose file exists goes on from it. Ctrl-C saves the
    running fit's file and raises ``TrainingInterrupted``. Unless ``keep``, the files are
    removed once every fit has ended, or as soon as one fails (an error, a divergence): nothing
    is left behind that was not asked for; an interrupted run keeps them to go on from."""
    from logicat.training.callbacks import GracefulInterrupt, TrainingInterrupted
    from logicat.training.ensemble import FitCheckpoints

    interrupt = GracefulInterrupt(plan.path, run=plan.run)
    checkpoint = FitCheckpoints(plan.path, int(params["max_iter"]), plan.every or 0,
                                plan.resume, plan.run, interrupt)
    try:
        with interrupt:
            return fit_all(params, images, y, callbacks=list(callbacks), checkpoint=checkpoint)
    except TrainingInterrupted:
        keep = True
        raise
    finally:
        if not keep:
            for where in checkpoint.written:
                where.unlink(missing_ok=True)


def fit_planned(params: Any, examples: Any, y: Any, plan: Checkpointing,
                callbacks: Sequence = (), *, main: bool = True, keep: bool = True,
                **fit_kwargs: Any) -> Any:
    """Every fit the recipe ``params`` asks for (``training.ensemble.fit_recipe``: one, or an
    ensemble's members and calibration) with ``plan``'s checkpoints: one file for one fit
    (``fit_checkpointed``), one per fit for several (``fit_ensemble_checkpointed``, their
    files kept as ``keep`` says). ``main``: this process keeps the books; another process of
    the same data-parallel fit (``distributed``) runs it without callbacks or checkpoints,
    resumed from the same file. ``fit_kwargs`` go to every fit."""
    from functools import partial

    from logicat.training.ensemble import fit_recipe

    fit = partial(fit_recipe, **fit_kwargs)
    if not main:
        from logicat.io.files import load_checkpoint

        resume = load_checkpoint(plan.path) if plan.resume and plan.path else None
        return fit(params, examples, y, resume=resume, resume_source=str(plan.path))
    if int(params.get("n_members", 1)) > 1 or params.get("calibration") is not None:
        return fit_ensemble_checkpointed(fit, params, examples, y, plan, callbacks, keep=keep)
    return fit_checkpointed(fit, params, examples, y, plan, callbacks)
