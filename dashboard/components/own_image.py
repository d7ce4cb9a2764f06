"""The user's own image for a trained model: uploaded or drawn, then prepared as the model expects it."""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core.data.datasets import DatasetUnavailable, load_dataset
from core.data.own_image import BadImage, PreparedImage, has_dark_background, open_image, preprocess_image
from core.data.pixels import FORMATS_TEXT, IMAGE_EXTENSIONS
from dashboard.charts.inspection import enlarge
from dashboard.components.user_text import markdown_literal

CANVAS_SIZE = 280
INVERT_CHOICES = {"auto": "Automatic", True: "Invert", False: "Keep as is"}
UPLOAD_TYPES = [extension.lstrip(".") for extension in IMAGE_EXTENSIONS]  # what the decoder reads


@st.cache_data(show_spinner=False)
def data_has_dark_background(dataset: str) -> bool:
    """Whether the training images are light on dark (MNIST-style); True when the data set is missing."""
    try:
        return has_dark_background(load_dataset(dataset).x_train)
    except DatasetUnavailable:
        return True


def _invert_choice(key: str):
    return (
        st.segmented_control(
            "Colours",
            list(INVERT_CHOICES),
            format_func=INVERT_CHOICES.__getitem__,
            default="auto",
            key=key,
            help="Automatic inverts a light-background image when the network was trained on light shapes on a dark "
            "background.",
        )
        or "auto"
    )


def uploaded_image(run, key: str) -> PreparedImage | None:
    """An uploaded image file prepared for the run's model; None (with a plain message if it is unusable)."""
    upload = st.file_uploader(
        f"Upload an image ({FORMATS_TEXT})",
        type=UPLOAD_TYPES,
        key=f"{key}_file",
        help="A photo or a drawing of one object; it is resized to the network's input.",
    )
    invert = _invert_choice(f"{key}_invert")
    if upload is None:
        return None
    try:
        image = open_image(upload.getvalue())
    except BadImage as error:
        st.error(markdown_literal(error), icon=":material/broken_image:")
        return None
    return preprocess_image(
        image, run.spec["input_shape"], invert=invert, dark_background=data_has_dark_background(run.dataset)
    )


def drawn_image(run, key: str) -> PreparedImage | None:
    """A drawing on a canvas (light on dark, like the training images), centred and prepared; None if empty."""
    dark = data_has_dark_background(run.dataset)
    ink, paper = ("#FFFFFF", "#000000") if dark else ("#000000", "#FFFFFF")
    st.space(40)  # the canvas's toolbar floats above it: keep it off the widgets above
    result = st_canvas(
        stroke_width=22,
        stroke_color=ink,
        background_color=paper,
        height=CANVAS_SIZE,
        width=CANVAS_SIZE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"{key}_canvas",
    )
    st.caption(
        "Draw one object with the mouse or a finger, as the training images show it; the buttons above "
        "the canvas undo a stroke or clear it."
    )
    pixels = result.image_data
    if pixels is None or not _has_ink(np.asarray(pixels)):
        st.caption("The prediction appears as soon as you draw.")
        return None
    drawing = np.asarray(pixels)[..., :3]
    if run.spec["input_shape"][-1] == 1:
        drawing = drawing.mean(axis=-1).round().astype(np.uint8)  # drawn in grey already: no colour to drop
    return preprocess_image(drawing, run.spec["input_shape"], invert=False, dark_background=dark, centre=True)


def _has_ink(rgba: np.ndarray) -> bool:
    rgb = rgba[..., :3].astype(np.int16)
    return bool(np.ptp(rgb) > 30)


def show_prepared(prepared: PreparedImage, size: int = 168) -> None:
    """The image exactly as the network receives it, and what was done to get there."""
    height, width = prepared.array.shape[:2]
    st.image(
        enlarge(prepared.array, size),
        caption=f"What the network sees ({width}×{height} pixels)",
        alt=f"Your image as the network sees it, {width}×{height} pixels",
    )
    st.caption(" ".join(prepared.steps))
