"""``logicat train --train-file``: the cost table and the model of in-memory training, from a
file read in chunks; what has no meaning for a file is refused."""

from __future__ import annotations

import numpy as np

from logicat.data.features import images_to_features
from logicat.estimators import LogisticRegression
from tests.conftest import invoke, write_h5
from tests.paths import CAT_DATA


def test_cli_train_file_prints_the_cost_table_and_saves(cat_h5, tmp_path, cat_data):
    out = tmp_path / "m.safetensors"
    result = invoke("train", "--train-file", str(cat_h5), "-n", "30",
                    "--print-every", "10", "--chunk-rows", "70", "-o", str(out))
    assert result.exit_code == 0, result.output
    clf = LogisticRegression(max_iter=30).fit(images_to_features(cat_data.train_x),
                                              cat_data.train_y)
    for i in (0, 10, 20):
        assert f"Cost after iteration {i}: {clf.cost_history_[i]:f}" in result.output
    # another file than the cat data's own training file: the cat test set says nothing of it
    assert "GB/s" in result.output and "test accuracy:" not in result.output
    own = invoke("train", "--train-file", str(CAT_DATA / "train_catvnoncat.h5"),
                 "-n", "30", "--print-every", "0", "-o", str(out))
    assert own.exit_code == 0, own.output
    assert "test accuracy: " in own.output
    from logicat import load_model

    loaded = load_model(out)
    np.testing.assert_allclose(loaded.coef_, clf.coef_, atol=1e-12 * np.abs(clf.coef_).max())

    result = invoke("train", "--train-file", str(cat_h5), "-n", "2",
                    "--batch-size", "50", "--seed", "1", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "mini-batch SGD (batch size 50, seed 1)" in result.output

    result = invoke("train", "--train-file", str(tmp_path / "nope.h5"), "-o", str(out))
    assert result.exit_code == 1 and "nope.h5: no such file" in result.output


def test_single_class_data_and_in_memory_options_are_refused(tmp_path, rng, cat_h5):
    x = rng.integers(0, 256, size=(12, 2, 2, 3), dtype=np.uint8)
    one = write_h5(tmp_path / "one.h5", x, np.ones(12, int))
    result = invoke("train", "--train-file", str(one), "-o", str(tmp_path / "m"))
    assert result.exit_code == 1 and "must hold both classes" in result.output
    result = invoke("train", "--train-file", str(cat_h5), "--early-stopping",
                    "-o", str(tmp_path / "m"))
    assert result.exit_code == 2 and "not available with --train-file" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.h5"]
