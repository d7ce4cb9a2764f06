"""What an experiment can vary, built from the model itself, and how chosen values change a model.

A factor is a key and its values. Keys (``layerN`` is the 1-based layer number shown on Build):

- ``layerN.ARG``: a setting of layer N (``layer3.filters``, ``layer6.units``, ``layer1.kernel_size``,
  ``layer2.rate``);
- ``layerN``: keep or remove layer N (values ``keep``, ``remove``);
- ``addN``: add a layer so that it becomes layer N (values ``none`` and a layer type, or ``ConvBlock``:
  a convolution and a pooling layer; ``ResidualBlock``: a residual block as wide as the convolution above),
  e.g. ``add7=none,Dropout`` after model 1's hidden Dense layer, or ``add1=none,RandomFlip`` (with or without
  augmentation);
- a training setting: ``optimizer``, ``learning_rate``, ``batch_size``, ``epochs``.

Layer numbers always refer to the model the experiment starts from, so several factors combine
without one renumbering the other's layers; an Add or Concatenate keeps taking the same earlier layer.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass

from core.model.augmentation import AUGMENTATION_TYPES
from core.model.edit import new_layer, repoint_merges
from core.model.spec import LAYER_TYPES, Arg, is_image_spec
from core.training.hyperparams import FIELDS_BY_NAME, MAX_BATCH_SIZE, MAX_EPOCHS, OPTIMIZERS, SCHEDULES, Hyperparameters

TRAINING_FACTORS = ("optimizer", "learning_rate", "batch_size", "epochs", "learning_rate_schedule", "label_smoothing")
# The one setting of each layer type that says how big it is: offered first in the factor lists.
MAIN_SIZES = {
    "Conv2D": ("filters", "kernel_size"),
    "ResidualBlock": ("filters",),
    "Dense": ("units",),
    "Dropout": ("rate",),
}
CONV_BLOCK = "ConvBlock"
NONE = "none"
KEEP, REMOVE = "keep", "remove"
RESIDUAL_BLOCK = "ResidualBlock"
ADDABLE = ("Dropout", "BatchNormalization", "Dense", "Conv2D", CONV_BLOCK, RESIDUAL_BLOCK, *sorted(AUGMENTATION_TYPES))
IMAGE_ONLY = ("Conv2D", CONV_BLOCK, RESIDUAL_BLOCK, *AUGMENTATION_TYPES)
MAX_VALUES = 8  # values per factor

_LAYER_KEY = re.compile(r"^layer(\d+)(?:\.(\w+))?$")
_ADD_KEY = re.compile(r"^add(\d+)$")


class FactorError(ValueError):
    """A factor or one of its values cannot be used; the message says why, in plain words."""


@dataclass(frozen=True)
class Factor:
    key: str
    values: tuple
    label: str = ""

    def to_dict(self) -> dict:
        return {"key": self.key, "values": list(self.values), "label": self.label}

    @classmethod
    def from_dict(cls, data: dict) -> Factor:
        return cls(data["key"], tuple(_tupled(v) for v in data["values"]), data.get("label", ""))


@dataclass(frozen=True)
class FactorOption:
    """One entry of the factor lists the Experiment page offers, with values to start from."""

    key: str
    label: str
    kind: str  # "int", "float", "log" (learning rate), "choice"
    suggested: tuple
    choices: tuple = ()  # for "choice": every allowed value
    minimum: float | None = None
    maximum: float | None = None


def _tupled(value):
    return tuple(value) if isinstance(value, list) else value


# --- reading keys ----------------------------------------------------------------------------------


def _layer_at(spec: dict, number: int, key: str) -> dict:
    layers = spec.get("layers") or []
    if not 1 <= number <= len(layers):
        raise FactorError(f"{key}: the model has layers 1 to {len(layers)}; there is no layer {number}.")
    return layers[number - 1]


def factor_label(key: str, spec: dict) -> str:
    """The factor's name in words, e.g. 'Layer 3 (Conv2D): filters'."""
    if key in TRAINING_FACTORS:
        return key.replace("_", " ").capitalize()
    if match := _ADD_KEY.match(key):
        return f"Add a layer at position {match.group(1)}"
    match = _LAYER_KEY.match(key)
    if match:
        number, arg = int(match.group(1)), match.group(2)
        layers = spec.get("layers") or []
        kind = layers[number - 1].get("type", "?") if 1 <= number <= len(layers) else "?"
        if arg is None:
            return f"Layer {number} ({kind}): keep or remove"
        spec_arg = LAYER_TYPES[kind].arg(arg) if kind in LAYER_TYPES else None
        return f"Layer {number} ({kind}): {spec_arg.label.lower() if spec_arg else arg}"
    return key


