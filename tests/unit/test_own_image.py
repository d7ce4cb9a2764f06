"""Someone's own image for Predict / Inside: odd sizes get a plain message, work stays bounded."""

import io

import numpy as np
import pytest
from PIL import Image

from core.data import own_image
from core.data.own_image import WORKING_SIDE, BadImage, open_image, preprocess_image


def png(width: int, height: int, mode: str = "L", colour=255) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@pytest.mark.parametrize(("width", "height"), [(8000, 1), (1, 40_000_000), (4000, 150)])
def test_a_long_thin_image_is_refused_from_its_header(width, height):
    data = png(width, height)
    assert len(data) < 200_000  # a tiny file
    with pytest.raises(BadImage, match=r"more than 20 times as long as it is wide") as error:
        open_image(data)
    assert f"{width:,}×{height:,}" in str(error.value)


def test_an_image_over_the_pixel_limit_is_refused_before_decoding():
    with pytest.raises(BadImage, match="at most 40 megapixels"):
        open_image(png(8000, 6000))


def test_a_large_image_is_shrunk_before_padding(monkeypatch):
    padded = []
    original = own_image._pad_to_square
    monkeypatch.setattr(
        own_image, "_pad_to_square", lambda a, size, fill: padded.append(size) or original(a, size, fill)
    )
    image = Image.new("RGB", (6000, 1000), (250, 250, 250))
    image.paste((0, 0, 0), (2500, 200, 3500, 800))
    prepared = preprocess_image(image, (28, 28, 1), centre=True)
    assert prepared.array.shape == (28, 28, 1) and prepared.array.dtype == np.float32
    assert prepared.steps[0] == f"It was first shrunk from 6000×1000 to {WORKING_SIDE}×85 pixels."
    assert padded and max(padded) <= WORKING_SIDE  # every padded square is small, whatever was uploaded


def test_an_array_with_an_absurd_shape_is_refused_too():
    with pytest.raises(BadImage, match="20 times"):
        preprocess_image(np.zeros((1, 5000), dtype=np.uint8), (28, 28, 1))


def test_an_ordinary_photo_still_works():
    prepared = preprocess_image(open_image(png(300, 200, "RGB", (10, 200, 30))), (32, 32, 3))
    assert prepared.array.shape == (32, 32, 3)
