"""Starting points: the seed notebook's three CNNs exactly, a blank model, a modern one, a fast one and a small
ResNet (residual blocks with skip connections)."""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from pathlib import Path

from core.training.hyperparams import Hyperparameters

# Written by bench/presets.py (each image preset trained with its app defaults on Fashion-MNIST, timed
# against model 1 in the same run), never by hand: the descriptions quote it.
FIGURES_PATH = Path(__file__).with_name("preset_figures.json")


@functools.cache
def measured_figures() -> dict:
    """The bench's figures per preset name ({} when the file is missing or unreadable)."""
    try:
        return json.loads(FIGURES_PATH.read_text()).get("presets", {})
    except (OSError, ValueError, AttributeError):
        return {}


def measured_text(name: str) -> str:
    """One sentence with the preset's measured test accuracy and training time, or "" when not measured."""
    figure = measured_figures().get(name)
    if not figure:
        return ""
    return (
        f"Measured with its defaults ({figure['epochs']} epochs, batch {figure['batch_size']}): "
        f"{100 * figure['test_accuracy']:.1f} % test accuracy on Fashion-MNIST in the time of "
        f"{figure['model1_epochs']:.1f} model-1 epochs."
    )


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    about: str  # what the model is; the measured figure is added by ``description``
    layers: tuple  # layer dicts for 28×28×1 input and 10 classes
    seed_hyperparameters: Hyperparameters  # what the notebook used
    app_hyperparameters: Hyperparameters  # fast defaults for the app (reach the notebook's accuracy in ~1 min)
    # The app's settings on a small set (fewer than SMALL_DATA_SET training examples) when they differ from
    # app_hyperparameters by more than the epochs (defaults_for raises those for every preset): None for most.
    small_set_hyperparameters: Hyperparameters | None = None

    @property
    def description(self) -> str:
        """What the model is, and its measured accuracy and training time when bench/presets.py has them."""
        figure = measured_text(self.name)
        return f"{self.about} {figure}" if figure else self.about

    @property
    def from_notebook(self) -> bool:
        return self.name in NOTEBOOK_MODELS

    def spec(self, input_shape=(28, 28, 1), num_classes: int = 10) -> dict:
        """The preset for a data set's input shape, with the output layer sized to its classes."""
        # One deep copy per layer: the presets reuse one dict for repeated layers (_POOL), and a single
        # deepcopy of the list would keep them aliased, so editing one pooling layer would change the other.
        layers = [copy.deepcopy(layer) for layer in self.layers]
        if layers and layers[-1].get("type") == "Dense":
            layers[-1]["units"] = num_classes
        return {"input_shape": list(input_shape), "layers": layers}


def _conv(filters, kernel, **extra):
    return {"type": "Conv2D", "filters": filters, "kernel_size": kernel, "activation": "relu", **extra}


_POOL = {"type": "MaxPooling2D", "pool_size": 2}
_FLATTEN = {"type": "Flatten"}
_OUT = {"type": "Dense", "units": 10, "activation": "softmax"}
# Measured (bench/time_to_accuracy.py): Adam 0.002 with batch 128 brings model1 to the notebook's 89.4 %
# in 4–6 epochs of ~5 s on 2 cores; 8 epochs leave room for other seeds.
_FAST = Hyperparameters(optimizer="adam", learning_rate=0.002, epochs=8, batch_size=128)
# The `fast` preset's own settings, found by bench/fast_search.py: batch 256 and a learning rate of 0.003
# falling along a cosine; BatchNormalization after the poolings (a quarter of the values it would see after
# the convolutions) lets the high rate work for a fraction of its cost. 5 epochs (bench/preset_search.py:
# larger batches, the one-cycle schedule and label smoothing did no better in 5).
_FAST_PRESET = Hyperparameters(
    optimizer="adam", learning_rate=0.003, epochs=5, batch_size=256, learning_rate_schedule="cosine"
)
# Blank on a small set: a linear classifier needs large weights, and Adam moves each weight by about the
# learning rate per step, so the few steps of a small set (30 epochs of 1,438 digits are 330) leave it short
# at 0.002: 93.9 % on the digits, 96.1 % at 0.02 (seeds 42, 1 and 2), as scikit-learn's best logistic
# regression on the same pixels (bench/real_data.py).
_BLANK_SMALL_SET = Hyperparameters(optimizer="adam", learning_rate=0.02, epochs=8, batch_size=128)
_BATCH_NORM = {"type": "BatchNormalization"}
# BatchNormalization in every block takes a high learning rate; a cosine lowers it by the last batch.
_RESNET_PRESET = Hyperparameters(
    optimizer="adam", learning_rate=0.003, epochs=5, batch_size=256, learning_rate_schedule="cosine"
)