def short_label(key: str) -> str:
    """The factor's name in a few words, for run names: 'layer 3 filters', 'add at 7', 'learning rate'."""
    if match := _ADD_KEY.match(key):
        return f"add at {match.group(1)}"
    if match := _LAYER_KEY.match(key):
        return f"layer {match.group(1)} " + (match.group(2) or "kept").replace("_", " ")
    return key.replace("_", " ")


def _parse_number(text: str, whole: bool, key: str):
    try:
        value = float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise FactorError(f"{key}: {text!r} is not {kind}.") from None
    if not math.isfinite(value):
        raise FactorError(f"{key}: {text!r} is not a usable number.")
    if whole:
        if value != int(value):
            raise FactorError(f"{key}: {text!r} is not a whole number.")
        return int(value)
    return value


def _parse_arg_value(arg: Arg, text: str, key: str):
    if arg.kind in ("int", "pair", "layer"):
        return _parse_number(text, True, key)
    if arg.kind == "float":
        return _parse_number(text, False, key)
    if arg.kind == "bool":
        if text.lower() not in ("true", "false"):
            raise FactorError(f"{key}: use true or false (got {text!r}).")
        return text.lower() == "true"
    if text not in arg.choices:
        raise FactorError(f"{key}: {text!r} is not one of {', '.join(map(str, arg.choices))}.")
    return text


def parse_value(key: str, text: str, spec: dict):
    """One value of the factor ``key`` from its text (as typed on the command line)."""
    text = text.strip()
    if key == "optimizer":
        if text.lower() not in OPTIMIZERS:
            raise FactorError(f"optimizer: {text!r} is not one of {', '.join(OPTIMIZERS)}.")
        return text.lower()
    if key == "learning_rate":
        value = _parse_number(text, False, key)
        if not 0 < value <= 10:
            raise FactorError(f"learning_rate: {text} must be above 0 and at most 10.")
        return value
    if key == "learning_rate_schedule":
        if text.lower() not in SCHEDULES:
            raise FactorError(f"learning_rate_schedule: {text!r} is not one of {', '.join(SCHEDULES)}.")
        return text.lower()
    if key == "label_smoothing":
        value = _parse_number(text, False, key)
        problem = FIELDS_BY_NAME[key].problem(value)
        if problem:
            raise FactorError(f"label_smoothing: {problem}")
        return value
    if key in ("batch_size", "epochs"):
        value = _parse_number(text, True, key)
        top = MAX_EPOCHS if key == "epochs" else MAX_BATCH_SIZE
        if not 1 <= value <= top:
            raise FactorError(f"{key}: {text} must be from 1 to {top}.")
        return value
    if _ADD_KEY.match(key):
        if text.lower() == NONE:
            return NONE
        kind = next((k for k in ADDABLE if k.lower() == text.lower()), None)
        if kind is None:
            raise FactorError(f"{key}: {text!r} is not one of none, {', '.join(ADDABLE)}.")
        return kind
    match = _LAYER_KEY.match(key)
    if match and match.group(2) is None:
        if text.lower() not in (KEEP, REMOVE):
            raise FactorError(f"{key}: use keep or remove (got {text!r}).")
        return text.lower()
    layer = _layer_at(spec, int(match.group(1)), key)
    return _parse_arg_value(LAYER_TYPES[layer["type"]].arg(match.group(2)), text, key)


