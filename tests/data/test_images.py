"""Single images: every real photo, every colour mode and format, the resize policy, the errors."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logicat.core.errors import ImageLoadError
from logicat.data import load_image, load_images
from tests.conftest import assert_one_line_error

PHOTOS = [
    "tabby_cat.jpg",
    "cat_in_iran.jpg",
    "chelsea_cat.png",
    "coffee.png",
    "rocket.jpg",
    "camera_gray.png",
    "logo_rgba.png",
]


# --- the real photos ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", PHOTOS)
def test_every_photo_loads_as_64x64_rgb(photos_dir, name):
    image = load_image(photos_dir / name)
    assert image.shape == (64, 64, 3)
    assert image.dtype == np.uint8
    assert image.std() > 5  # a picture, not a flat colour


def test_greyscale_photo_repeats_its_grey_in_r_g_b(photos_dir):
    image = load_image(photos_dir / "camera_gray.png")
    assert np.array_equal(image[..., 0], image[..., 1])
    assert np.array_equal(image[..., 1], image[..., 2])


def test_opaque_rgba_photo_equals_its_rgb_pixels(photos_dir):
    # The logo's alpha is 255 everywhere, so compositing onto white must change nothing.
    with Image.open(photos_dir / "logo_rgba.png") as im:
        expected = np.asarray(im.convert("RGB").resize((64, 64), Image.Resampling.LANCZOS))
    assert np.array_equal(load_image(photos_dir / "logo_rgba.png"), expected)


def test_png_photo_is_a_lanczos_resize_of_the_whole_picture(photos_dir):
    # 451x300 -> 64x64: the aspect ratio is not kept and nothing is cropped.
    with Image.open(photos_dir / "chelsea_cat.png") as im:
        expected = np.asarray(im.convert("RGB").resize((64, 64), Image.Resampling.LANCZOS))
    assert np.array_equal(load_image(photos_dir / "chelsea_cat.png"), expected)


def test_other_sizes(photos_dir):
    assert load_image(photos_dir / "tabby_cat.jpg", size=32).shape == (32, 32, 3)
    assert load_image(photos_dir / "tabby_cat.jpg", size=200).shape == (200, 200, 3)


@pytest.mark.parametrize("size", [0, -1, 2.5, True, "64"])
def test_bad_size_is_a_value_error(photos_dir, size):
    with pytest.raises(ValueError, match=r"'size' parameter must be an int in \[1, 4096\]"):
        load_image(photos_dir / "tabby_cat.jpg", size=size)


def test_file_objects_load_and_stay_open(photos_dir):
    expected = load_image(photos_dir / "tabby_cat.jpg")
    with open(photos_dir / "tabby_cat.jpg", "rb") as f:
        assert np.array_equal(load_image(f), expected)
        assert not f.closed
    buffer = io.BytesIO((photos_dir / "tabby_cat.jpg").read_bytes())
    assert np.array_equal(load_image(buffer), expected)


@pytest.mark.parametrize(("source", "got"), [
    (42, "42 (int)"), (b"\xff\xd8", "b'\\xff\\xd8' (bytes)"), (None, "None (NoneType)")])
def test_a_source_that_is_not_a_path_or_file_is_a_type_error(source, got):
    expected = "source must be a path (str or os.PathLike) or a binary file object"
    with pytest.raises(TypeError, match=re.escape(expected)) as err:
        load_image(source)
    assert str(err.value).endswith(f"Got {got} instead.")
    with pytest.raises(TypeError, match=re.escape(expected)):
        load_images([source])


# --- every mode and format ---------------------------------------------------------------------


def _save(tmp_path: Path, image: Image.Image, name: str, **params) -> Path:
    path = tmp_path / name
    image.save(path, **params)
    return path


RGB = (200, 100, 50)


@pytest.mark.parametrize(
    ("name", "mode", "fill", "expected", "tolerance"),
    [
        ("rgb.png", "RGB", RGB, RGB, 0),
        ("rgb.jpg", "RGB", RGB, RGB, 3),
        ("rgb.webp", "RGB", RGB, RGB, 3),
        ("rgb.bmp", "RGB", RGB, RGB, 0),
        ("rgb.tiff", "RGB", RGB, RGB, 0),
        ("grey.png", "L", 77, (77, 77, 77), 0),
        ("grey.jpg", "L", 77, (77, 77, 77), 1),
        ("one_bit.png", "1", 1, (255, 255, 255), 0),
        ("one_bit.bmp", "1", 0, (0, 0, 0), 0),
        ("cmyk.tiff", "CMYK", (0, 255, 255, 0), (255, 0, 0), 0),
        ("cmyk.jpg", "CMYK", (0, 255, 255, 0), (255, 0, 0), 3),
        ("opaque.png", "RGBA", (*RGB, 255), RGB, 0),
        ("grey_alpha.png", "LA", (77, 255), (77, 77, 77), 0),
    ],
)
def test_modes_and_formats(tmp_path, name, mode, fill, expected, tolerance):
    path = _save(tmp_path, Image.new(mode, (90, 50), fill), name)
    image = load_image(path)
    assert image.shape == (64, 64, 3)
    assert image.dtype == np.uint8
    assert np.abs(image.astype(int) - expected).max() <= tolerance


def test_palette_image(tmp_path):
    palette = Image.new("RGB", (40, 40), RGB).convert("P", palette=Image.Palette.ADAPTIVE)
    path = _save(tmp_path, palette, "palette.png")
    with Image.open(path) as im:
        assert im.mode == "P"
    assert np.array_equal(np.unique(load_image(path).reshape(-1, 3), axis=0), [RGB])


@pytest.mark.parametrize("name", ["transparent.png", "transparent.webp", "transparent.tiff"])
def test_transparent_pixels_become_white_not_black(tmp_path, name):
    # Left half opaque red, right half fully transparent black.
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[:, :32] = (255, 0, 0, 255)
    path = _save(tmp_path, Image.fromarray(rgba, "RGBA"), name, lossless=True)
    image = load_image(path).astype(int)
    assert np.abs(image[:, :28] - (255, 0, 0)).max() <= 2
    assert np.abs(image[:, 36:] - 255).max() <= 2


def test_half_transparent_pixels_are_mixed_with_white(tmp_path):
    path = _save(tmp_path, Image.new("LA", (64, 64), (0, 128)), "half.png")
    assert np.abs(load_image(path).astype(int) - 127).max() <= 1


def test_palette_with_transparency_composites_onto_white(tmp_path):
    image = Image.new("P", (64, 64), 0)
    image.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (0, 0, 32, 64))  # left half blue, right half index 0 = transparent black
    path = _save(tmp_path, image, "palette_trns.png", transparency=0)
    with Image.open(path) as im:
        assert im.mode == "P" and "transparency" in im.info
    result = load_image(path).astype(int)
    assert np.abs(result[:, :28] - (0, 0, 255)).max() <= 2
    assert np.abs(result[:, 36:] - 255).max() <= 2


def test_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (40, 40), colour) for colour in [(255, 0, 0), (0, 0, 255)]]
    path = tmp_path / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    with Image.open(path) as im:
        assert im.n_frames == 2
    assert np.array_equal(np.unique(load_image(path).reshape(-1, 3), axis=0), [(255, 0, 0)])


def test_16_bit_greyscale_is_scaled_not_clipped(tmp_path):
    # Columns of 0, 128*257 and 65535: Pillow's convert("L") would clip the last two to 255.
    values = np.zeros((64, 96), np.uint16)
    values[:, 32:64] = 128 * 257
    values[:, 64:] = 65535
    path = _save(tmp_path, Image.fromarray(values), "grey16.png")
    with Image.open(path) as im:
        assert im.mode.startswith("I")
    image = load_image(path, size=96)[:, :, 0].astype(int)  # 96x96 keeps the columns
    assert np.abs(image[:, 4:28] - 0).max() <= 1
    assert np.abs(image[:, 36:60] - 128).max() <= 1
    assert np.abs(image[:, 68:92] - 255).max() <= 1


def test_16_bit_tiff(tmp_path):
    path = _save(tmp_path, Image.new("I;16", (50, 50), 257 * 40), "grey16.tiff")
    with Image.open(path) as im:
        assert im.mode == "I;16"
    assert np.array_equal(np.unique(load_image(path)), [40])


@pytest.mark.parametrize(
    ("mode", "fill", "expected"),
    [("I", 100, 100), ("I", 1000, round(1000 / 257)), ("F", 0.5, 128), ("F", 200.0, 200)],
)
def test_32_bit_greyscale_is_scaled_by_the_range_that_holds_it(tmp_path, mode, fill, expected):
    path = _save(tmp_path, Image.new(mode, (40, 40), fill), f"{mode}.tiff")
    with Image.open(path) as im:
        assert im.mode == mode
    assert np.array_equal(np.unique(load_image(path)), [expected])


def test_exif_orientation_is_applied(tmp_path):
    # Stored 80 wide x 40 high, left half red, right half blue; orientation 6 = rotate 90 deg
    # clockwise to display, so the displayed picture has red on top and blue below.
    pixels = np.zeros((40, 80, 3), np.uint8)
    pixels[:, :40] = (255, 0, 0)
    pixels[:, 40:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(tmp_path, Image.fromarray(pixels), "rotated.jpg", exif=exif, quality=95)
    image = load_image(path).astype(int)
    assert np.abs(image[4:24] - (255, 0, 0)).max() < 40
    assert np.abs(image[40:60] - (0, 0, 255)).max() < 40


def test_large_jpeg_decodes_at_reduced_scale_close_to_a_full_decode(tmp_path, rng):
    # A 1024x768 photo-like JPEG: smooth gradients plus noise.
    yy, xx = np.mgrid[0:768, 0:1024]
    pixels = np.stack([xx / 8, yy / 6, (xx + yy) / 14], axis=-1) % 256
    pixels = (pixels + rng.normal(0, 8, pixels.shape)).clip(0, 255).astype(np.uint8)
    path = _save(tmp_path, Image.fromarray(pixels), "big.jpg", quality=90)
    with Image.open(path) as im:
        full = np.asarray(im.resize((64, 64), Image.Resampling.LANCZOS)).astype(int)
    with Image.open(path) as im:
        im.draft("RGB", (64, 64))
        assert im.size == (128, 96)  # what load_image decodes: 1/8 of each side
        drafted = np.asarray(im.resize((64, 64), Image.Resampling.LANCZOS))
    image = load_image(path)
    assert np.array_equal(image, drafted)
    assert np.abs(image.astype(int) - full).mean() < 4  # and close to a full decode


# --- errors ------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.jpg"
    with pytest.raises(ImageLoadError) as err:
        load_image(path)
    assert_one_line_error(err, path, "no such file")


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageLoadError) as err:
        load_image(tmp_path)
    assert_one_line_error(err, tmp_path, "is a folder")


@pytest.mark.parametrize("content", [b"", b"hello, I am not a picture\n"])
def test_not_an_image(tmp_path, content):
    path = tmp_path / "notes.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError) as err:
        load_image(path)
    assert_one_line_error(err, path, "not an image file")


@pytest.mark.parametrize("name", ["tabby_cat.jpg", "chelsea_cat.png"])
def test_truncated_image(tmp_path, photos_dir, name):
    data = (photos_dir / name).read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError) as err:
        load_image(path)
    assert_one_line_error(err, path, "cannot decode the image data")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header(width: int, height: int) -> bytes:
    """A 100-byte PNG that declares width x height RGB pixels and holds almost none of them."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(bytes(64))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("width", "height"), [(12_000, 9_000), (40_000, 40_000)])
