"""Fixtures of the command-line tests: a model trained on your own photos."""

from __future__ import annotations

import pytest

from tests.conftest import invoke
from tests.data.test_image_sets import photo_folder


@pytest.fixture(scope="module")
def own_photos(tmp_path_factory, cat_data):
    """``(photos, model)``: 60 JPEGs of the cat data in photos/cat/ and photos/dogs/, and a
    logistic regression trained on them by ``train --images`` (48 trained on, 12 held out),
    with the folder cache in the module's own folder."""
    root = tmp_path_factory.mktemp("own")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        photos = photo_folder(root / "photos", cat_data, n=60, classes=("cat", "dogs"))
        model = root / "mine.safetensors"
        result = invoke("train", "--images", photos, "-n", 50, "--print-every", 0, "--out",
                        model)
        assert result.exit_code == 0, result.output
        yield photos, model
