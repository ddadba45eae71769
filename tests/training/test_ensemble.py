"""``fit_members``: which rows each member and each calibration fit sees, the out-of-fold
logits the temperature is fitted on, and the model the ensemble becomes. A spy stands in for
the ConvNet's fit: it records its rows and "predicts" a logit from each row's number, so every
step is checked without training anything."""

from types import SimpleNamespace

import numpy as np
import pytest

from logicat.core.errors import ParameterError
from logicat.nn.families import logistic_layers
from logicat.nn.output import fit_temperature
from logicat.training.ensemble import fit_members
from logicat.training.fit import Fit

PARAMS = {"class_weight": None, "random_state": 7, "n_members": 1, "members": "seeds",
          "combine": "logit", "calibration": None, "calibration_cv": 3, "prior": "train"}


class Spy:
    """A fit that records (seed, the rows it trained on); its model's logit of row r is
    r / 10 - 2 plus its seed / 1000 (so members differ)."""

    def __init__(self):
        self.fits = []

    def __call__(self, params, images, y01, callbacks=(), *, sample_weight=None,
                 classes=(0, 1), **kwargs):
        rows = np.asarray(images)[:, 0].astype(int)
        self.fits.append((params["random_state"], frozenset(rows.tolist())))
        result = SimpleNamespace(params=[np.array([params["random_state"]], float), np.zeros(1)],
                                 cost_history=np.zeros(1), val_cost_history=None, n_iter=1,
                                 best_iteration=None, stopped=None)
        done = Fit(result, "spy", logistic_layers(), (1,), training_prior=float(np.mean(y01)))
        done.trained_rows = rows
        return done


def logits_of(log):
    def logits(member, rows):
        assert not set(np.asarray(rows).tolist()) & set(member.trained_rows.tolist()), (
            "an out-of-fold logit came from a member that trained on that image")
        log.append(frozenset(np.asarray(rows).tolist()))
        return np.asarray(rows) / 10 - 2 + member.result.params[0][0] / 1000
    return logits


def data(m=30, positives=12):
    return np.arange(m)[:, None].astype(float), (np.arange(m) < positives).astype(int)


def test_one_member_without_calibration_is_one_plain_fit():
    spy, (x, y) = Spy(), data()
    done = fit_members(PARAMS, x, y, spy)
    assert spy.fits == [(7, frozenset(range(30)))]
    assert done.output.members == 1 and done.output.temperature == 1.0
    assert done.output.training_prior == pytest.approx(12 / 30)
    assert done.oof_logits is None


def test_seed_members_train_on_every_image_with_their_own_seed():
    spy, (x, y) = Spy(), data()
    done = fit_members({**PARAMS, "n_members": 3}, x, y, spy)
    assert spy.fits == [(7, frozenset(range(30))), (8, frozenset(range(30))),
                        (9, frozenset(range(30)))]
    assert done.output.members == 3 and done.held_out is None


def test_fold_members_leave_out_one_stratified_fold_each_and_calibrate_on_it():
    spy, log, (x, y) = Spy(), [], data()
    done = fit_members({**PARAMS, "n_members": 3, "members": "folds",
                        "calibration": "temperature"}, x, y, spy, logits=logits_of(log))
    left_out = [frozenset(range(30)) - rows for _, rows in spy.fits]
    assert len(spy.fits) == 3  # no extra fit: the members' own folds give the logits
    assert sorted(len(f) for f in left_out) == [10, 10, 10]
    assert frozenset().union(*left_out) == frozenset(range(30))
    assert all(sum(1 for r in fold if r < 12) == 4 for fold in left_out)  # stratified
    assert log == left_out  # each member scored exactly the fold it never saw
    z = np.empty(30)
    for (seed, _), fold in zip(spy.fits, left_out, strict=True):
        idx = np.array(sorted(fold))
        z[idx] = idx / 10 - 2 + seed / 1000
    np.testing.assert_allclose(done.oof_logits, z)
    assert done.output.temperature == pytest.approx(fit_temperature(z, y))


def test_calibrating_seed_members_takes_extra_fits_on_the_training_folds():
    spy, log, (x, y) = Spy(), [], data()
    done = fit_members({**PARAMS, "n_members": 2, "calibration": "temperature"}, x, y, spy,
                       logits=logits_of(log))
    members, extra = spy.fits[:2], spy.fits[2:]
    assert [rows for _, rows in members] == [frozenset(range(30))] * 2
    assert len(extra) == 3 and all(len(rows) == 20 for _, rows in extra)
    assert frozenset().union(*log) == frozenset(range(30))
    assert done.output.members == 2  # the extra fits are dropped
    model = done.to_model(PARAMS)
    assert len(model.members) == 2 and model.output.temperature == done.output.temperature


