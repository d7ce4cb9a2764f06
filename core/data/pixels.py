"""The one image decoder and pixel scaler: every image file and every pixel array goes through here.

The zip import, Predict, Inside and the trainer (data sets, the classroom's hidden test images) all
read images and scale pixels with these functions, so an image means the same everywhere:

- :func:`decode_image`: a file's bytes → an upright (EXIF orientation applied) ``"L"`` or ``"RGB"``
  image, after its header's pixel count was checked (decompression bombs), or :class:`BadImage` with a
  plain message.
- :func:`normalise_mode`: any PIL image → ``"L"`` or ``"RGB"`` by its format's real range: 16-bit grey
  is divided by 65535 (not by its brightest pixel, not clipped), 1-bit is black/white, palettes and
  CMYK become RGB, transparent parts are filled with white, or with black when what is drawn is light
  (so it stays visible).
- :func:`as_float_input`: an array → the float32 a network receives (integer pixels divided by their
  type's full range, uint8 by 255; floats unchanged).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

MAX_PIXELS = 40_000_000  # width × height of an image someone uploads; the zip import has its own setting
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")
FORMATS_TEXT = "PNG, JPEG, GIF, BMP, WebP or TIFF"
ORIENTATION_TAG = 0x0112  # EXIF: how the camera was held
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
SIXTEEN_BIT = 65535.0
JUDGE_SIDE = 256
LIGHT = 0.5  # content brighter than this on average is drawn light: transparent parts become black


class BadImage(Exception):
    """Not an image that can be used. ``str()`` is a sentence for a page; ``reason`` a short phrase for a
    report's list of skipped files."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # mode "L" or "RGB", upright
    notes: tuple[str, ...] = ()  # what decoding changed that a person would notice, in plain words


def _unreadable() -> BadImage:
    return BadImage(
        f"This file is not an image that can be read (use a {FORMATS_TEXT} picture).",
        "not a readable image (damaged, truncated or not really an image)",
    )


def _too_many_pixels(max_pixels: int, width: int | None = None, height: int | None = None) -> BadImage:
    size = f"{width:,}×{height:,}" if width is not None else ""
    return BadImage(
        f"This image is too large{f' ({size} pixels)' if size else ''}; use one of at most "
        f"{max_pixels / 1_000_000:g} megapixels.",
        f"too many pixels ({size + '; ' if size else ''}at most {max_pixels:,} are allowed)",
    )


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS, reduce_to: int | None = None, check_size=None):
    """A file's bytes as an upright "L" or "RGB" image (a :class:`DecodedImage`), or :class:`BadImage`.

    Args:
        max_pixels: images whose header says more pixels are refused before their pixels are decoded.
        reduce_to: a JPEG may be decoded at a reduced scale, keeping at least this many pixels per side.
        check_size: called with the header's (width, height) before decoding; may raise BadImage.
    """
    with warnings.catch_warnings():
        # PIL warns (and over twice its own limit refuses) on huge images: both mean "too many pixels".
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                if width < 1 or height < 1:
                    raise BadImage("This image has no pixels.", "no pixels")
                if width * height > max_pixels:
                    raise _too_many_pixels(max_pixels, width, height)
                if check_size is not None:
                    check_size(width, height)
                probe.verify()  # a damaged PNG is found here, before its pixels are decoded
            image = Image.open(io.BytesIO(data))
            if reduce_to:
                image.draft(None, (reduce_to, reduce_to))  # JPEG: decode at a reduced scale when it can
            image.load()
            orientation = image.getexif().get(ORIENTATION_TAG, 1)
            image = ImageOps.exif_transpose(image)
        except BadImage:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _too_many_pixels(max_pixels) from None
        except Exception:  # PIL raises many kinds (OSError, SyntaxError, ValueError...) for damaged or fake files
            raise _unreadable() from None
    decoded = normalise_mode(image)
    if orientation not in (1, None):
        decoded = DecodedImage(decoded.image, ("It was turned upright, as the camera noted.", *decoded.notes))
    return decoded