def check_key(key: str, spec: dict) -> None:
    """Raise FactorError unless ``key`` names something this model has."""
    if key in TRAINING_FACTORS:
        return
    layers = spec.get("layers") or []
    if match := _ADD_KEY.match(key):
        position = int(match.group(1))
        if not 1 <= position <= len(layers) + 1:
            raise FactorError(f"{key}: a new layer can be at position 1 to {len(layers) + 1}.")
        return
    match = _LAYER_KEY.match(key)
    if match is None:
        raise FactorError(
            f"{key!r} is not a factor: use layerN.SETTING (layerN as numbered on Build, e.g. layer3.filters), "
            f"layerN (keep/remove), addN (a new layer at position N), or one of {', '.join(TRAINING_FACTORS)}."
        )
    layer = _layer_at(spec, int(match.group(1)), key)
    arg = match.group(2)
    if arg is None:
        return
    kind = layer.get("type")
    layer_type = LAYER_TYPES.get(kind)
    if layer_type is None or layer_type.arg(arg) is None:
        names = ", ".join(a.name for a in layer_type.args) if layer_type and layer_type.args else "no settings"
        raise FactorError(f"{key}: layer {match.group(1)} is a {kind}, which has {names}; it has no {arg!r}.")


def parse_factor(text: str, spec: dict) -> Factor:
    """A factor from ``KEY=V1,V2,...`` as given to ``--vary``; FactorError with a plain message if bad."""
    if "=" not in text:
        raise FactorError(f"--vary {text!r}: write KEY=VALUE1,VALUE2 (for example layer3.filters=16,32).")
    key, _, raw = text.partition("=")
    key = key.strip()
    check_key(key, spec)
    parts = [p for p in (part.strip() for part in raw.split(",")) if p]
    if len(parts) < 2:
        raise FactorError(f"{key}: give at least two values, separated by commas.")
    return make_factor(key, [parse_value(key, p, spec) for p in parts], spec)


def make_factor(key: str, values, spec: dict) -> Factor:
    """A checked factor from already-typed values (the page's chips): at least two distinct values."""
    check_key(key, spec)
    distinct = list(dict.fromkeys(_tupled(v) for v in values))
    if len(distinct) < 2:
        raise FactorError(f"{factor_label(key, spec)}: give at least two different values.")
    if len(distinct) > MAX_VALUES:
        raise FactorError(f"{factor_label(key, spec)}: at most {MAX_VALUES} values per factor.")
    return Factor(key, tuple(distinct), factor_label(key, spec))


# --- the lists the page offers ---------------------------------------------------------------------


def log_spaced(low: float, high: float, count: int) -> list[float]:
    """``count`` values from low to high, evenly spaced on a log scale, rounded to 2 significant digits."""
    if count < 2:
        return [low]
    step = (math.log10(high) - math.log10(low)) / (count - 1)
    return [float(f"{10 ** (math.log10(low) + i * step):.2g}") for i in range(count)]


