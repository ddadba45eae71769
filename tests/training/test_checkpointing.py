"""A fit with checkpoints (``logicat.training.checkpointing``): stopped by Ctrl-C anywhere and
run again, one fit or an ensemble's several end where the run never interrupted ends; an
ensemble's files are kept or removed as asked."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from logicat.io.files import load_checkpoint
from logicat.training.callbacks import TrainingInterrupted
from logicat.training.checkpointing import (
    Checkpointing,
    fit_checkpointed,
    fit_ensemble_checkpointed,
    fit_planned,
)
from logicat.training.ensemble import fit_members, member_checkpoint
from logicat.training.fit import fit
from logicat.training.hyperparameters import CONVNET_DEFAULTS, DEFAULTS
from tests.conftest import TINY

PARAMS = {**DEFAULTS, "optimizer": "adam", "learning_rate": 0.05, "batch_size": 16,
          "random_state": 0, "max_iter": 20}


def ctrl_c_on_call(n: int):
    """A callback that presses Ctrl-C once, on its n-th call (counted over every fit it sees)."""
    calls = []

    def press(state) -> None:
        calls.append(state.iteration)
        if len(calls) == n:
            os.kill(os.getpid(), signal.SIGINT)
    return press


def test_one_fit_interrupted_and_resumed_ends_as_the_whole_run(problem, tmp_path):
    X, y = problem
    X = np.ascontiguousarray(X, np.float64)
    plan = Checkpointing(tmp_path / "run.safetensors", every=5)
    whole = fit(PARAMS, X, y)
    with pytest.raises(TrainingInterrupted) as e:
        fit_checkpointed(fit, PARAMS, X, y, plan, callbacks=[ctrl_c_on_call(12)])
    assert e.value.path == plan.path and e.value.iteration == 12
    again = fit_checkpointed(fit, PARAMS, X, y, plan.resuming())
    for a, b in zip(again.result.params, whole.result.params, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again.result.cost_history, whole.result.cost_history)
    plain = fit_checkpointed(fit, PARAMS, X, y, Checkpointing(None))  # no path: the plain fit
    np.testing.assert_array_equal(plain.result.params[0], whole.result.params[0])


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (24, 16, 16, 3), dtype=np.uint8)
    return x, np.arange(24) % 2


def _members(params, images, y, callbacks=(), **kwargs):
    from logicat.training.fit import fit as fit_convnet

    return fit_members(params, images, y, fit_convnet, callbacks, **kwargs)


@pytest.mark.parametrize("keep", [True, False])
def test_an_ensemble_interrupted_in_its_second_member_goes_on_exactly(images, tmp_path, keep):
    pytest.importorskip("torch")
    from logicat.training.hyperparameters import CONVNET_DEFAULTS

    x, y = images
    params = {**CONVNET_DEFAULTS, **TINY, "widths": (4,), "n_members": 2, "max_iter": 4,
              "device": "cpu", "random_state": 0}
    plan = Checkpointing(tmp_path / "ens.safetensors", every=1)
    whole = _members(params, x, y)
    with pytest.raises(TrainingInterrupted):  # member 2's epoch 3 of 4
        fit_ensemble_checkpointed(_members, params, x, y, plan, [ctrl_c_on_call(7)], keep=keep)
    first, second = (member_checkpoint(plan.path, f"member-{k}") for k in (1, 2))
    assert first.is_file() and second.is_file()  # an interrupted run keeps them, always
    again = fit_ensemble_checkpointed(_members, params, x, y, plan.resuming(), keep=keep)
    for a, b in zip(again.fits, whole.fits, strict=True):
        for p, q in zip(a.result.params, b.result.params, strict=True):
            np.testing.assert_array_equal(p, q)
    assert first.is_file() is keep and second.is_file() is keep  # ended: kept only if asked


def test_the_plan_runs_every_fit_a_recipe_asks_for(problem, images, tmp_path):
    """``fit_planned``, ``logicat train``'s one call: one fit (any model) in one file; an
    ensemble one file per fit; another process of a data-parallel fit (``main=False``) resumes
    from the same file and writes none."""
    pytest.importorskip("torch")
    X, y = problem
    X = np.ascontiguousarray(X, np.float64)
    plan = Checkpointing(tmp_path / "one.safetensors", every=10)
    one = fit_planned(PARAMS, X, y, plan)
    np.testing.assert_array_equal(one.result.params[0], fit(PARAMS, X, y).result.params[0])
    assert load_checkpoint(plan.path).meta["epoch"] == 20
    quiet = fit_planned(PARAMS, X, y, Checkpointing(tmp_path / "one.safetensors",
                                                    resume=True), main=False)
    np.testing.assert_array_equal(quiet.result.params[0], one.result.params[0])
    x, labels = images
    params = {**CONVNET_DEFAULTS, **TINY, "n_members": 2}
    several = Checkpointing(tmp_path / "ens.safetensors", every=1)
    ensemble = fit_planned(params, x, labels, several)
    assert len(ensemble.fits) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ens.member-1.safetensors", "ens.member-2.safetensors", "one.safetensors"]