def _residual(filters, **extra):
    return {"type": "ResidualBlock", "filters": filters, "kernel_size": 3, **extra}


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "model1",
            "Model 1 — the notebook's first CNN",
            "Two convolution + pooling blocks and one hidden Dense layer: the seed notebook's model 1 "
            "(108,618 parameters; about 89 % test accuracy on Fashion-MNIST in the notebook, after 30 epochs of SGD).",
            (
                _conv(16, 3),
                _POOL,
                _conv(32, 3),
                _POOL,
                _FLATTEN,
                {"type": "Dense", "units": 128, "activation": "relu"},
                _OUT,
            ),
            Hyperparameters(optimizer="sgd", learning_rate=0.01, epochs=30, batch_size=32),
            _FAST,
        ),
        Preset(
            "model2",
            "Model 2 — bigger kernels and Dropout",
            "Larger 5×5 and 4×4 filters and a Dropout layer against overfitting: the notebook's model 2 "
            "(75,594 parameters).",
            (
                _conv(16, 5),
                {"type": "Dropout", "rate": 0.25},
                _POOL,
                _conv(32, 4),
                _POOL,
                _FLATTEN,
                {"type": "Dense", "units": 128, "activation": "relu"},
                _OUT,
            ),
            Hyperparameters(optimizer="sgd", learning_rate=0.01, epochs=30, batch_size=32),
            _FAST,
        ),
        Preset(
            "model3",
            "Model 3 — model 2 with a wider Dense layer, trained with Adam",
            "Model 2 with 256 hidden units, trained with Adam in the notebook (142,538 parameters).",
            (
                _conv(16, 5),
                {"type": "Dropout", "rate": 0.25},
                _POOL,
                _conv(32, 4),
                _POOL,
                _FLATTEN,
                {"type": "Dense", "units": 256, "activation": "relu"},
                _OUT,
            ),
            Hyperparameters(optimizer="adam", learning_rate=0.001, epochs=30, batch_size=32),
            _FAST,
        ),
        Preset(
            "blank",
            "Blank — just the output layer",
            "Flatten and one Dense output layer (a linear classifier): add layers above it and watch accuracy rise.",
            (_FLATTEN, _OUT),
            Hyperparameters(optimizer="adam", learning_rate=0.001, epochs=5, batch_size=64),
            _FAST,
            _BLANK_SMALL_SET,
        ),
        Preset(
            "modern",
            "Modern — BatchNormalization and 'same' padding",
            "Three convolution blocks with BatchNormalization, 'same' padding and Dropout, ending in global "
            "average pooling: fewer parameters than model 1, but many more computations per image.",
            (
                _conv(32, 3, padding="same"),
                {"type": "BatchNormalization"},
                _POOL,
                _conv(64, 3, padding="same"),
                {"type": "BatchNormalization"},
                _POOL,
                _conv(128, 3, padding="same"),
                {"type": "BatchNormalization"},
                {"type": "GlobalAveragePooling2D"},
                {"type": "Dropout", "rate": 0.3},
                _OUT,
            ),
            Hyperparameters(optimizer="adam", learning_rate=0.001, epochs=10, batch_size=64),
            _FAST,
        ),
        Preset(
            "fast",
            "Fast — model 1 with BatchNormalization and a cosine schedule",
            "Model 1's layers with BatchNormalization after each pooling and Dropout before the Dense layer, "
            "trained with Adam at a high learning rate that a cosine schedule lowers to nearly zero by the last "
            "epoch. Chosen by measurement (bench/fast_search.py, bench/preset_search.py): the fewest epochs that "
            "still pass 91 %.",
            (
                _conv(16, 3),
                _POOL,
                _BATCH_NORM,
                _conv(32, 3),
                _POOL,
                _BATCH_NORM,
                _FLATTEN,
                {"type": "Dropout", "rate": 0.3},
                {"type": "Dense", "units": 128, "activation": "relu"},
                _OUT,
            ),
            _FAST_PRESET,
            _FAST_PRESET,
        ),
        Preset(
            "resnet_small",
            "Small ResNet — residual blocks with skip connections",
            "A convolution and pooling, then three residual blocks (16, 32 and 64 filters; the last two halve the "
            "image, so their shortcuts get a 1×1 convolution) and global average pooling: each block's input is "
            "added back to its output, the skip connection that lets deep networks train.",
            (
                _conv(16, 3, padding="same"),
                _POOL,
                _residual(16),
                _residual(32, strides=2),
                _residual(64, strides=2),
                {"type": "GlobalAveragePooling2D"},
                _OUT,
            ),
            _RESNET_PRESET,
            _RESNET_PRESET,
        ),
    ]
}

DEFAULT_PRESET = "model1"
NOTEBOOK_MODELS = ("model1", "model2", "model3")