def _sizes_around(value: int, low: int = 1) -> tuple:
    return tuple(dict.fromkeys(max(low, v) for v in (value // 2, value, value * 2)))


def factor_options(spec: dict, hp: Hyperparameters) -> list[FactorOption]:
    """Every factor this model offers, each with values to start from: its layers' main sizes, keeping or
    removing each hidden layer, adding a layer at each position, and the training settings."""
    layers = spec.get("layers") or []
    options = []
    for number, layer in enumerate(layers, start=1):
        kind = layer.get("type")
        for arg_name in MAIN_SIZES.get(kind, ()):
            arg = LAYER_TYPES[kind].arg(arg_name)
            current = layer.get(arg_name, arg.default)
            key = f"layer{number}.{arg_name}"
            if arg.kind == "float":
                options.append(
                    FactorOption(key, factor_label(key, spec), "float", (0.1, 0.25, 0.5), minimum=0.0, maximum=0.95)
                )
            elif arg_name == "kernel_size":
                options.append(FactorOption(key, factor_label(key, spec), "int", (3, 5), minimum=1, maximum=15))
            elif number < len(layers):  # the output layer's units are fixed by the data
                size = current if isinstance(current, int) else arg.default
                options.append(
                    FactorOption(
                        key, factor_label(key, spec), "int", _sizes_around(size), minimum=1, maximum=arg.maximum
                    )
                )
    for number in range(1, len(layers)):  # never the output layer
        key = f"layer{number}"
        options.append(FactorOption(key, factor_label(key, spec), "choice", (KEEP, REMOVE), choices=(KEEP, REMOVE)))
    images = is_image_spec(spec)
    addable = tuple(k for k in ADDABLE if images or k not in IMAGE_ONLY)
    for position in range(1, len(layers) + 1):  # before the output layer at the latest
        key = f"add{position}"
        # At the top of an image model, augmentation (with or without) is the natural question.
        suggested = (NONE, "RandomRotation") if images and position == 1 else (NONE, "Dropout")
        options.append(FactorOption(key, factor_label(key, spec), "choice", suggested, choices=(NONE, *addable)))
    lr = hp.effective_learning_rate
    options += [
        FactorOption("optimizer", "Optimizer", "choice", ("adam", "sgd"), choices=tuple(OPTIMIZERS)),
        FactorOption(
            "learning_rate", "Learning rate", "log", tuple(log_spaced(lr / 10, lr * 10, 3)), minimum=1e-6, maximum=10
        ),
        FactorOption(
            "batch_size",
            "Batch size",
            "int",
            tuple(dict.fromkeys((max(16, hp.batch_size // 2), hp.batch_size, hp.batch_size * 2))),
            minimum=1,
            maximum=MAX_BATCH_SIZE,
        ),
        FactorOption(
            "epochs",
            "Epochs",
            "int",
            tuple(dict.fromkeys((max(1, hp.epochs // 2), hp.epochs))),
            minimum=1,
            maximum=MAX_EPOCHS,
        ),
        FactorOption(
            "learning_rate_schedule",
            "Learning-rate schedule",
            "choice",
            ("constant", "one_cycle"),
            choices=tuple(SCHEDULES),
        ),
        FactorOption("label_smoothing", "Label smoothing", "float", (0.0, 0.1), minimum=0.0, maximum=0.45),
    ]
    return options


# --- applying values -------------------------------------------------------------------------------


def _added_layers(kind: str, spec: dict, before: int) -> list[dict]:
    if kind == NONE:
        return []
    convs = [layer for layer in spec["layers"][: before - 1] if layer.get("type") in ("Conv2D", RESIDUAL_BLOCK)]
    if kind == CONV_BLOCK:
        filters = 2 * int(convs[-1].get("filters", 32)) if convs else 32
        conv = {**new_layer("Conv2D"), "filters": filters, "padding": "same"}
        return [conv, {"type": "MaxPooling2D", "pool_size": 2}]
    if kind == RESIDUAL_BLOCK:  # as wide as the convolution above: its input is added back as it is
        return [{**new_layer(kind), "filters": int(convs[-1].get("filters", 32)) if convs else 32}]
    return [new_layer(kind)]


def apply_values(
    spec: dict, hp: Hyperparameters, values: dict, *, keep_learning_rate: bool = False
) -> tuple[dict, Hyperparameters]:
    """The variant's spec and settings: ``values`` maps factor keys to one value each.

    Layer numbers refer to ``spec`` as given: settings change first, then layers are removed and added.
    An optimizer factor without a learning-rate factor follows ``Hyperparameters.with_optimizer``: the
    learner's own learning rate is kept (``keep_learning_rate``), any other becomes each optimizer's own.
    """
    variant = copy.deepcopy(spec)
    layers = variant["layers"]
    changes = {}
    removed, added = set(), {}
    for key, value in values.items():
        if key in TRAINING_FACTORS:
            changes[key] = value
            if key == "optimizer" and "learning_rate" not in values:
                changes["learning_rate"] = hp.with_optimizer(value, keep_learning_rate=keep_learning_rate).learning_rate
        elif match := _ADD_KEY.match(key):
            added[int(match.group(1))] = value
        else:
            match = _LAYER_KEY.match(key)
            number, arg = int(match.group(1)), match.group(2)
            if arg is None:
                if value == REMOVE:
                    removed.add(number)
            else:
                layers[number - 1][arg] = list(value) if isinstance(value, tuple) else value
    result, origins = [], []
    for number in range(1, len(layers) + 2):
        if number in added:
            new = _added_layers(added[number], spec, number)
            result += new
            origins += [None] * len(new)
        if number <= len(layers) and number not in removed:
            result.append(layers[number - 1])
            origins.append(number - 1)
    repoint_merges(result, origins)
    variant["layers"] = result
    hp = Hyperparameters.from_dict({**hp.to_dict(), **changes}) if changes else hp
    return variant, hp


def format_value(value) -> str:
    """A factor value as the tables and charts show it."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "×".join(map(str, value))
    return str(value)
