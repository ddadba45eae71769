"""The ConvNet's solver in several processes: ``logicat train --model convnet --nproc 2`` trains
the model one process trains (the same batches and augmentation on every process, each process's
share of each batch, the gradients and the batch-norm statistics summed over both).

"The same" in float32 means: as close as the computation is to itself. Adam turns the order of
float32 sums into differences of about a percent within a few epochs (issue 26), and one process
with 1 thread and with 2 threads sums in two orders too; that difference is the floor two
processes are judged against, with the one PyTorch's plain kernels (another summation order, as
another processor's) show, measured on the machine that runs the test, on the default
architecture."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

from safetensors.numpy import load_file  # noqa: E402

#: three epochs of the default ConvNet (16-32-64-128 channels), as ``make demo`` trains it
COMMON = ["train", "--model", "convnet", "-n", "3", "--seed", "5", "--device", "cpu",
          "--print-every", "1"]
#: a residual network of one's own (``train --layers``): an identity and a 1x1-conv shortcut
RESIDUAL = [
    {"type": "conv2d", "filters": 8}, {"type": "batchnorm"}, {"type": "relu"},
    {"type": "maxpool"},
    {"type": "residual", "body": [{"type": "conv2d", "filters": 8}, {"type": "batchnorm"},
                                  {"type": "relu"}, {"type": "conv2d", "filters": 8},
                                  {"type": "batchnorm"}]}, {"type": "relu"},
    {"type": "residual", "body": [{"type": "conv2d", "filters": 16, "stride": 2},
                                  {"type": "batchnorm"}, {"type": "relu"},
                                  {"type": "conv2d", "filters": 16}, {"type": "batchnorm"}]},
    {"type": "relu"}, {"type": "gap"}, {"type": "dense", "units": 1}]


def _train(tmp_path, name, threads, *extra, **variables):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), LOGICAT_DIST_TIMEOUT="120",
               **variables)
    out = tmp_path / f"{name}.safetensors"
    done = subprocess.run([sys.executable, "-m", "logicat", *COMMON, "-o", str(out), *extra],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return done, load_file(out)


def _difference(a, b):
    """The largest relative difference of a tensor, ||a - b|| / ||b||, over the float tensors."""
    return max(float(np.linalg.norm(a[k].astype(np.float64) - b[k]) / np.linalg.norm(b[k]))
               for k in b if b[k].dtype.kind == "f" and np.linalg.norm(b[k]) > 0)


@pytest.mark.slow  # four runs of each architecture, one of them by torchrun
@pytest.mark.parametrize("network", ["convnet", "residual"])
def test_two_processes_train_the_convnet_one_process_trains(tmp_path, network):
    net = []
    if network == "residual":  # with the batch mixing of issue 28: CutMix or mixup each batch
        (tmp_path / "net.json").write_text(json.dumps(RESIDUAL))
        net = ["--layers", str(tmp_path / "net.json"), "--param", "cutmix=1.0", "--param",
               "mixup=0.2", "--param", "average=swa", "--param", "average_start=0.3"]
    _, one = _train(tmp_path, "one", 1, *net)
    _, two_threads = _train(tmp_path, "two-threads", 2, *net)
    _, plain = _train(tmp_path, "plain-kernels", 1, *net, ATEN_CPU_CAPABILITY="default")
    two_done, two = _train(tmp_path, "two-processes", 1, *net, "--nproc", "2")
    assert two_done.stderr == ""  # no warning, no second report
    assert two_done.stdout.count("Cost after epoch 0:") == 1  # rank 0 alone prints
    assert "Saved the model to" in two_done.stdout
    assert one.keys() == two.keys() == two_threads.keys() == plain.keys()
    # the floor: the same run summed in other orders, by 2 threads, by PyTorch's plain kernels
    # (as a processor without vector units would run them)
    threads, kernels = _difference(two_threads, one), _difference(plain, one)
    floor, ddp = max(threads, kernels), _difference(two, one)
    assert ddp <= 3 * floor, (
        f"2 processes differ from 1 by {ddp:.3g} (the largest relative difference of a tensor), "
        f"more than 3 x the floor {floor:.3g}: 1 process with 2 threads differs from 1 thread by "
        f"{threads:.3g}, with PyTorch's plain kernels by {kernels:.3g}")


# ------------------------------------------------------------------ weight averaging
def _tiny(**more):
    from tests.conftest import TINY

    return {**TINY, "max_iter": 4, **more}


def test_swa_ends_with_the_mean_of_the_weights_after_its_epochs(cat_data):
    """Averaging does not change the run: the weights SWA ends with are the mean of the same
    run's weights after epochs 2 and 3 (average_start 0.5 of 4 epochs); the batch norms'
    statistics are recomputed for them."""
    from logicat import ConvNetClassifier

    X, y = cat_data.train_x[:48], cat_data.train_y[:48]
    seen = []
    plain = ConvNetClassifier(**_tiny(callbacks=[lambda s: seen.append(
        [p.copy() for p in s.params])])).fit(X, y)
    swa = ConvNetClassifier(**_tiny(average="swa", average_start=0.5)).fit(X, y)
    names = list(plain.params_)
    for i, name in enumerate(names):
        if name.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue
        mean = (seen[2][i].astype(np.float64) + seen[3][i]) / 2
        np.testing.assert_allclose(swa.params_[name], mean, rtol=1e-5, atol=1e-6, err_msg=name)
    assert not np.array_equal(swa.params_["features.1.running_var"],
                              plain.params_["features.1.running_var"])


@pytest.mark.parametrize("average", ["ema", "swa"])
def test_an_averaged_run_resumes_exactly(cat_data, tmp_path, average):
    from logicat import ConvNetClassifier
    from logicat.training.callbacks import Checkpoint

    X, y = cat_data.train_x[:48], cat_data.train_y[:48]
    recipe = _tiny(average=average, average_decay=0.9, average_start=0.25)
    whole = ConvNetClassifier(**recipe).fit(X, y)

    class Stop(Exception):
        pass

    def stop_after_epoch_2(state):
        if state.iteration == 2:
            raise Stop

    path = tmp_path / "ck.safetensors"
    with pytest.raises(Stop):
        ConvNetClassifier(**recipe, callbacks=[Checkpoint(path, every=1),
                                               stop_after_epoch_2]).fit(X, y)
    resumed = ConvNetClassifier(**recipe).fit(X, y, resume_from=path)
    for name, value in whole.params_.items():
        np.testing.assert_array_equal(resumed.params_[name], value, err_msg=name)


def test_averaging_and_what_it_does_not_go_with_are_refused_in_one_line(cat_data):
    from logicat import ConvNetClassifier
    from logicat.core.errors import ParameterError

    X, y = cat_data.train_x[:32], cat_data.train_y[:32]
    for bad, message in [({"average": "mean"}, "The 'average' parameter must be"),
                         ({"average": "ema", "early_stopping": True}, "choose one"),
                         ({"average": "ema", "average_decay": 1.0}, "'average_decay'")]:
        with pytest.raises(ParameterError, match=message) as err:
            ConvNetClassifier(**_tiny(**bad)).fit(X, y)
        assert "\n" not in str(err.value)
