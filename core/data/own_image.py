"""Turning someone's own image (an upload or a drawing) into the input a trained model expects.

Each step that changes the image is written down in plain words, so the page can say what was done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from core.data.pixels import (
    MAX_PIXELS,
    BadImage,
    DecodedImage,
    as_float_input,
    decode_image,
    normalise_mode,
    to_uint8,
    unit_array,
    with_channels,
)

BORDER_FRACTION = 1 / 14  # the outer rim looked at to judge the background (2 pixels of a 28×28 image)
MAX_ASPECT = 20  # a picture more than 20 times wider than high (or the reverse) is not a photo or drawing
WORKING_SIDE = 512  # every image is shrunk to at most this many pixels per side before any other step
CONTENT_THRESHOLD = 0.25  # how far from the background colour a pixel must be to count as drawn
CONTENT_SHARE = 20 / 28  # the drawn part fills this share of the side, as in MNIST


@dataclass(frozen=True)
class PreparedImage:
    array: np.ndarray  # (height, width, channels) float32 in 0..1: exactly what the model receives
    steps: list[str] = field(default_factory=list)  # what was done to the image, in plain words
    inverted: bool = False


def open_image(data: bytes) -> DecodedImage:
    """An uploaded file's bytes as an upright grey or colour image (core.data.pixels, the one decoder the
    zip import uses too), or BadImage with a plain message."""
    return decode_image(data, max_pixels=MAX_PIXELS, reduce_to=WORKING_SIDE, check_size=_check_size)


def _check_size(width: int, height: int) -> None:
    """Refuse, from the header alone, images too large or too narrow to be a picture of something."""
    if width < 1 or height < 1:
        raise BadImage("This image has no pixels.", "no pixels")
    if width * height > MAX_PIXELS:
        raise BadImage(
            f"This image is too large ({width:,}×{height:,} pixels); use one of at most "
            f"{MAX_PIXELS // 1_000_000} megapixels.",
            "too many pixels",
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise BadImage(
            f"This image is {width:,}×{height:,} pixels: more than {MAX_ASPECT} times as long as it is wide. "
            "Use a picture closer to a square, such as a photo or a drawing of one thing.",
            "too long and thin",
        )


def _working_size(image: Image.Image, steps: list[str]) -> Image.Image:
    """The image shrunk to at most WORKING_SIDE pixels per side (keeping its shape) before anything else,
    so later steps (padding, centring) work on a small array whatever was uploaded."""
    if max(image.size) <= WORKING_SIDE:
        return image
    width, height = image.size
    image = image.copy()
    image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS)
    steps.append(f"It was first shrunk from {width}×{height} to {image.width}×{image.height} pixels.")
    return image


def _border(grey: np.ndarray) -> np.ndarray:
    rim = max(1, round(min(grey.shape[:2]) * BORDER_FRACTION))
    mask = np.ones(grey.shape[:2], dtype=bool)
    mask[rim:-rim, rim:-rim] = False
    return grey[mask]


def has_light_border(array: np.ndarray) -> bool:
    """True when most of the image's outer rim is light (above half brightness); array in 0..1."""
    grey = array.mean(axis=-1) if array.ndim == 3 else array
    return float(np.mean(_border(grey) > 0.5)) > 0.5


def has_dark_background(images: np.ndarray) -> bool:
    """True when a data set's images (uint8, N×H×W×C) are mostly dark at their borders, like MNIST."""
    sample = as_float_input(images[:200])
    return not np.mean([has_light_border(image) for image in sample]) > 0.5


def _decoded(image) -> DecodedImage:
    """A decoded file as it is; a PIL image or an H×W(×1 or ×3) array (0..1 floats or 0..255 values, as a
    drawing canvas gives) through the same mode rules as a file."""
    if isinstance(image, DecodedImage):
        return image
    if not isinstance(image, Image.Image):
        array = np.asarray(image)
        floats = np.issubdtype(array.dtype, np.floating)
        unit = (array if array.max(initial=0) <= 1.0 else array / 255.0) if floats else as_float_input(array)
        image = _pil(unit)
    _check_size(image.width, image.height)  # before converting what may be a huge image
    return normalise_mode(image)


def _pil(unit: np.ndarray) -> Image.Image:
    """0..1 floats (H×W, H×W×1 or H×W×3) as an "L" or "RGB" image."""
    array = to_uint8(unit)
    return Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array)


def _pad_to_square(array: np.ndarray, size: int, fill: np.ndarray) -> np.ndarray:
    height, width = array.shape[:2]
    canvas = np.empty((size, size, array.shape[-1]), dtype=np.float32)
    canvas[...] = fill
    top, left = (size - height) // 2, (size - width) // 2
    canvas[top : top + height, left : left + width] = array
    return canvas


def _background(array: np.ndarray) -> np.ndarray:
    return np.median(_border(array), axis=0)


def _square(array: np.ndarray, steps: list[str]) -> np.ndarray:
    height, width = array.shape[:2]
    if width == height:
        return array
    steps.append(f"It was padded from {width}×{height} to a square with its border colour, so it is not squashed.")
    return _pad_to_square(array, max(width, height), _background(array))


def _centre_content(array: np.ndarray, steps: list[str]) -> np.ndarray:
    """Crop to the drawn part and centre it with a margin, as MNIST centres each digit in a 20×20 box."""
    background = _background(array)
    ink = np.abs(array - background).max(axis=-1) > CONTENT_THRESHOLD
    if not ink.any():
        return array
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    content = array[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    size = round(max(content.shape[:2]) / CONTENT_SHARE)
    steps.append("It was cropped to the drawn part and centred with a margin, like the training images.")
    return _pad_to_square(content, size, background)


def preprocess_image(
    image, input_shape, invert: bool | str = "auto", dark_background: bool = True, centre: bool = False
) -> PreparedImage:
    """The image as the model expects it: grey or colour, resized to height × width, values 0..1.

    ``invert="auto"`` inverts light-background images when the training data has a dark background
    (``dark_background``), as MNIST-style data does; True or False force it. ``centre`` crops to the
    drawn part and centres it (for drawings).
    """
    height, width, channels = (int(v) for v in input_shape)
    steps: list[str] = []
    decoded = _decoded(image)
    pil = decoded.image
    _check_size(pil.width, pil.height)
    steps += decoded.notes
    pil = _working_size(pil, steps)
    if channels == 1 and pil.mode != "L":
        steps.append("It was turned into a grey image, as the training images are grey.")
    array = unit_array(with_channels(pil, channels))
    inverted = bool(invert) if invert != "auto" else dark_background and has_light_border(array)
    if inverted:
        steps.append(
            "Its colours were inverted (light ↔ dark): the training images show light shapes on a dark "
            "background, but this image has a light background."
            if invert == "auto"
            else "Its colours were inverted (light ↔ dark), as you asked."
        )
        array = 1.0 - array
    array = _centre_content(array, steps) if centre else array
    array = _square(array, steps)
    if array.shape[:2] != (height, width):
        size = array.shape[0]
        steps.append(
            f"It was shrunk from {size}×{size} to {width}×{height} pixels, the size the network was trained on."
            if size >= width
            else f"It was enlarged from {size}×{size} to {width}×{height} pixels."
        )
        array = unit_array(_pil(array).resize((width, height), Image.Resampling.LANCZOS))
    steps.append("Its pixel values are divided by 255, so they lie between 0 and 1 like the training images.")
    return PreparedImage(array.astype(np.float32), steps, inverted)
