"""Build: one training image through the model's augmentation layers, 8 times, and what a flip would mean.

The preview needs Keras' layers, so it is computed by core (core.model.augmentation.preview) only when the
model has augmentation layers, and cached per layer settings and image: it redraws when a setting changes.
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from core.data.pixels import as_float_input
from core.model.augmentation import AUGMENTATION_TYPES, PREVIEW_COUNT, augmentation_layers, flip_warning, preview
from core.model.spec import layer_problems
from dashboard import runtime
from dashboard.charts.inspection import enlarge

THUMBNAIL = 84  # pixels: 8 fit in two rows beside the original on half a screen
IMAGE_KEY = "augmentation_preview_image"


@st.cache_data(max_entries=64, show_spinner=False)
def augmented_versions(layers_json: str, image: np.ndarray) -> np.ndarray:
    """The preview's images for these layers (as JSON, the cache's key) and this image (0..1 floats)."""
    return preview(json.loads(layers_json), image, n=PREVIEW_COUNT, seed=0)


def flip_notes(layers: list[dict], dataset: str) -> None:
    """A warning for each flip that changes what this data set's images mean (digits, upside-down clothes)."""
    for mode in dict.fromkeys(layer.get("mode", "horizontal") for layer in layers if layer["type"] == "RandomFlip"):
        warning = flip_warning(dataset, mode)
        if warning:
            st.warning(warning, icon=":material/flip:")


def augmentation_preview(spec: dict, data, dataset: str) -> None:
    """The preview grid for an image model with augmentation layers; a hint for an image model without."""
    if not data.is_images:
        return
    layers = augmentation_layers(spec)
    if not layers:
        st.caption(
            f"**Augmentation**: add {', '.join(sorted(AUGMENTATION_TYPES))} at the top of the model to change "
            "every training image a little at random, so the network cannot learn them by heart; a preview "
            "appears here."
        )
        return
    st.header("Augmentation preview")
    flip_notes(layers, dataset)
    problems = [p for index, layer in enumerate(layers) for p in layer_problems(index, layer)]
    if problems:
        st.caption("The preview appears once the augmentation layers' settings are valid (see their cards).")
        return
    count = len(data.x_train)
    number = st.number_input(
        "Training image", min_value=0, max_value=count - 1, value=0, step=1, key=IMAGE_KEY, help="Which image to show."
    )
    image = as_float_input(data.x_train[int(number)])
    runtime.wait_for_imports()  # Keras' layers, on a page that may be served while TensorFlow imports
    try:
        versions = augmented_versions(json.dumps(layers, sort_keys=True), image)
    except ValueError as error:  # a setting Keras itself refuses
        st.caption(f"No preview: {error}")
        return
    original, augmented = st.container(key="augmentation_preview").columns([1, 4], vertical_alignment="top")
    original.image(enlarge(image), caption="the original", width=THUMBNAIL)
    augmented.image(
        [enlarge(v) for v in versions], caption=[f"#{i + 1}" for i in range(len(versions))], width=THUMBNAIL
    )
    st.caption(
        f"Training image #{int(number)} as {len(versions)} training batches could see it. Only training sees "
        "these: validation, test, Predict and the phone files get the image unchanged."
    )
