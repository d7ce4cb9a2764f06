"""The data augmentation layers' entries in the layer registry (core.model.spec.LAYER_TYPES includes them):
their arguments and shape rules. What is said about them, and their preview, is core.model.augmentation's."""

from __future__ import annotations

from core.model.layer_type import Arg, LayerType, Shape, ShapeError

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
FILL_MODES = ("reflect", "constant", "nearest", "wrap")


def _augment_shape(kind: str):
    def shape_rule(shape: Shape, args: dict) -> Shape:
        if len(shape) != 3:
            raise ShapeError(
                f"{kind} changes images, but what reaches it here is a flat list of {shape[0]:,} values "
                "(a table's row, or an image after Flatten)",
                "augmentation works on images only: put it at the top of the model, or remove it for a table",
            )
        return shape

    return shape_rule


def _no_weights(shape: Shape, args: dict) -> int:
    return 0


_FILL = Arg(
    "fill_mode",
    "choice",
    "reflect",
    "Fill",
    "How the corners left empty by turning, zooming out or shifting are filled: 'reflect' mirrors the image "
    "at its edge, 'constant' fills them with black.",
    choices=FILL_MODES,
    advanced=True,
)


def _factor(name: str, label: str, default: float, maximum: float, help_text: str) -> Arg:
    return Arg(name, "float", default, label, help_text, required=True, minimum=0.0, maximum=maximum)


AUGMENTATION_LAYER_TYPES: tuple[LayerType, ...] = (
    LayerType(
        "RandomFlip",
        "While training, mirrors each image at random, so the network learns that a mirrored picture shows "
        "the same thing; does nothing at test time.",
        (
            Arg(
                "mode",
                "choice",
                "horizontal",
                "Flip",
                "Left-right (horizontal), upside down (vertical) or both.",
                required=True,
                choices=FLIP_MODES,
            ),
        ),
        _augment_shape("RandomFlip"),
        _no_weights,
        image_only=True,
    ),
    LayerType(
        "RandomRotation",
        "While training, turns each image by a random small angle; does nothing at test time.",
        (
            _factor(
                "factor",
                "Rotation (share of a full turn)",
                0.05,
                0.5,
                "The largest turn either way, as a share of a full turn: 0.05 is up to ±18°, 0.25 up to ±90°.",
            ),
            _FILL,
        ),
        _augment_shape("RandomRotation"),
        _no_weights,
        image_only=True,
    ),
    LayerType(
        "RandomZoom",
        "While training, zooms each image in or out at random; does nothing at test time.",
        (
            _factor(
                "height_factor",
                "Zoom",
                0.1,
                0.5,
                "The largest zoom either way, as a share of the image: 0.1 is up to 10 % closer or farther.",
            ),
            _FILL,
        ),
        _augment_shape("RandomZoom"),
        _no_weights,
        image_only=True,
    ),
    LayerType(
        "RandomTranslation",
        "While training, shifts each image up, down, left or right at random; does nothing at test time.",
        (
            _factor(
                "height_factor",
                "Shift up/down",
                0.1,
                0.5,
                "The largest shift up or down, as a share of the image's height: 0.1 is up to 10 %.",
            ),
            _factor(
                "width_factor",
                "Shift left/right",
                0.1,
                0.5,
                "The largest shift left or right, as a share of the image's width: 0.1 is up to 10 %.",
            ),
            _FILL,
        ),
        _augment_shape("RandomTranslation"),
        _no_weights,
        image_only=True,
    ),
    LayerType(
        "RandomContrast",
        "While training, makes each image's contrast stronger or weaker at random; does nothing at test time.",
        (
            _factor(
                "factor",
                "Contrast change",
                0.2,
                0.9,
                "The largest change either way: 0.2 makes the contrast anything from 80 % to 120 % of the image's.",
            ),
        ),
        _augment_shape("RandomContrast"),
        _no_weights,
        image_only=True,
    ),
)
AUGMENTATION_TYPES = frozenset(t.name for t in AUGMENTATION_LAYER_TYPES)
