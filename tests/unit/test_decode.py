"""One image decoder for the zip import and Predict: 16-bit, palette, transparent, CMYK and 1-bit files by
their real range, phone photos upright by their EXIF orientation, the same pixels on both paths."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.data.image_import import read_image_folders
from core.data.own_image import open_image, preprocess_image
from core.data.pixels import BadImage, as_float_input, decode_image, normalise_mode


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def imported(files: dict[str, bytes], size: int = 16, grey: bool = False) -> dict[str, np.ndarray]:
    """Each class's first image as the zip import stores it (uint8 size×size×C); a second class of plain
    grey images makes the archive importable."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            for copy in range(2):
                archive.writestr(f"{name}/{copy}.png", data)
        for copy in range(2):
            archive.writestr(f"zz_other/{copy}.png", encoded(Image.new("L", (8, 8), 0)))
    result = read_image_folders(buffer.getvalue(), size=size, grey=grey)
    x = np.concatenate([result.arrays["x_train"], result.arrays["x_test"]])
    y = np.concatenate([result.arrays["y_train"], result.arrays["y_test"]])
    return {name: x[y == result.class_names.index(name)][0] for name in files}


def predicted(data: bytes, shape=(16, 16, 1)) -> np.ndarray:
    """What Predict hands the network for an uploaded file (no inverting)."""
    return preprocess_image(open_image(data), shape, invert=False).array


# --- 16-bit and other modes: by the format's real range ------------------------------------------


def sixteen_bit_grey(value: int, size=(20, 20)) -> bytes:
    image = Image.fromarray(np.full(size[::-1], value, dtype=np.uint16))
    assert image.mode == "I;16"
    return encoded(image)


def test_a_16_bit_mid_grey_png_is_mid_grey_in_the_import_and_in_predict():
    data = sixteen_bit_grey(32768)
    stored = imported({"grey": data}, grey=True)["grey"]
    assert stored.dtype == np.uint8 and np.all(np.abs(stored.astype(int) - 128) <= 1)  # not 255 (its brightest)
    assert np.allclose(predicted(data), 0.5, atol=0.01)  # not clipped to white


def test_a_16_bit_gradient_keeps_its_levels():
    ramp = np.tile(np.array([0, 16384, 32768, 49152, 65535], dtype=np.uint16), (5, 1))
    image = normalise_mode(Image.open(io.BytesIO(encoded(Image.fromarray(ramp))))).image
    assert image.mode == "L"
    assert np.asarray(image)[0].tolist() == [0, 64, 128, 191, 255]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (Image.new("I;16B", (4, 4), 32768), 128),
        (Image.new("I", (4, 4), 32768), 128),  # 32-bit integers hold 16-bit counts (TIFF, old PNG readers)
        (Image.new("F", (4, 4), 0.5), 128),  # floats 0..1
        (Image.new("F", (4, 4), 127.5), 128),  # floats 0..255
        (Image.new("1", (4, 4), 1), 255),
        (Image.new("L", (4, 4), 77), 77),
    ],
    ids=["I;16B", "I", "F 0..1", "F 0..255", "1-bit", "L"],
)
def test_grey_modes_become_8_bit_grey_by_their_real_range(image, expected):
    decoded = normalise_mode(image)
    assert decoded.image.mode == "L"
    assert np.all(np.abs(np.asarray(decoded.image).astype(int) - expected) <= 1)


def test_cmyk_becomes_rgb():
    cyan = Image.new("CMYK", (4, 4), (255, 0, 0, 0))
    decoded = decode_image(encoded(cyan, "JPEG", quality=95))
    assert decoded.image.mode == "RGB"
    red, green, blue = np.asarray(decoded.image).reshape(-1, 3).mean(axis=0)
    assert red < 40 and green > 215 and blue > 215


def test_a_palette_png_with_a_transparent_colour_is_filled_with_white_around_dark_content():
    image = Image.new("P", (10, 10), 0)
    image.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    image.paste(1, (3, 3, 7, 7))  # a red square; index 0 (black) is transparent
    decoded = decode_image(encoded(image, transparency=0))
    pixels = np.asarray(decoded.image)
    assert decoded.image.mode == "RGB"
    assert pixels[0, 0].tolist() == [255, 255, 255] and pixels[5, 5].tolist() == [200, 30, 30]
    assert decoded.notes == ("Transparent parts were filled with white.",)


