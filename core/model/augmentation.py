"""Data augmentation as layers: random flip, rotation, zoom, shift and contrast, active only while training.

They are Keras' own preprocessing layers (``RandomFlip``, ``RandomRotation``, ``RandomZoom``,
``RandomTranslation``, ``RandomContrast``): each training batch sees every image changed a little at
random, so the network cannot learn the exact pixels by heart; at inference (validation, test, Predict,
TensorFlow Lite) they pass the image through unchanged. They have no weights and keep the shape.

Their registry entries are core.model.augmentation_layers' (below the spec's registry, which includes
them); this module owns what is said about them: which flips change a class's meaning
(:func:`flip_warning`), the words for a model card (:func:`describe`), the spec without them
(:func:`without_augmentation`) and the preview of one image through them (:func:`preview`, the only part
that imports Keras).
"""

from __future__ import annotations

import numpy as np

from core.model.augmentation_layers import (  # noqa: F401  (named here for the callers of this module)
    AUGMENTATION_LAYER_TYPES,
    AUGMENTATION_TYPES,
    FILL_MODES,
    FLIP_MODES,
)
from core.model.spec import LAYER_TYPES, keras_kwargs, layer_problems

PREVIEW_COUNT = 8


def is_augmentation(layer) -> bool:
    return isinstance(layer, dict) and layer.get("type") in AUGMENTATION_TYPES


def augmentation_layers(spec: dict) -> list[dict]:
    """The spec's augmentation layers, in order."""
    layers = spec.get("layers") if isinstance(spec, dict) else None
    return [layer for layer in layers or [] if is_augmentation(layer)]


def without_augmentation(spec: dict) -> dict:
    """The same model with its augmentation layers taken out (what it is at inference)."""
    return {**spec, "layers": [layer for layer in spec.get("layers") or [] if not is_augmentation(layer)]}


# --- words -----------------------------------------------------------------------------------------

_FLIP_WORDS = {"horizontal": "left-right flip", "vertical": "upside-down flip", "horizontal_and_vertical": "flip"}


def _percent(value) -> str:
    return f"{100 * float(value):g} %"


def describe_layer(layer: dict) -> str:
    """One augmentation layer in a few words, e.g. 'rotation up to ±18°'."""
    args = {**LAYER_TYPES[layer["type"]].defaults(), **layer}
    kind = layer["type"]
    if kind == "RandomFlip":
        return _FLIP_WORDS.get(args["mode"], "flip")
    if kind == "RandomRotation":
        return f"rotation up to ±{360 * float(args['factor']):g}°"
    if kind == "RandomZoom":
        return f"zoom up to ±{_percent(args['height_factor'])}"
    if kind == "RandomTranslation":
        return f"shift up to {_percent(args['height_factor'])} up/down and {_percent(args['width_factor'])} left/right"
    return f"contrast ±{_percent(args['factor'])}"


_SHORT_FLIPS = {"horizontal": "flip ↔", "vertical": "flip ↕", "horizontal_and_vertical": "flip ↔↕"}


def short_tag(layer: dict) -> str:
    """A few characters for the architecture picture, e.g. 'rotate ±18°' (the layer's type if it is invalid)."""
    if layer_problems(0, layer):
        return str(layer.get("type"))
    args = {**LAYER_TYPES[layer["type"]].defaults(), **layer}
    kind = layer["type"]
    if kind == "RandomFlip":
        return _SHORT_FLIPS[args["mode"]]
    if kind == "RandomRotation":
        return f"rotate ±{360 * float(args['factor']):g}°"
    if kind == "RandomZoom":
        return f"zoom ±{_percent(args['height_factor'])}"
    if kind == "RandomTranslation":
        return f"shift ±{_percent(max(float(args['height_factor']), float(args['width_factor'])))}"
    return f"contrast ±{_percent(args['factor'])}"


def describe(spec: dict) -> str:
    """The spec's augmentation in words ('left-right flip, rotation up to ±18°'), or '' when it has none."""
    return ", ".join(describe_layer(layer) for layer in augmentation_layers(spec) if not layer_problems(0, layer))


def flip_warning(dataset: str, mode: str) -> str | None:
    """Why this flip changes what the data set's images mean, or None when it keeps their classes.

    Decided per built-in data set: digits (MNIST) must not be flipped at all; Fashion-MNIST's clothes may
    be mirrored left-right (a mirrored shirt is still a shirt) but are never photographed upside down.
    """
    if dataset == "mnist":
        return (
            "Flipping changes what a digit means: a mirrored 2, 3, 5 or 7 is no digit at all, and an upside-down "
            "6 reads as a 9. Leave RandomFlip out for digits; a small rotation, zoom or shift helps instead."
        )
    if dataset == "fashion_mnist" and mode != "horizontal":
        return (
            "Fashion-MNIST never shows clothes upside down (every shirt has its collar at the top), so an "
            "upside-down flip teaches the network pictures it will never be asked about. A left-right flip "
            "is fine: a mirrored shirt or shoe is still a shirt or a shoe."
        )
    return None


# --- the preview -----------------------------------------------------------------------------------


def preview(layers: list[dict], image: np.ndarray, n: int = PREVIEW_COUNT, seed: int = 0) -> np.ndarray:
    """``n`` versions of one image as training would see them through ``layers``, in order.

    Args:
        layers: augmentation layers of a spec (other layer types are refused).
        image: one image, H×W×C floats 0..1 (as the network gets it).
        seed: the same seed gives the same versions, so a page redraws only when a setting changes.

    Returns:
        (n, H, W, C) float32 in 0..1.

    Raises:
        ValueError: a plain message when a layer is not an augmentation layer or has a wrong setting.
    """
    import keras

    for index, layer in enumerate(layers):
        if not is_augmentation(layer):
            raise ValueError(f"Layer {index + 1} is not an augmentation layer, so it has no preview.")
        problems = layer_problems(index, layer)
        if problems:
            raise ValueError(problems[0].text())
    batch = np.repeat(np.asarray(image, dtype=np.float32)[None], n, axis=0)
    values = keras.ops.convert_to_tensor(batch)
    for index, layer in enumerate(layers):
        augment = getattr(keras.layers, layer["type"])(seed=seed + index, **keras_kwargs(layer))
        values = augment(values, training=True)
    return np.clip(keras.ops.convert_to_numpy(values), 0.0, 1.0).astype(np.float32)