def test_decompression_bomb_is_refused_before_decoding(tmp_path, width, height):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header(width, height))
    with pytest.raises(ImageLoadError) as err:
        load_image(path)
    assert_one_line_error(err, path, "refused before decoding")


def test_pixel_limit_is_configurable(photos_dir):
    path = photos_dir / "tabby_cat.jpg"  # 300x168 = 50400 pixels
    with pytest.raises(ImageLoadError) as err:
        load_image(path, max_pixels=50_000)
    assert_one_line_error(err, path, "300x168 = 50400 pixels, more than the limit of 50000")
    assert load_image(path, max_pixels=50_400).shape == (64, 64, 3)


def test_load_images_skips_unreadable_files(tmp_path, photos_dir):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    paths = [
        photos_dir / "tabby_cat.jpg",
        broken,
        tmp_path / "missing.jpg",
        photos_dir / "coffee.png",
    ]
    images, ok, failures = load_images(paths, size=32)
    assert images.shape == (2, 32, 32, 3) and images.dtype == np.uint8
    assert ok == [paths[0], paths[3]]
    assert [path for path, _ in failures] == [broken, paths[2]]
    assert "not an image file" in failures[0][1]
    assert failures[1][1] == "no such file"
    assert np.array_equal(images[1], load_image(photos_dir / "coffee.png", size=32))


def test_load_images_of_nothing():
    images, ok, failures = load_images([])
    assert images.shape == (0, 64, 64, 3) and ok == [] and failures == []