@pytest.mark.parametrize("mode", ["LA", "RGBA"])
def test_light_drawings_on_transparency_get_a_black_background_and_stay_visible(mode):
    image = Image.new(mode, (20, 20), (0,) * len(mode))  # fully transparent
    image.paste((255,) * len(mode), (8, 2, 12, 18))  # an opaque white bar
    stored = imported({"bar": encoded(image)}, size=16, grey=True)["bar"][..., 0]
    seen = predicted(encoded(image))[..., 0]
    for pixels, white in ((stored, 255), (seen, 1.0)):
        assert pixels[8, 8] >= 0.9 * white and pixels[1, 1] <= 0.1 * white  # light bar on black, in both paths


def test_a_grey_and_alpha_png_with_dark_content_is_filled_with_white():
    image = Image.new("LA", (20, 20), (0, 0))
    image.paste((0, 255), (8, 2, 12, 18))  # an opaque black bar
    seen = predicted(encoded(image))[..., 0]
    assert seen[8, 8] < 0.1 and seen[1, 1] > 0.9


# --- orientation: phone photos are upright in both paths ------------------------------------------


def phone_photo() -> tuple[bytes, np.ndarray]:
    """A JPEG stored sideways with EXIF orientation 6 (shown rotated 90° clockwise), and how it should
    look: the stored image's left half (white) is the top half of the upright photo."""
    stored = Image.new("RGB", (64, 32), (0, 0, 0))
    stored.paste((255, 255, 255), (0, 0, 32, 32))  # left half white
    exif = stored.getexif()
    exif[0x0112] = 6
    upright = np.zeros((64, 32), dtype=bool)
    upright[:32] = True  # top half white
    return encoded(stored, "JPEG", exif=exif.tobytes(), quality=95), upright


def test_an_exif_rotated_phone_photo_is_upright_in_the_import_and_in_predict_alike():
    data, upright = phone_photo()
    decoded = decode_image(data)
    assert decoded.image.size == (32, 64)  # turned upright: taller than wide
    assert "It was turned upright, as the camera noted." in decoded.notes
    seen = predicted(data, shape=(16, 16, 1))[..., 0]  # padded to a square, then resized
    assert seen[2, 8] > 0.9 and seen[13, 8] < 0.1  # white on top, black below
    stored = imported({"photo": data}, size=16, grey=True)["photo"][..., 0]  # cropped to a centred square
    assert stored[1, 8] > 200 and stored[14, 8] < 50
    prepared = preprocess_image(open_image(data), (16, 16, 1), invert=False)
    assert "It was turned upright, as the camera noted." in prepared.steps


# --- bad files and scaling ------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"not a picture", encoded(Image.new("RGB", (30, 30)))[:60]])
def test_damaged_or_fake_files_give_one_plain_message_and_a_short_reason(data):
    with pytest.raises(BadImage) as caught:
        decode_image(data)
    assert str(caught.value).startswith("This file is not an image that can be read")
    assert caught.value.reason == "not a readable image (damaged, truncated or not really an image)"


def test_too_many_pixels_is_refused_from_the_header():
    with pytest.raises(BadImage) as caught:
        decode_image(encoded(Image.new("L", (2000, 1000))), max_pixels=1_000_000)
    assert str(caught.value) == "This image is too large (2,000×1,000 pixels); use one of at most 1 megapixels."
    assert caught.value.reason == "too many pixels (2,000×1,000; at most 1,000,000 are allowed)"


def test_pixel_arrays_are_scaled_by_their_type_s_full_range():
    assert as_float_input(np.array([0, 51, 255], dtype=np.uint8)).tolist() == pytest.approx([0, 0.2, 1])
    assert as_float_input(np.array([32768], dtype=np.uint16))[0] == pytest.approx(0.5, abs=1e-4)
    table = np.array([-1.5, 2.0], dtype=np.float64)  # a table's normalised values stay as they are
    assert as_float_input(table).tolist() == [-1.5, 2.0] and as_float_input(table).dtype == np.float32