def _has_transparency(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info


def _grey_by_real_range(image: Image.Image) -> Image.Image:
    """An "I;16…", "I" or "F" image as 8-bit grey: 16-bit and 32-bit integers by 65535 (clipped), floats
    by the smallest of 1, 255 and 65535 that holds them (float files store 0..1 or 0..255 or 16-bit counts)."""
    values = np.asarray(image, dtype=np.float32)
    top = SIXTEEN_BIT
    if image.mode == "F":
        finite = values[np.isfinite(values)]
        peak = float(finite.max()) if finite.size else 0.0
        top = next(r for r in (1.0, 255.0, SIXTEEN_BIT) if peak <= r or r == SIXTEEN_BIT)
    unit = np.clip(np.nan_to_num(values / top), 0.0, 1.0)
    return Image.fromarray(np.round(unit * 255).astype(np.uint8), "L")


def _on_background(image: Image.Image) -> tuple[Image.Image, str]:
    """Transparent parts filled with white, or black when the visible content is light on average."""
    rgba = image.convert("RGBA")
    if rgba.getchannel("A").getextrema()[0] == 255:
        return rgba.convert("RGB"), ""
    sample = rgba.copy()
    sample.thumbnail((JUDGE_SIDE, JUDGE_SIDE))  # judged on a small copy: the full image may be 40 megapixels
    values = np.asarray(sample, dtype=np.float32) / 255.0
    alpha, weight = values[..., 3], float(values[..., 3].sum())
    light = weight > 0 and float((values[..., :3].mean(axis=-1) * alpha).sum() / weight) > LIGHT
    colour = (0, 0, 0, 255) if light else (255, 255, 255, 255)
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, colour), rgba).convert("RGB")
    note = (
        "Transparent parts were filled with black, so the light drawing on them stays visible."
        if light
        else "Transparent parts were filled with white."
    )
    return flat, note


def normalise_mode(image: Image.Image) -> DecodedImage:
    """Any PIL image as "L" (grey sources) or "RGB" (everything else), by each format's real range."""
    grey = image.mode in GREY_MODES or (image.mode == "P" and _palette_is_grey(image))
    notes = []
    if image.mode.startswith("I") or image.mode == "F":
        image = _grey_by_real_range(image)
    if _has_transparency(image):
        image, note = _on_background(image)
        notes += [note] if note else []
    image = image.convert("L" if grey else "RGB")  # "1" → 0/255, "P" → its palette, "CMYK" → RGB
    return DecodedImage(image, tuple(notes))


def _palette_is_grey(image: Image.Image) -> bool:
    """A "P" image whose used palette entries are all grey (a grey GIF): it stays one channel."""
    palette = np.asarray(image.getpalette("RGB") or [], dtype=np.uint8).reshape(-1, 3)
    used = [index for _, index in image.getcolors(256) or [] if index < len(palette)]
    rgb = palette[used] if used else palette[:0]
    return bool(len(rgb)) and bool((rgb == rgb[:, :1]).all())


def with_channels(image: Image.Image, channels: int) -> Image.Image:
    """An "L" or "RGB" image with 1 (grey) or 3 (colour) channels."""
    return image.convert("L" if channels == 1 else "RGB")


def unit_array(image: Image.Image) -> np.ndarray:
    """An "L"/"RGB" image as H×W×C float32 in 0..1."""
    return as_float_input(image_uint8(image))


def image_uint8(image: Image.Image) -> np.ndarray:
    """An "L"/"RGB" image as H×W×C uint8."""
    array = np.asarray(image, dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array


def as_float_input(array: np.ndarray) -> np.ndarray:
    """The array as the float32 a network receives: integer pixels divided by their type's full range
    (uint8 by 255, uint16 by 65535), booleans as 0/1, floats unchanged (pixels already in 0..1, or a
    table's normalised values)."""
    array = np.asarray(array)
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.unsignedinteger):
        return array.astype(np.float32) / np.float32(np.iinfo(array.dtype).max)
    return array.astype(np.float32)


def to_uint8(unit: np.ndarray) -> np.ndarray:
    """Floats in 0..1 (clipped) as 0..255 uint8."""
    return np.round(np.clip(np.asarray(unit, dtype=np.float32), 0.0, 1.0) * 255).astype(np.uint8)
