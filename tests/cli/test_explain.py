"""``logicat explain``: one picture per photo, each named once, the sum it prints adds up, and a
file that is no image is reported (the explanations themselves: tests/evaluate/test_explain.py)."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from tests.conftest import invoke


def test_the_command_writes_one_picture_per_photo(fitted_models, photos_dir, tmp_path):
    from logicat.io.files import save_model

    path = save_model(fitted_models["logistic"], tmp_path / "m.safetensors")
    twin = tmp_path / "other"
    twin.mkdir()
    (twin / "tabby_cat.jpg").write_bytes((photos_dir / "tabby_cat.jpg").read_bytes())
    (tmp_path / "notes.jpg").write_text("not an image")
    out = tmp_path / "maps"
    photos = [photos_dir / "tabby_cat.jpg", twin / "tabby_cat.jpg", tmp_path / "notes.jpg"]
    result = invoke("explain", "-m", str(path), *map(str, photos), "--out", str(out))
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == ["tabby_cat-2.png", "tabby_cat.png"]
    with Image.open(out / "tabby_cat.png") as picture:
        assert picture.format == "PNG" and picture.size[0] > 400
    lines = [line for line in result.output.splitlines() if "p(cat)" in line]
    assert [line.split()[-1] for line in lines] == [str(out / "tabby_cat.png"),
                                                    str(out / "tabby_cat-2.png")]
    assert lines[0].split()[1:-1] == lines[1].split()[1:-1]  # the same photo, the same answer
    for line in lines:
        pixels, b, z = (float(v) for v in re.search(
            r"\(pixels (\S+) \+ b (\S+) = z (\S+)\)", line).groups())
        assert pixels + b == pytest.approx(z, abs=2e-6)
    assert "notes.jpg" in result.output and "Traceback" not in result.output


def test_one_photos_picture_may_be_named_as_a_file(fitted_models, photos_dir, tmp_path):
    """``-o cat.png`` for one photo writes that picture (its format from the suffix), not a
    folder named cat.png; for several photos, or against --format, it is a usage error that
    writes nothing."""
    from logicat.io.files import save_model

    path = save_model(fitted_models["logistic"], tmp_path / "m.safetensors")
    photo = str(photos_dir / "tabby_cat.jpg")
    result = invoke("explain", "-m", str(path), photo, "-o", str(tmp_path / "deep" / "why.svg"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "deep" / "why.svg").read_text().lstrip().startswith("<?xml")
    assert result.output.rstrip().endswith(str(tmp_path / "deep" / "why.svg"))
    for args, said in ((["-o", str(tmp_path / "two.png"), photo, photo], "names one picture, "
                        "and there are 2 photos"),
                       (["-o", str(tmp_path / "one.png"), "--format", "pdf", photo],
                        "is a .png file, and --format says pdf")):
        refused = invoke("explain", "-m", str(path), *args)
        assert refused.exit_code == 2 and said in refused.output, refused.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "m.safetensors"]
