"""The ConvNet on the one training path (``logicat.training.image_fit``): the loop's schedule,
checkpoints and exact resumption, early stopping, class and sample weights, a packed file."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("torch")

from logicat import ConvNetClassifier  # noqa: E402
from logicat.core.errors import ModelFileError, ParameterError  # noqa: E402
from logicat.data.chunks import H5Images  # noqa: E402
from logicat.data.pack import pack_image_folder  # noqa: E402
from logicat.io.files import (  # noqa: E402
    Snapshot,  # noqa: E402
    load_checkpoint,
    save_checkpoint,
)
from logicat.nn.optimizer_state import OPTIMIZERS  # noqa: E402
from logicat.training.callbacks import Checkpoint  # noqa: E402
from logicat.training.fit import fit as fit_convnet  # noqa: E402
from logicat.training.hyperparameters import CONVNET_DEFAULTS  # noqa: E402
from tests.conftest import TINY  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: four epochs, not TINY's two: a run killed after its second epoch still has two to resume, and
#: a checkpoint every two epochs is written mid-run
FOUR_EPOCHS = {**TINY, "max_iter": 4}


@pytest.fixture(scope="module")
def small(cat_data):
    """60 training images, 20 of them cats."""
    rng = np.random.default_rng(1)
    cats, others = np.flatnonzero(cat_data.train_y == 1), np.flatnonzero(cat_data.train_y == 0)
    idx = np.sort(np.concatenate([rng.choice(cats, 20, replace=False),
                                  rng.choice(others, 40, replace=False)]))
    return cat_data.train_x[idx], cat_data.train_y[idx]


def _same(a: ConvNetClassifier, b: ConvNetClassifier, atol: float = 0.0) -> None:
    assert a.params_.keys() == b.params_.keys()
    for name in a.params_:
        np.testing.assert_allclose(a.params_[name], b.params_[name], rtol=0, atol=atol,
                                   err_msg=name)
    np.testing.assert_allclose(a.cost_history_, b.cost_history_, rtol=0, atol=atol)


class _Stop(Exception):
    """Stands for the process dying (SIGKILL) right after a checkpoint was written."""


def test_the_loop_owns_the_per_step_schedule(small):
    """Each step's rate is the loop's warm-up + cosine schedule, and the loop reports each
    epoch's last one."""
    X, y = small
    seen = []
    ConvNetClassifier(**FOUR_EPOCHS, callbacks=[lambda s: seen.append(s.learning_rate)]).fit(X, y)
    steps = math.ceil(len(y) / FOUR_EPOCHS["batch_size"])  # 4 steps an epoch, 16 in all
    total, warm = 4 * steps, int(CONVNET_DEFAULTS["warmup"] * 4 * steps)
    lr = CONVNET_DEFAULTS["learning_rate"]

    def rate(t):
        if t < warm:
            return lr * (t + 1) / warm
        return lr * 0.5 * (1 + math.cos(math.pi * (t - warm) / (total - warm)))

    assert seen == pytest.approx([rate((e + 1) * steps - 1) for e in range(4)], rel=1e-12)


@pytest.mark.parametrize("hyper", [{}, dict(optimizer="nesterov", dropout=0.3, mixup=0.4,
                                            class_weight="balanced"),
                                   dict(optimizer="adam", weight_decay=1e-3, cutmix=1.0,
                                        mixup=0.2),
                                   dict(optimizer="sgd")],
                         ids=["adamw", "nesterov-dropout-mixup-weighted",
                              "adam-cutmix-or-mixup", "sgd-as-earlier-files-name-it"])