# Tables (a CSV's rows, regression): Dense layers only — convolutions and pooling need images. Kept
# apart from PRESETS, whose models all take images (share links, challenges, the CLI list those).
# The example table's validation loss is lowest after about 5–15 epochs at these settings.
_TABLE_FAST = Hyperparameters(optimizer="adam", learning_rate=0.01, epochs=15, batch_size=32)
TABLE_PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "tabular",
            "Tabular — two hidden Dense layers",
            "Dense 64 → Dense 32 (relu) → one output number with a linear activation: a small network for the "
            "rows of a table. It predicts one number, so the output layer has 1 unit and no softmax.",
            (
                {"type": "Dense", "units": 64, "activation": "relu"},
                {"type": "Dense", "units": 32, "activation": "relu"},
                {"type": "Dense", "units": 1, "activation": "linear"},
            ),
            _TABLE_FAST,
            _TABLE_FAST,
        ),
        Preset(
            "linear",
            "Linear — just the output layer (linear regression)",
            "One Dense layer with 1 unit and no activation: the prediction is a weighted sum of the columns plus a "
            "constant, which is classic linear regression. Compare it with the tabular network.",
            ({"type": "Dense", "units": 1, "activation": "linear"},),
            Hyperparameters(optimizer="adam", learning_rate=0.05, epochs=30, batch_size=32),
            Hyperparameters(optimizer="adam", learning_rate=0.05, epochs=30, batch_size=32),
        ),
    ]
}
DEFAULT_TABLE_PRESET = "tabular"
ALL_PRESETS: dict[str, Preset] = {**PRESETS, **TABLE_PRESETS}


def presets_for(is_images: bool) -> dict[str, Preset]:
    """The starting points that fit the data: image models for images, Dense-only ones for tables."""
    return PRESETS if is_images else TABLE_PRESETS


# A data set with fewer training examples than this is small, and its defaults differ (bench/real_data.py on
# scikit-learn's tables and digits): a table starts from the Linear preset (with a few hundred rows the tabular
# preset's hidden layers learn them by heart: R² 0.17 against linear regression's 0.52 on the diabetes table),
# and every preset trains for more epochs (8 epochs of 1,438 digits are 88 steps: model 1 reached 95.5 %;
# with 30 epochs 96.9 %, and every convolutional preset passed 96 %; Blank with its own learning rate too).
SMALL_DATA_SET = 2000
MIN_TRAINING_STEPS = 500  # a small set's epochs are raised towards this many optimizer steps...
MAX_SMALL_SET_EPOCHS = 30  # ... up to this many epochs


def defaults_for(preset: Preset, training_examples: int | None) -> Hyperparameters:
    """The preset's training settings for a data set with this many training examples: its app defaults; for a
    small set its small-set settings when it has some, with more epochs (towards MIN_TRAINING_STEPS steps, at
    most MAX_SMALL_SET_EPOCHS epochs)."""
    if not training_examples or training_examples >= SMALL_DATA_SET:
        return preset.app_hyperparameters
    hp = preset.small_set_hyperparameters or preset.app_hyperparameters
    fitted = training_examples - int(training_examples * hp.validation_split)
    batches = max(1, -(-fitted // hp.batch_size))
    epochs = min(MAX_SMALL_SET_EPOCHS, -(-MIN_TRAINING_STEPS // batches))
    return hp if epochs <= hp.epochs else Hyperparameters.from_dict({**hp.to_dict(), "epochs": epochs})


def defaults_for_dataset(preset: Preset, dataset: str) -> Hyperparameters:
    """The preset's training settings for the named data set (``defaults_for`` its number of training
    examples), as the app and ``python -m core train --preset`` both start from; the app defaults when the data
    set cannot be loaded."""
    from core.data.datasets import DatasetUnavailable, load_dataset

    try:
        examples = len(load_dataset(dataset).x_train)
    except DatasetUnavailable:
        examples = None
    return defaults_for(preset, examples)


def default_preset_for(is_images: bool, training_examples: int | None = None) -> str:
    """The starting point for a data set: model 1 for images; for a table the tabular network, or the Linear
    preset when the table has fewer than SMALL_DATA_SET training rows."""
    if is_images:
        return DEFAULT_PRESET
    if training_examples is not None and training_examples < SMALL_DATA_SET:
        return "linear"
    return DEFAULT_TABLE_PRESET


def preset_advice(is_images: bool, training_examples: int) -> str:
    """Why the data set starts from its preset, when that is worth saying (a small table), else ""."""
    if is_images or training_examples >= SMALL_DATA_SET:
        return ""
    return (
        f"With {training_examples:,} training rows the model starts as the Linear preset (linear regression): on "
        f"tables of fewer than {SMALL_DATA_SET:,} rows, hidden layers usually learn the rows by heart and predict "
        "new ones worse. Try the Tabular preset on Build to compare."
    )