def test_the_training_mix_is_weighted_as_the_loss_weighs_it():
    spy, (x, y) = Spy(), data()
    done = fit_members({**PARAMS, "n_members": 2, "class_weight": "balanced"}, x, y, spy)
    assert done.output.training_prior == pytest.approx(0.5)


def test_refusals():
    spy, (x, y) = Spy(), data()
    with pytest.raises(ParameterError, match="needs n_members >= 2"):
        fit_members({**PARAMS, "members": "folds", "calibration": "temperature"}, x, y, spy,
                    logits=logits_of([]))
    with pytest.raises(ParameterError, match="one checkpoint each: resume it from the path"):
        fit_members({**PARAMS, "n_members": 2}, x, y, spy, resume=object())
    with pytest.raises(ParameterError, match="at least 20 images of each class"):
        fit_members({**PARAMS, "n_members": 20, "members": "folds"}, x, y, spy)


@pytest.mark.parametrize("params, parameter", [
    ({"n_members": 2, "calibration": "temperature", "calibration_cv": 13}, "calibration_cv"),
    ({"n_members": 13, "members": "folds"}, "n_members"),
    ({"n_members": 13, "members": "folds", "calibration": "temperature"}, "n_members"),
])
def test_folds_too_many_for_the_class_counts_are_refused_before_the_first_fit(params,
                                                                              parameter):
    spy, (x, y) = Spy(), data()  # 12 positives: 13 folds cannot hold one of each
    with pytest.raises(ParameterError, match=f"^The '{parameter}' parameter asks for 13 "
                       "folds, which need at least 13 images of each class; the smaller class "
                       "has 12.") as err:
        fit_members({**PARAMS, **params}, x, y, spy, logits=logits_of([]))
    assert err.value.parameter == parameter
    assert spy.fits == []  # nothing trained, so nothing checkpointed


def test_the_bar_and_the_cost_lines_say_which_fit_runs():
    from logicat.training.callbacks import PrintCost

    seen, lines = [], []
    printer = PrintCost(1, write=lines.append, unit="epoch")

    class Recording(Spy):
        def __call__(self, params, images, y01, callbacks=(), **kwargs):
            seen.append(callbacks[0].desc)
            callbacks[0](SimpleNamespace(iteration=0, cost=0.5))
            return super().__call__(params, images, y01, callbacks, **kwargs)

    x, y = data()
    fit_members({**PARAMS, "n_members": 2, "calibration": "temperature", "calibration_cv": 2},
                x, y, Recording(), [printer], logits=logits_of([]))
    assert seen == ["member 1/2", "member 2/2", "calibration fit 1/2", "calibration fit 2/2"]
    assert lines[0] == "member 1/2: Cost after epoch 0: 0.500000"


def test_an_estimators_ensemble_interrupted_in_its_second_member_resumes_to_the_whole_run(
        cat_data, tmp_path):
    """The ensemble's checkpoint policy is training's, not the command line's: a
    ``Checkpoint`` callback saves each fit beside its path, and ``fit(resume_from=path)`` goes
    on from each fit's own file - the first member, finished, is not trained again - ending
    with the parameters of the run never interrupted."""
    pytest.importorskip("torch")
    from logicat import NetworkClassifier
    from logicat.layers import BatchNorm, Conv2d, Dense, GlobalAvgPool, ReLU, Residual
    from logicat.training.callbacks import Checkpoint
    from logicat.training.ensemble import member_checkpoint

    X, y = cat_data.train_x[:48], cat_data.train_y[:48]
    layers = [Conv2d(4, stride=2), BatchNorm(), ReLU(),
              Residual([Conv2d(4), BatchNorm()]), ReLU(), GlobalAvgPool(), Dense(1)]
    recipe = dict(layers=layers, max_iter=3, batch_size=16, device="cpu", n_members=2,
                  members="folds", calibration="temperature")
    whole = NetworkClassifier(**recipe).fit(X, y)

    class Stop(Exception):
        pass

    seen = []

    def stop_in_the_second_member(state):
        seen.append(state.iteration)
        if seen.count(1) == 2:  # epoch 1 of the second fit
            raise Stop

    path = tmp_path / "ck.safetensors"
    with pytest.raises(Stop):
        NetworkClassifier(**recipe, callbacks=[Checkpoint(path, every=1),
                                               stop_in_the_second_member]).fit(X, y)
    assert member_checkpoint(path, "member-2").is_file()
    trained = []
    resumed = NetworkClassifier(**recipe, callbacks=[lambda s: trained.append(s.iteration)]
                                ).fit(X, y, resume_from=path)
    assert trained == [1, 2]  # member 1 finished; member 2 goes on after its saved epoch 0
    assert resumed.temperature_ == whole.temperature_
    for a, b in zip(whole.members_, resumed.members_, strict=True):
        for name in a:
            np.testing.assert_array_equal(b[name], a[name])
