"""``logicat evaluate --images DIR | --test-file FILE``: your data scored as the library scores
it, its classes matched to the model's by ``pack --positive``'s rule, the cat data refused for a
model trained on other data."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from logicat.cli.evaluation_data import positive_first
from logicat.core.errors import DataFileError
from tests.conftest import invoke as run


@pytest.fixture(scope="module")
def mine(tmp_path_factory, cat_data):
    """The cat test set as JPEG folders (cat/non-cat, and cats/dogs), packed three ways, a
    model trained on the cat data and one trained on a packed file."""
    root = tmp_path_factory.mktemp("mine")
    for folder, names in (("imgs", ("non-cat", "cat")), ("pets", ("dogs", "cats"))):
        for name in names:
            (root / folder / name).mkdir(parents=True)
        for i, (image, label) in enumerate(zip(cat_data.test_x, cat_data.test_y, strict=True)):
            Image.fromarray(image).save(root / folder / names[label] / f"{i:02d}.jpg")
    for args in (["imgs", "mine.h5"], ["pets", "pets.h5", "--positive", "cats"],
                 ["pets", "dogs.h5", "--positive", "dogs"], ["imgs", "small.h5", "--size", 32]):
        result = run("pack", *(root / a if i < 2 else a for i, a in enumerate(args)), "-j", 1)
        assert result.exit_code == 0, result.output
    for name, extra in (("cat", []), ("other", ["--train-file", root / "mine.h5"])):
        result = run("train", "-n", 20, "--print-every", 0, *extra, "--out",
                     root / f"{name}.safetensors")
        assert result.exit_code == 0, result.output
    return root


def _json(*args):
    result = run("evaluate", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_folder_is_scored_as_the_library_scores_it(mine):
    from logicat.data import load_image_folder
    from logicat.evaluate.metrics import classification_metrics
    from logicat.io.files import read_model

    model = read_model(mine / "cat.safetensors")
    folder = load_image_folder(mine / "imgs", "cat", 64)
    expected = classification_metrics(folder.labels, model.proba(model.features(folder.images)))
    out = _json("-m", mine / "cat.safetensors", "--images", mine / "imgs")
    assert out["metrics"] == pytest.approx(expected.scalars(), abs=1e-12)
    assert out["confusion_matrix"] == expected.confusion_matrix.tolist()
    assert out["data"] == {"source": str(mine / "imgs"), "split": None, "n_samples": 50,
                           "n_positive": 33, "classes": ["non-cat", "cat"], "skipped": []}
    text = run("evaluate", "-m", mine / "cat.safetensors", "--images", mine / "imgs")
    assert text.stdout.splitlines()[0] == f"test set: 50 images (33 cat) from {mine / 'imgs'}"


def test_a_packed_file_scores_like_its_folder_and_cv_folds_it(mine):
    folder = _json("-m", mine / "cat.safetensors", "--images", mine / "imgs")
    packed = _json("-m", mine / "cat.safetensors", "--test-file", mine / "mine.h5", "--cv", 2)
    assert packed["metrics"] == pytest.approx(folder["metrics"], abs=1e-12)
    assert packed["data"]["source"] == str(mine / "mine.h5")
    assert packed["cross_validation"]["data"] == str(mine / "mine.h5")
    assert packed["cross_validation"]["n_samples"] == 50
    text = run("evaluate", "-m", mine / "cat.safetensors", "--test-file", mine / "mine.h5",
               "--cv", 2)
    assert f"stratified 2-fold cross-validation on {mine / 'mine.h5'} (50 images" in text.stdout


def test_the_datas_classes_must_be_the_models(mine):
    model = mine / "cat.safetensors"
    result = run("evaluate", "-m", model, "--images", mine / "pets")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {mine / 'pets'}: no class folder named 'cat' (class folders found: cats, "
        f"dogs); {model} predicts 'cat': name the folder of its 'cat' images with --positive "
        "FOLDER.\n")
    result = run("evaluate", "-m", model, "--test-file", mine / "pets.h5")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {mine / 'pets.h5'}: expected a class named 'cat', the positive class of "
        f"{model} (or --positive NAME, the data's name for 'cat'). Got the classes 'dogs' and "
        "'cats' instead.\n")
    # mapped by pack's rule: the class named by --positive is the model's positive class
    same = _json("-m", model, "--images", mine / "imgs")["metrics"]
    for args in (["--images", mine / "pets"], ["--test-file", mine / "pets.h5"],
                 ["--test-file", mine / "dogs.h5"]):  # dogs.h5: the cats are label 0 there
        out = _json("-m", model, *args, "--positive", "cats")
        assert out["metrics"] == pytest.approx(same, abs=1e-12), args
        assert out["data"]["classes"] == ["dogs", "cats"]
    text = run("evaluate", "-m", model, "--images", mine / "pets", "--positive", "cats").stdout
    assert "           non-cat      cat\ndogs            " in text  # rows: the data's names


def test_a_model_trained_on_other_data_is_not_scored_on_the_cat_data(mine):
    other = mine / "other.safetensors"
    result = run("evaluate", "-m", other)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"Error: -m {other}: the model was trained on mine.h5, not on the cat data; pass "
        "--images DIR or --test-file FILE to say what to score it on.")
    assert _json("-m", other, "--test-file", mine / "mine.h5")["data"]["n_samples"] == 50


@pytest.mark.parametrize("command", [["report", "-o", "{d}/r.html"],
                                     ["plot", "calibration", "-o", "{d}/c.png"],
                                     ["plot", "roc", "-o", "{d}/roc.png"]])
def test_the_report_and_the_pictures_of_the_cat_data_refuse_it_too(mine, command):
    """They score the cat data's training and test images: for a model trained on other
    images, the same refusal as evaluate's, and nothing written."""
    other = mine / "other.safetensors"
    args = [str(a).format(d=mine) for a in command]
    result = run(*args[:-2], "-m", other, *args[-2:])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith(
        f"Error: -m {other}: the model was trained on mine.h5, not on the cat data; ")
    assert not (mine / args[-1].rsplit("/", 1)[-1]).exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--images", "{d}/imgs", "--test-file", "{d}/mine.h5"],
     "Invalid value for '--images': expected one data source, --images DIR or --test-file "
     "FILE. Got both instead."),
    (["--images", "{d}/imgs", "--split", "train"],
     "Invalid value for '--split': chooses from the model's own data; it does not apply to "
     "--images."),
    (["--test-file", "{d}/mine.h5", "--data-dir", "{d}"],
     "Invalid value for '--data-dir': finds the cat data; it does not apply to --test-file."),
    (["--positive", "cats"],
     "Invalid value for '--positive': names a class of --images DIR or --test-file FILE; it "
     "does not apply to the cat data."),
])
def test_options_that_do_not_go_together_are_usage_errors(mine, args, message):
    result = run("evaluate", "-m", mine / "cat.safetensors",
                 *(a.format(d=mine) for a in args))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"Error: {message}"


