"""Classes 6, 7 and 9: sizes declared by an input are checked before anything is allocated;
every invalid option value exits 2, and so does a combination the training data's class counts
cannot hold, before the first fit; one-class training data is refused on every path.

The sizes are beyond any machine (2^40 rows, 10^15 iterations), so the tests do not depend on
how much memory this one has.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import h5py
import numpy as np
import pytest

from logicat.cli import main
from logicat.cli.options import FiniteFloat, PositiveFloat
from logicat.core.errors import ParameterError
from logicat.data import load_image
from tests.hostile.common import CAT_DATA, PHOTOS, assert_refused, cli, photos, snapshot

CLASSES = np.array([b"non-cat", b"cat"])


def _h5(path: Path, make) -> Path:
    with h5py.File(path, "w") as f:
        make(f)
        if "list_classes" not in f:
            f["list_classes"] = CLASSES
    return path


def _declared(m: int, side: int = 64, **storage):
    def make(f):
        f.create_dataset("train_set_x", shape=(m, side, side, 3), dtype=np.uint8,
                         chunks=(1, min(side, 64), min(side, 64), 3), **storage)
        f.create_dataset("train_set_y", shape=(m,), dtype=np.int64, chunks=(min(m, 1024),),
                         **storage)
    return make


def _linked(kind):
    def make(f):
        if kind == "external":
            f["train_set_x"] = h5py.ExternalLink(str(CAT_DATA / "train_catvnoncat.h5"),
                                                 "train_set_x")
        else:
            f["train_set_x"] = h5py.SoftLink("/loop")
            f["loop"] = h5py.SoftLink("/train_set_x")
        f["train_set_y"] = np.array([0, 1])
    return make


def _external_storage(folder):
    def make(f):
        raw = folder / "pixels.raw"
        raw.write_bytes(bytes(2 * 64 * 64 * 3))
        f.create_dataset("train_set_x", shape=(2, 64, 64, 3), dtype=np.uint8,
                         external=[(str(raw), 0, h5py.h5f.UNLIMITED)])
        f["train_set_y"] = np.array([0, 1])
    return make


H5_CASES = {
    "2^40 rows, nothing stored": (_declared(2**40), "stores 0 bytes"),
    "2^40 rows, compressed": (_declared(2**40, compression="gzip"), "of memory"),
    "65536 x 65536 images, compressed": (_declared(2, 65536, compression="gzip"),
                                         "up to 4096x4096"),
    "an external link": (_linked("external"), "external link"),
    "a soft-link loop": (_linked("soft"), "soft link"),
    "data in another file": (None, "other files"),
}


@pytest.mark.parametrize("case", H5_CASES)
@pytest.mark.parametrize("how", ["in memory", "--train-file"])
def test_a_data_file_is_checked_before_it_is_read(case, how, tmp_path):
    make, message = H5_CASES[case]
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(CAT_DATA / "test_catvnoncat.h5", data)
    bad = _h5(data / "train_catvnoncat.h5", make or _external_storage(tmp_path))
    before = snapshot(tmp_path)
    args = ["train", "-n", 1, "--print-every", 0, "--out", tmp_path / "m.safetensors"]
    args += ["--data-dir", data] if how == "in memory" else ["--train-file", bad]
    status, output = cli(args)
    assert_refused(status, output, code=1, names=str(bad), before=before, folders=(tmp_path,))
    assert message in output


OPTION_CASES = {
    "--iterations 10**15": (["train", "--iterations", 10**15], "max_iter"),
    "--dot-size 10**15": (["bench", "vectorize", "--dot-size", 10**15], "--dot-size"),
    "--alpha nan": (["train", "--alpha", "nan"], "--alpha"),
    "--alpha inf": (["train", "--alpha", "inf"], "--alpha"),
    "--tol nan": (["train", "--tol", "nan"], "--tol"),
    "--momentum nan": (["train", "--momentum", "nan"], "--momentum"),
    "--validation-fraction nan": (["train", "--validation-fraction", "nan"],
                                  "--validation-fraction"),
    "--validation-fraction 0.001": (["train", "--early-stopping", "--validation-fraction",
                                     0.001], "--validation-fraction"),
    "--validation-fraction 0.999": (["train", "--early-stopping", "--validation-fraction",
                                     0.999], "--validation-fraction"),
    "mlp --validation-fraction 0.001": (["train", "--model", "mlp", "--early-stopping",
                                         "--validation-fraction", 0.001],
                                        "--validation-fraction"),
    "convnet --validation-fraction 0.001": (["train", "--model", "convnet", "--early-stopping",
                                             "--validation-fraction", 0.001],
                                            "--validation-fraction"),
    "--seed -1": (["train", "--seed", "-1"], "--seed"),
    "--seed 2**64": (["train", "--hidden", 3, "--seed", 2**64], "--seed"),
    "convnet --seed 2**64": (["train", "--model", "convnet", "--seed", 2**64], "--seed"),
    "--iterations 10**7": (["train", "-n", 10**7], "--iterations"),
    "--hidden of 65 layers": (["train", "--hidden", ",".join(["2"] * 65)], "--hidden"),
    "--hidden 10**23": (["train", "--hidden", 10**23], "--hidden"),
    "--hidden that no memory holds": (["train", "--hidden", "1000000,1000000"],
                                      "the network of hidden layers 1000000,1000000 on 12288"),
    "sweep --hidden 10**9": (["sweep", "--hidden", 10**9], "'hidden_layer_sizes' parameter"),
    "convnet --param widths=10**6": (["train", "--model", "convnet", "--param",
                                      "widths=1000000"], "--param"),
    "convnet --param hidden=10**9": (["train", "--model", "convnet", "--param",
                                      "hidden=1000000000"], "--param"),
    "convnet --param learning_rate=1e300": (["train", "--model", "convnet", "--param",
                                             "learning_rate=1e300"], "--param"),
    "convnet --param mixup=1e308": (["train", "--model", "convnet", "--param", "mixup=1e308"],
                                    "--param"),
    "--learning-rate 1e400": (["train", "--learning-rate", "1e400"], "--learning-rate"),
    "serve --max-upload-mb nan": (["serve", "-m", "x", "--max-upload-mb", "nan"],
                                  "--max-upload-mb"),
    "serve --body-timeout 0": (["serve", "-m", "x", "--body-timeout", "0"], "--body-timeout"),
    "pack --size 0": (["pack", "a", "b.h5", "--size", "0"], "--size"),
    "plot calibration --bins 0": (["plot", "calibration", "-m", "x", "--out", "x.png",
                                   "--bins", "0"], "--bins"),
}


@pytest.mark.parametrize("case", OPTION_CASES)
def test_every_invalid_option_value_is_a_usage_error(case, tmp_path):
    args, names = OPTION_CASES[case]
    status, output = cli(args)
    assert_refused(status, output, code=2, names=names)


#: issue 31, item 9: combinations that can only fail against the class counts are refused
#: before the first fit, so no member's checkpoint is left behind (5 photos of each class, 4
#: of them trained on)
LATE_COMBINATIONS = {
    "calibration_cv=20 (the issue's run)": (["--param", "calibration=temperature", "--param",
                                            "calibration_cv=20"], "calibration_cv"),
    "two seed members, calibration_cv=5": (["--param", "n_members=2", "--param",
                                            "calibration=temperature", "--param",
                                            "calibration_cv=5"], "calibration_cv"),
    "n_members=5 members=folds": (["--param", "n_members=5", "--param", "members=folds"],
                                  "n_members"),
    "n_members=20 members=folds, calibrated": (["--param", "n_members=20", "--param",
                                                "members=folds", "--param",
                                                "calibration=temperature"], "n_members"),
}


@pytest.mark.parametrize("case", LATE_COMBINATIONS)
def test_a_combination_the_class_counts_cannot_hold_is_refused_before_training(
        case, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    photos(tmp_path / "small")
    (tmp_path / "calo").mkdir()
    params, parameter = LATE_COMBINATIONS[case]
    status, output = cli(["train", "--images", tmp_path / "small", "--model", "convnet",
                          "--param", "widths=4", "--param", "max_iter=1", *params,
                          "--out", tmp_path / "calo" / "out.safetensors"])
    assert_refused(status, output, code=2, names=f"'{parameter}' parameter")
    assert "Cost after" not in output and list((tmp_path / "calo").iterdir()) == []


@pytest.mark.parametrize(("fraction", "holds", "needs"), [
    (0.001, 0, "held out (validation_fraction >= 0.007 here)"),
    (0.999, 209, "left for training (validation_fraction <= 0.993 here)"),
])
def test_a_validation_set_without_both_classes_is_refused_with_the_range_that_works(
        fraction, holds, needs, tmp_path):
    status, output = cli(["train", "--early-stopping", "--validation-fraction", fraction,
                          "--out", tmp_path / "m.safetensors"])
    assert_refused(status, output, code=2, names="--validation-fraction")
    assert output.splitlines()[-1] == (
        f"Error: Invalid value for '--validation-fraction': validation_fraction={fraction} "
        f"holds out {holds} of the 209 images; early stopping needs at least one image of each "
        f"class {needs}.")
    assert list(tmp_path.iterdir()) == []


def _parameters(command: click.Command, prefix: str = ""):
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _parameters(sub, f"{prefix} {name}")
    else:
        for param in command.params:
            yield f"{prefix.strip()} {param.name}", param


NUMBER_PARAMS = [(name, p) for name, p in _parameters(main)
                 if isinstance(p.type, click.types.FloatParamType | click.types.IntParamType
                               | PositiveFloat)]


@pytest.mark.parametrize("name, param", NUMBER_PARAMS, ids=[n for n, _ in NUMBER_PARAMS])
def test_no_number_option_lets_nan_or_infinity_through(name, param):
    """Every numeric option of every command: its type refuses nan, inf and -inf itself (so
    the refusal is click's usage error), and an int option has a lower bound."""
    assert isinstance(param.type, FiniteFloat | PositiveFloat | click.IntRange), name
    if isinstance(param.type, click.IntRange):
        assert param.type.min is not None, name
    for text in ("nan", "inf", "-inf", "1e400"):
        with pytest.raises(click.BadParameter):
            param.type.convert(text, param, None)


def test_load_image_refuses_a_size_it_cannot_hold():
    with pytest.raises(ParameterError, match="'size' parameter must be an int in"):
        load_image(PHOTOS / "rocket.jpg", size=100_000)


def test_chunk_rows_beyond_the_file_read_the_file_in_one_chunk(tmp_path):
    status, output = cli(["train", "--train-file", CAT_DATA / "train_catvnoncat.h5", "-n", 1,
                          "--print-every", 0, "--chunk-rows", 10**15, "--out",
                          tmp_path / "m.safetensors"])
    assert status == 0, output
    assert "chunks of 1000000000000000" in output  # what was asked, read as one chunk of 209


def _one_class(path: Path) -> Path:
    with h5py.File(CAT_DATA / "train_catvnoncat.h5") as f:
        x = f["train_set_x"][:20]
    return _h5(path, lambda f: (f.create_dataset("train_set_x", data=x),
                                f.create_dataset("train_set_y", data=np.ones(20, np.int64))))


@pytest.mark.parametrize("how", ["in memory", "--train-file", "convnet", "convnet --train-file"])
def test_one_class_training_data_is_refused(how, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(CAT_DATA / "test_catvnoncat.h5", data)
    bad = _one_class(data / "train_catvnoncat.h5")
    args = ["train", "-n", 1, "--print-every", 0, "--out", tmp_path / "m.safetensors"]
    args += ["--train-file", bad] if how.endswith("--train-file") else ["--data-dir", data]
    args += ["--model", "convnet", "--param", "widths=4"] if how.startswith("convnet") else []
    before = snapshot(tmp_path)
    status, output = cli(args)
    assert_refused(status, output, code=1, names=str(bad), before=before, folders=(tmp_path,))
    assert "must hold both classes (0 and 1). Got only class 1 (20 examples)" in output