def test_a_killed_run_resumed_from_its_checkpoint_is_the_uninterrupted_run(small, tmp_path,
                                                                         hyper):
    X, y = small
    whole = ConvNetClassifier(**FOUR_EPOCHS, **hyper).fit(X, y)
    path = tmp_path / "ck.safetensors"

    def die_after_epoch_1(state):
        if state.iteration == 1:
            raise _Stop

    with pytest.raises(_Stop):
        ConvNetClassifier(**FOUR_EPOCHS, **hyper, callbacks=[Checkpoint(path, every=1),
                                                      die_after_epoch_1]).fit(X, y)
    snapshot = load_checkpoint(path)
    assert snapshot.meta["epoch"] == 2 and snapshot.meta["kind"] == "ConvNetClassifier"
    moment = "exp_avg" if hyper.get("optimizer", "adam").startswith("adam") else "momentum_buffer"
    assert {"rng.generator", "rng.dropout", f"optimizer.head.1.weight.{moment}"} <= set(
        snapshot.tensors)
    resumed = ConvNetClassifier(**FOUR_EPOCHS, **hyper).fit(X, y, resume_from=path)
    _same(resumed, whole)  # same machine, same threads: bit for bit


def test_a_checkpoint_that_names_no_layers_resumes_the_same(small, tmp_path):
    """Version 4 names the image network's layers; version 3 named none (the ConvNet's
    settings say them) and still resumes exactly as today's."""
    import json

    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    X, y = small
    path = tmp_path / "ck.safetensors"
    ConvNetClassifier(**FOUR_EPOCHS, callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    assert load_checkpoint(path).meta["architecture"]["input_shape"] == [3, 64, 64]
    with safe_open(path, framework="numpy") as f:
        meta = json.loads(f.metadata()["logicat_checkpoint"])
    del meta["architecture"]
    save_file(load_file(path), tmp_path / "v3.safetensors", metadata={
        "logicat_checkpoint": json.dumps({**meta, "format_version": 3})})
    today = ConvNetClassifier(**FOUR_EPOCHS).fit(X, y, resume_from=path)
    older = ConvNetClassifier(**FOUR_EPOCHS).fit(X, y, resume_from=tmp_path / "v3.safetensors")
    _same(older, today)


def test_resuming_with_other_settings_or_data_is_refused(small, tmp_path):
    X, y = small
    path = tmp_path / "ck.safetensors"
    ConvNetClassifier(**FOUR_EPOCHS, callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    with pytest.raises(ParameterError, match="written with widths=\\[4, 8\\]"):
        ConvNetClassifier(**{**FOUR_EPOCHS, "widths": (4, 4)}).fit(X, y, resume_from=path)
    with pytest.raises(ParameterError, match="other data"):
        ConvNetClassifier(**FOUR_EPOCHS).fit(X[::-1], y[::-1], resume_from=path)


def test_a_checkpoint_with_a_wrong_optimizer_tensor_is_refused(small, tmp_path):
    X, y = small
    path = tmp_path / "ck.safetensors"
    ConvNetClassifier(**FOUR_EPOCHS, callbacks=[Checkpoint(path, every=2)]).fit(X, y)
    snapshot = load_checkpoint(path)
    tensors = dict(snapshot.tensors)
    tensors["optimizer.features.0.weight.exp_avg"] = np.zeros((1, 2), np.float32)
    save_checkpoint(tmp_path / "bad.safetensors", Snapshot(tensors, snapshot.meta))
    with pytest.raises(ModelFileError, match="optimizer.features.0.weight.exp_avg"):
        load_checkpoint(tmp_path / "bad.safetensors")
    del tensors["rng.generator"]
    tensors["optimizer.features.0.weight.exp_avg"] = snapshot.tensors[
        "optimizer.features.0.weight.exp_avg"]
    save_checkpoint(tmp_path / "bad.safetensors", Snapshot(tensors, snapshot.meta))
    with pytest.raises(ModelFileError, match="rng.generator"):
        load_checkpoint(tmp_path / "bad.safetensors")


def test_early_stopping_holds_out_a_stratified_part_and_keeps_the_best_epoch(small):
    X, y = small
    seen = []
    clf = ConvNetClassifier(**{**TINY, "max_iter": 30}, early_stopping=True,
                            validation_fraction=0.25, n_iter_no_change=2,
                            learning_rate=0.05, callbacks=[seen.append]).fit(X, y)
    val = np.array([s.val_cost for s in seen])
    assert np.all(np.isfinite(val)) and len(val) == clf.n_iter_
    best = clf.metadata_["early_stopping"]["best_iteration"]
    assert val[best] == val.min()
    if clf.metadata_["early_stopping"]["stopped"] == "converged":
        assert clf.n_iter_ == best + 3 and clf.n_iter_ < 30  # 2 epochs without improvement
    # the kept parameters are the best epoch's: their validation cost is val[best]
    replay = []
    ConvNetClassifier(**{**TINY, "max_iter": 30}, early_stopping=True, validation_fraction=0.25,
                      n_iter_no_change=2, learning_rate=0.05,
                      callbacks=[lambda s: replay.append([p.copy() for p in s.params])
                                 if s.iteration == best else None]).fit(X, y)
    for kept, at_best in zip(clf.params_.values(), replay[0], strict=True):
        np.testing.assert_array_equal(kept, at_best)


def test_class_weight_balanced_is_sample_weight_of_the_same_values(small):
    X, y = small
    balanced = ConvNetClassifier(**FOUR_EPOCHS, class_weight="balanced").fit(X, y)
    counts = np.bincount(y)
    weights = (len(y) / (2.0 * counts))[y]
    explicit = ConvNetClassifier(**FOUR_EPOCHS).fit(X, y, sample_weight=3 * weights)  # scale-free
    _same(balanced, explicit, atol=1e-6)
    plain = ConvNetClassifier(**FOUR_EPOCHS).fit(X, y)
    assert not np.allclose(plain.cost_history_, balanced.cost_history_)
    with pytest.raises(ParameterError, match="positive total sample weight"):
        ConvNetClassifier(**FOUR_EPOCHS).fit(X, y, sample_weight=np.where(y == 1, 0.0, 1.0))


def test_one_class_is_refused_as_for_every_model(small):
    X, y = small
    with pytest.raises(ParameterError, match="2 classes"):
        ConvNetClassifier(**FOUR_EPOCHS).fit(X[y == 1], y[y == 1])
    with pytest.raises(Exception, match="both classes"):
        fit_convnet({**CONVNET_DEFAULTS, **TINY}, X[y == 1], y[y == 1])


def test_a_packed_file_trains_the_model_the_images_in_memory_train(small, tmp_path):
    """Rows read a batch at a time from ``logicat pack``'s file: the same batches, the same
    model (the channel statistics are summed in float64 from the file, in float32 by torch in
    memory: 1e-7 apart, so the models agree to float32's precision, not bit for bit)."""
    from PIL import Image

    X, y = small
    for i, (image, label) in enumerate(zip(X, y, strict=True)):
        folder = tmp_path / "photos" / ("cat" if label else "other")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:03d}.png")  # lossless: the same pixels
    pack_image_folder(tmp_path / "photos", tmp_path / "mine.h5", size=64, positive="cat",
                      workers=1)
    params = {**CONVNET_DEFAULTS, **FOUR_EPOCHS}
    with H5Images(tmp_path / "mine.h5") as source:
        from_file = fit_convnet(params, source, source.y)
        stored = source.x[:]
        labels = source.y.copy()
    in_memory = fit_convnet(params, stored, labels)
    assert sorted(map(bytes, stored)) == sorted(map(bytes, X))  # pack kept every pixel
    for a, b in zip(from_file.result.params, in_memory.result.params, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-4)
    np.testing.assert_allclose(from_file.result.cost_history, in_memory.result.cost_history,
                               rtol=0, atol=1e-5)


def test_every_rule_of_the_one_registry_trains_the_convnet_and_sgd_is_nesterov(small):
    """The ConvNet takes every update rule the dense models take (``OPTIMIZERS``); "sgd", the
    name its files had before, is Nesterov momentum (or plain descent at momentum 0)."""
    X, y = small
    fits = {name: ConvNetClassifier(**TINY, optimizer=name).fit(X, y) for name in OPTIMIZERS}
    assert len({float(f.cost_history_[-1]) for f in fits.values()}) == len(OPTIMIZERS)
    _same(ConvNetClassifier(**TINY, optimizer="sgd").fit(X, y), fits["nesterov"])
    _same(ConvNetClassifier(**TINY, optimizer="sgd", momentum=0.0).fit(X, y),
          ConvNetClassifier(**TINY, optimizer="gd", momentum=0.0).fit(X, y))