def test_a_file_of_another_image_size_is_refused(mine):
    result = run("evaluate", "-m", mine / "cat.safetensors", "--test-file", mine / "small.h5")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {mine / 'small.h5'}: expected images of 64x64, the size "
        f"{mine / 'cat.safetensors'} takes. Got 32x32 instead (pack it again with "
        "--image-size 64).\n")


def test_unreadable_images_are_skipped_and_said(mine, tmp_path):
    folder = tmp_path / "imgs"
    shutil.copytree(mine / "imgs", folder)
    bad = folder / "cat" / "zz.jpg"
    bad.write_bytes(b"\xff\xd8 not a JPEG")
    result = run("evaluate", "-m", mine / "cat.safetensors", "--images", folder)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:1] == ["Skipped 1 unreadable image(s):"]
    assert result.stderr.splitlines()[1].startswith(f"  {bad}: ")
    assert f"test set: 50 images (33 cat) from {folder}" in result.stdout
    out = run("evaluate", "-m", mine / "cat.safetensors", "--images", folder, "--format", "json")
    assert out.stderr == ""
    assert [s["path"] for s in json.loads(out.stdout)["data"]["skipped"]] == [str(bad)]


def test_positive_first_swaps_the_labels_or_refuses():
    y = np.array([0, 1, 1])
    assert positive_first(y, ("dog", "cat"), "cat", "f.h5", None, "m")[0] is y
    swapped, classes = positive_first(y, ("cat", "dog"), "cat", "f.h5", None, "m")
    assert swapped.tolist() == [1, 0, 0] and classes == ("dog", "cat")

    class Model:
        positive_class = "cat"

    with pytest.raises(DataFileError, match=r"^f.h5: expected a class named 'kitten', as "
                       r"--positive says \(m predicts 'cat'\)\. Got the classes 'dog' and "
                       r"'cats' instead\.$"):
        positive_first(y, ("dog", "cats"), "kitten", "f.h5", Model(), "m")
