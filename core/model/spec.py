"""Architecture spec: the one JSON-serialisable description of a model.

A spec is ``{"input_shape": [28, 28, 1], "layers": [{"type": "Conv2D", "filters": 16, ...}, ...]}``
where ``type`` is a Keras layer class name and the other keys are that layer's constructor
arguments. This module knows every supported layer (a registry, not an if-chain), computes each
layer's output shape and parameter count without Keras, and explains problems in plain words.
Only :func:`build_model` imports Keras.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.messages import quote as _short
from core.numbers import is_finite_number, is_whole_number

DEFAULT_PARAM_BUDGET = 5_000_000
MAX_LAYERS = 100
MAX_INPUT_SIDE = 4_096  # any one input dimension (pixels per side, channels, table features)
SPEC_KEYS = ("input_shape", "layers")
BYTES_PER_VALUE = 4  # float32

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "linear", "elu", "selu", "gelu", "swish", "leaky_relu")
PADDINGS = ("valid", "same")

Shape = tuple[int, ...]


class ShapeError(Exception):
    """A layer cannot be applied to the shape it receives; carries a message and its fix."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Arg:
    """One constructor argument of a layer, with what the builder needs to show a widget for it."""

    name: str
    kind: str  # "int", "pair" (int or [h, w]), "float", "choice", "bool"
    default: Any
    label: str
    help: str
    required: bool = False
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    allow_none: bool = False
    advanced: bool = False  # tucked away under "more settings" in the builder


@dataclass(frozen=True)
class LayerType:
    name: str
    summary: str  # one plain-language sentence for non-programmers
    args: tuple[Arg, ...]
    output_shape: Callable[[Shape, dict], Shape]
    params: Callable[[Shape, dict], int]
    image_only: bool = False  # only makes sense on H×W×C inputs (hidden for tabular data)

    def arg(self, name: str) -> Arg | None:
        return next((a for a in self.args if a.name == name), None)

    def defaults(self) -> dict:
        return {a.name: a.default for a in self.args}


# --- shape and parameter rules -------------------------------------------------------------


def _pair(value) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[-1])
    return int(value), int(value)


def _fmt_hw(h: int, w: int) -> str:
    return f"{h}×{w}"


def _require_image(shape: Shape, layer: str) -> None:
    if len(shape) != 3:
        raise ShapeError(
            f"{layer} needs an image (height × width × channels) but receives a flat vector of {shape[0]} values here",
            f"move {layer} above the Flatten / GlobalAveragePooling2D layer",
        )


def _window_output(shape: Shape, window, strides, padding: str, layer: str, what: str) -> Shape:
    _require_image(shape, layer)
    h, w, c = shape
    kh, kw = _pair(window)
    sh, sw = _pair(strides if strides is not None else window)
    if padding == "same":
        return math.ceil(h / sh), math.ceil(w / sw), c
    if kh > h or kw > w:
        raise ShapeError(
            f"the {what} is {_fmt_hw(kh, kw)} but the image is only {_fmt_hw(h, w)} at this point",
            f"use a {what} of at most {_fmt_hw(min(kh, h), min(kw, w))}, set padding to 'same', "
            f"or remove a pooling layer above",
        )
    return (h - kh) // sh + 1, (w - kw) // sw + 1, c


def _conv_shape(shape: Shape, a: dict) -> Shape:
    h, w, _ = _window_output(
        shape, a["kernel_size"], a.get("strides", 1), a.get("padding", "valid"), "Conv2D", "kernel"
    )
    return h, w, int(a["filters"])


def _conv_params(shape: Shape, a: dict) -> int:
    kh, kw = _pair(a["kernel_size"])
    bias = int(a["filters"]) if a.get("use_bias", True) else 0
    return kh * kw * shape[-1] * int(a["filters"]) + bias


def _pool_shape(layer: str) -> Callable[[Shape, dict], Shape]:
    def shape_rule(shape: Shape, a: dict) -> Shape:
        return _window_output(
            shape, a.get("pool_size", 2), a.get("strides"), a.get("padding", "valid"), layer, "pooling window"
        )

    return shape_rule


def _dense_shape(shape: Shape, a: dict) -> Shape:
    if len(shape) != 1:
        raise ShapeError(
            f"Dense expects a flat vector but receives a {'×'.join(map(str, shape))} feature map here",
            "add Flatten or GlobalAveragePooling2D before Dense",
        )
    return (int(a["units"]),)


def _dense_params(shape: Shape, a: dict) -> int:
    bias = int(a["units"]) if a.get("use_bias", True) else 0
    return shape[-1] * int(a["units"]) + bias


def _global_pool_shape(layer: str) -> Callable[[Shape, dict], Shape]:
    def shape_rule(shape: Shape, a: dict) -> Shape:
        _require_image(shape, layer)
        return (shape[-1],)

    return shape_rule


def _same(shape: Shape, a: dict) -> Shape:
    return shape


def _flatten(shape: Shape, a: dict) -> Shape:
    return (math.prod(shape),)


def _no_params(shape: Shape, a: dict) -> int:
    return 0


def _batchnorm_params(shape: Shape, a: dict) -> int:
    # gamma, beta (trained) and moving mean, moving variance (not trained): Keras counts all four.
    return 4 * shape[-1]


# --- the registry ---------------------------------------------------------------------------

_ACTIVATION = Arg(
    "activation",
    "choice",
    "relu",
    "Activation",
    "The function applied to each output; relu is a good default, softmax for the output layer.",
    choices=ACTIVATIONS,
)
_PADDING = Arg(
    "padding",
    "choice",
    "valid",
    "Padding",
    "'valid' shrinks the image a little at each layer; 'same' keeps its size.",
    choices=PADDINGS,
    advanced=True,
)

_POOL_ARGS = (
    Arg(
        "pool_size",
        "pair",
        2,
        "Pool size",
        "The size of the window that is reduced to one value.",
        minimum=1,
        maximum=8,
    ),
    Arg(
        "strides",
        "pair",
        None,
        "Stride",
        "Step between windows; empty means the same as the pool size.",
        minimum=1,
        maximum=8,
        allow_none=True,
        advanced=True,
    ),
    _PADDING,
)

LAYER_TYPES: dict[str, LayerType] = {
    t.name: t
    for t in [
        LayerType(
            "Conv2D",
            "Slides small learned filters over the image to detect local patterns such as edges and textures.",
            (
                Arg(
                    "filters",
                    "int",
                    32,
                    "Filters",
                    "How many different patterns this layer learns to detect.",
                    required=True,
                    minimum=1,
                    maximum=1024,
                ),
                Arg(
                    "kernel_size",
                    "pair",
                    3,
                    "Kernel size",
                    "The width and height of each filter, in pixels.",
                    required=True,
                    minimum=1,
                    maximum=15,
                ),
                Arg(
                    "strides",
                    "pair",
                    1,
                    "Stride",
                    "How many pixels the filter moves at each step.",
                    minimum=1,
                    maximum=8,
                    advanced=True,
                ),
                _PADDING,
                _ACTIVATION,
                Arg(
                    "use_bias", "bool", True, "Use bias", "Add a learned offset to each filter's output.", advanced=True
                ),
            ),
            _conv_shape,
            _conv_params,
            image_only=True,
        ),
        LayerType(
            "MaxPooling2D",
            "Shrinks the image by keeping the strongest value in each small window, so later layers see a wider area.",
            _POOL_ARGS,
            _pool_shape("MaxPooling2D"),
            _no_params,
            image_only=True,
        ),
        LayerType(
            "AveragePooling2D",
            "Shrinks the image by averaging each small window.",
            _POOL_ARGS,
            _pool_shape("AveragePooling2D"),
            _no_params,
            image_only=True,
        ),
        LayerType(
            "BatchNormalization",
            "Rescales the values flowing through the network so training is faster and steadier.",
            (),
            _same,
            _batchnorm_params,
        ),
        LayerType(
            "Dropout",
            "Switches off a random share of values while training, so the network cannot just memorise the data.",
            (
                Arg(
                    "rate",
                    "float",
                    0.25,
                    "Rate",
                    "The share of values switched off at each step (0 to below 1).",
                    required=True,
                    minimum=0.0,
                    maximum=1.0,
                ),
            ),
            _same,
            _no_params,
        ),
        LayerType(
            "Flatten",
            "Unrolls the image into one long list of numbers so Dense layers can use it.",
            (),
            _flatten,
            _no_params,
            image_only=True,
        ),
        LayerType(
            "GlobalAveragePooling2D",
            "Averages each feature map into a single number: a compact alternative to Flatten.",
            (),
            _global_pool_shape("GlobalAveragePooling2D"),
            _no_params,
            image_only=True,
        ),
        LayerType(
            "GlobalMaxPooling2D",
            "Keeps the strongest value of each feature map: another alternative to Flatten.",
            (),
            _global_pool_shape("GlobalMaxPooling2D"),
            _no_params,
            image_only=True,
        ),
        LayerType(
            "Dense",
            "Connects every input to every output; the last Dense layer gives the answer: a score per class, or "
            "the predicted number.",
            (
                Arg(
                    "units",
                    "int",
                    128,
                    "Units",
                    "How many outputs (neurons) this layer has.",
                    required=True,
                    minimum=1,
                    maximum=100_000,
                ),
                _ACTIVATION,
                Arg("use_bias", "bool", True, "Use bias", "Add a learned offset to each output.", advanced=True),
            ),
            _dense_shape,
            _dense_params,
        ),
    ]
}


# --- validation ------------------------------------------------------------------------------


@dataclass
class Problem:
    """Something that stops the model from training, said so a learner can act on it."""

    message: str
    fix: str
    layer: int | None = None  # 0-based index into spec["layers"]; None for the whole model

    def text(self) -> str:
        where = f"Layer {self.layer + 1}: " if self.layer is not None else ""
        return f"{where}{self.message} — {self.fix}."


@dataclass
class LayerReport:
    index: int
    name: str  # the Keras layer name, as in the model summary
    type: str
    output_shape: Shape | None  # without the batch dimension; None when it cannot be computed
    params: int | None


@dataclass
class Analysis:
    input_shape: Shape | None
    layers: list[LayerReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    memory: MemoryEstimate | None = None  # training memory at the batch size asked for, when shapes are known

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def total_params(self) -> int:
        return sum(r.params or 0 for r in self.layers)

    def problems_at(self, index: int | None) -> list[Problem]:
        return [p for p in self.problems if p.layer == index]

    def training_memory(self, batch_size: int) -> MemoryEstimate:
        """The peak memory one training step of this model takes at ``batch_size`` (see MemoryEstimate)."""
        per_layer = []
        shape = self.input_shape
        for report in self.layers:
            if report.output_shape is None:
                break
            kept = _KEPT_TENSORS.get(report.type, 1)
            per_layer.append((report, 2 * kept * math.prod(report.output_shape) * batch_size * BYTES_PER_VALUE))
        inputs = math.prod(shape) * batch_size * BYTES_PER_VALUE if shape else 0
        # Weights, their gradients and the optimizer's two slots per weight (Adam's moments).
        params = 4 * self.total_params * BYTES_PER_VALUE
        return MemoryEstimate(batch_size, inputs, params, per_layer)


# Forward tensors a layer keeps for the backward pass, each with a gradient of the same size there:
# its output (TensorFlow fuses a Conv2D's or Dense's activation into it), plus Dropout's mask and
# BatchNormalization's normalised values. Checked against measured memory by bench/memory_estimate.py.
_KEPT_TENSORS = {"Dropout": 2, "BatchNormalization": 2}


@dataclass(frozen=True)
class MemoryEstimate:
    """Peak training memory of a model at one batch size, in bytes (float32).

    Every layer's output for the whole batch and its gradient, plus the input batch, plus the weights,
    their gradients and the optimizer's state. TensorFlow's own runtime and the data set are not counted.
    """

    batch_size: int
    inputs_bytes: int
    params_bytes: int
    layers: list[tuple[LayerReport, int]]  # each layer with the bytes its activations take

    @property
    def total_bytes(self) -> int:
        return self.inputs_bytes + self.params_bytes + sum(size for _, size in self.layers)

    @property
    def total_mb(self) -> float:
        return self.total_bytes / 1024**2

    @property
    def costliest(self) -> tuple[LayerReport, int] | None:
        return max(self.layers, key=lambda item: item[1], default=None)

    def over_budget_problem(self, budget_mb: float) -> Problem | None:
        """A plain problem naming the costliest layer when the estimate is over ``budget_mb``, else None."""
        if self.total_mb <= budget_mb:
            return None
        costliest = self.costliest
        where = ""
        if costliest is not None:
            report, size = costliest
            where = (
                f"; layer {report.index + 1} ({report.type}, output {_fmt_shape(report.output_shape)}) "
                f"alone takes {size / 1024**2:,.0f} MB"
            )
        return Problem(
            f"training this model at batch size {self.batch_size:,} needs about {self.total_mb:,.0f} MB of memory, "
            f"more than the {budget_mb:,.0f} MB each training may use{where}",
            "use a smaller batch size, fewer filters or units in that layer, or pooling or strides earlier "
            "to shrink the feature maps",
            costliest[0].index if costliest is not None else None,
        )


def _snake(name: str) -> str:
    """Keras' own rule: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def layer_names(spec: dict) -> list[str]:
    """Keras-style unique names (conv2d, conv2d_1, ...), fixed per spec so summaries and code agree."""
    seen: dict[str, int] = {}
    names = []
    layers = spec.get("layers") if isinstance(spec, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        kind = layer.get("type") if isinstance(layer, dict) else None
        base = _snake(kind) if isinstance(kind, str) and kind in LAYER_TYPES else "layer"
        n = seen.get(base, 0)
        seen[base] = n + 1
        names.append(base if n == 0 else f"{base}_{n}")
    return names


def _check_arg(arg: Arg, value) -> str | None:
    """Return a plain message when the value does not fit the argument, else None."""
    if value is None:
        return None if arg.allow_none else f"{arg.label.lower()} must be set"
    if arg.kind == "int":
        if not is_whole_number(value):
            return f"{arg.label.lower()} must be a whole number (got {_short(value)})"
        if value < 1:
            return f"{arg.label.lower()} must be at least 1 (got {_short(value)})"
        if arg.maximum is not None and value > arg.maximum:
            return f"{arg.label.lower()} must be at most {arg.maximum:,} (got {_short(value)})"
    elif arg.kind == "pair":
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if not (
            len(values) == (2 if isinstance(value, (list, tuple)) else 1) and all(is_whole_number(v) for v in values)
        ):
            return f"{arg.label.lower()} must be a whole number or a pair of two whole numbers (got {_short(value)})"
        if min(values) < 1:
            return f"{arg.label.lower()} must be at least 1 (got {_short(value)})"
        if arg.maximum is not None and max(values) > arg.maximum:
            return f"{arg.label.lower()} must be at most {int(arg.maximum)} (got {_short(value)})"
    elif arg.kind == "float":
        if not is_finite_number(value):
            return f"{arg.label.lower()} must be a number (got {_short(value)})"
        if arg.name == "rate" and not (0 <= value < 1):
            return f"the dropout rate must be at least 0 and below 1 (got {_short(value)})"
    elif arg.kind == "choice":
        if not isinstance(value, str) or value not in arg.choices:
            return f"{arg.label.lower()} must be one of {', '.join(arg.choices)} (got {_short(value)})"
    elif arg.kind == "bool":
        if not isinstance(value, bool):
            return f"{arg.label.lower()} must be true or false (got {_short(value)})"
    return None


_ARG_FIXES = {
    "rate": "use a rate such as 0.25 or 0.5",
}


def layer_problems(index: int, layer: Any) -> list[Problem]:
    """The problems of one layer on its own: its type and its settings (not its shapes)."""
    if not isinstance(layer, dict) or "type" not in layer:
        return [Problem("this layer has no type", "give it a type such as Conv2D or Dense", index)]
    kind = layer["type"]
    if not isinstance(kind, str):
        return [Problem("the layer type must be a name such as Conv2D or Dense", "write the type as text", index)]
    layer_type = LAYER_TYPES.get(kind)
    if layer_type is None:
        close = difflib.get_close_matches(kind[:100], LAYER_TYPES, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return [
            Problem(f"unknown layer type {_short(kind)}", f"{hint}supported types are {', '.join(LAYER_TYPES)}", index)
        ]
    problems = []
    for key, value in layer.items():
        if key == "type":
            continue
        arg = layer_type.arg(key) if isinstance(key, str) else None
        if arg is None:
            key = str(key)
            names = [a.name for a in layer_type.args]
            close = difflib.get_close_matches(key[:100], names, n=1)
            if close:
                fix = f"did you mean {close[0]!r}"
            elif names:
                fix = f"remove it; {kind} accepts {', '.join(names)}"
            else:
                fix = f"remove it; {kind} takes no settings"
            problems.append(Problem(f"{kind} has no setting {_short(key)}", fix, index))
            continue
        message = _check_arg(arg, value)
        if message:
            fix = _ARG_FIXES.get(key, f"set {arg.label.lower()} to a value like {arg.default}")
            problems.append(Problem(message, fix, index))
    for arg in layer_type.args:
        if arg.required and arg.name not in layer:
            problems.append(
                Problem(
                    f"{kind} needs a value for {arg.label.lower()}",
                    f"set {arg.label.lower()}, for example to {arg.default}",
                    index,
                )
            )
    return problems


def input_shape_problems(spec_input) -> list[Problem]:
    """Why an input shape is not one a model can have (empty when it is fine)."""
    return _shape_problems(spec_input)[1]


def _shape_problems(spec_input) -> tuple[Shape | None, list[Problem]]:
    if (
        not isinstance(spec_input, (list, tuple))
        or len(spec_input) not in (1, 3)
        or not all(is_whole_number(v) and 0 < v <= MAX_INPUT_SIDE for v in spec_input)
    ):
        return None, [
            Problem(
                f"the input shape {_short(spec_input)} is not valid",
                "use [height, width, channels] for images or [features] for tables, "
                f"each a whole number from 1 to {MAX_INPUT_SIDE:,}",
            )
        ]
    return tuple(spec_input), []


def structure_problems(spec: Any) -> list[Problem]:
    """What makes ``spec`` not a model description at all: its type, keys and nesting (not its shapes).

    Cheap and total: any JSON value gets either [] or plain problems, so it runs before anything else.
    """
    if not isinstance(spec, dict):
        return [Problem("the model description is not a JSON object", 'use {"input_shape": [...], "layers": [...]}')]
    problems = [
        Problem(f"the model description has an unknown part {_short(key)}", f"keep only {' and '.join(SPEC_KEYS)}")
        for key in spec
        if key not in SPEC_KEYS
    ][:5]
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers:
        problems.append(Problem("the model has no layers", "add layers, ending with a Dense output layer"))
    elif len(layers) > MAX_LAYERS:
        problems.append(
            Problem(f"the model has {len(layers):,} layers, more than the limit of {MAX_LAYERS}", "remove layers")
        )
    else:
        for index, layer in enumerate(layers):
            if isinstance(layer, dict) and not all(_plain_value(v) for v in layer.values()):
                problems.append(
                    Problem(
                        "a setting holds something other than a number, text, true/false or a pair of numbers",
                        "give each setting a single value",
                        index,
                    )
                )
    return problems


def _plain_value(value) -> bool:
    scalar = (bool, int, float, str, type(None))
    return isinstance(value, scalar) or (
        isinstance(value, (list, tuple)) and len(value) <= 2 and all(isinstance(v, scalar) for v in value)
    )


def analyze(
    spec: Any,
    data_shape: Shape | None = None,
    num_classes: int | None = None,
    task: str = "classification",
    param_budget: int = DEFAULT_PARAM_BUDGET,
    batch_size: int | None = None,
    memory_budget_mb: float | None = None,
) -> Analysis:
    """Compute each layer's output shape and params and list every problem, with its fix.

    ``data_shape`` and ``num_classes`` describe the data set the model will be trained on. With a
    ``batch_size`` the analysis estimates the training memory too, and with ``memory_budget_mb`` a model
    over that budget is a problem naming its costliest layer.
    """
    structure = structure_problems(spec)
    if structure and not (isinstance(spec, dict) and isinstance(spec.get("layers"), list) and spec["layers"]):
        return Analysis(None, problems=structure)
    if any(p.layer is not None for p in structure) or len(spec["layers"]) > MAX_LAYERS:
        return Analysis(None, problems=structure)
    shape, problems = _shape_problems(spec.get("input_shape"))
    analysis = Analysis(shape, problems=structure + problems)
    if shape is not None and data_shape is not None and tuple(data_shape) != shape:
        analysis.problems.append(
            Problem(
                f"the model expects inputs of shape {_fmt_shape(shape)} but the data set has {_fmt_shape(data_shape)}",
                f"set the input shape to {list(data_shape)}",
            )
        )
    layers = spec["layers"]
    names = layer_names(spec)
    for index, (name, layer) in enumerate(zip(names, layers)):
        own_problems = layer_problems(index, layer)
        analysis.problems.extend(own_problems)
        kind = layer.get("type") if isinstance(layer, dict) else None
        report = LayerReport(index, name, str(kind), None, None)
        analysis.layers.append(report)
        if own_problems or shape is None:
            shape = None
            continue
        layer_type = LAYER_TYPES[kind]
        args = {**layer_type.defaults(), **layer}
        try:
            out = layer_type.output_shape(shape, args)
        except ShapeError as err:
            analysis.problems.append(Problem(err.message, err.fix, index))
            shape = None
            continue
        report.params = layer_type.params(shape, args)
        report.output_shape = shape = tuple(out)
    _output_problems(analysis, layers, num_classes, task)
    if analysis.total_params > param_budget:
        analysis.problems.append(
            Problem(
                f"the model has {analysis.total_params:,} parameters, more than the limit of {param_budget:,}",
                "use fewer filters or units, or add pooling before Flatten to shrink the Dense layer",
            )
        )
    if is_whole_number(batch_size) and batch_size > 0 and all(r.output_shape is not None for r in analysis.layers):
        analysis.memory = analysis.training_memory(batch_size)
        over = analysis.memory.over_budget_problem(memory_budget_mb) if memory_budget_mb else None
        if over is not None:
            analysis.problems.append(over)
    return analysis


def analyze_for(
    spec: Any,
    data,
    param_budget: int = DEFAULT_PARAM_BUDGET,
    batch_size: int | None = None,
    memory_budget_mb: float | None = None,
) -> Analysis:
    """analyze() against a data set (anything with input_shape, num_classes and task)."""
    return analyze(
        spec,
        data.input_shape,
        data.num_classes,
        task=data.task,
        param_budget=param_budget,
        batch_size=batch_size,
        memory_budget_mb=memory_budget_mb,
    )


def _output_problems(analysis: Analysis, layers: list, num_classes: int | None, task: str) -> None:
    last_index = len(layers) - 1
    last = layers[-1] if isinstance(layers[-1], dict) else {}
    if last.get("type") != "Dense":
        analysis.problems.append(
            Problem(
                "the last layer must be a Dense layer that gives the model's output",
                "add a Dense layer at the end" + (f" with {num_classes} units" if num_classes else ""),
                last_index,
            )
        )
        return
    units = last.get("units")
    activation = last.get("activation", "linear")
    if task == "classification":
        if num_classes is not None and units != num_classes:
            analysis.problems.append(
                Problem(
                    f"the output layer has {_short(units)} units but the data set has {num_classes} classes",
                    f"set the last Dense layer to {num_classes} units",
                    last_index,
                )
            )
        if activation != "softmax":
            analysis.problems.append(
                Problem(
                    f"the output layer uses {_short(activation)}, so its outputs are not class probabilities",
                    "set the last Dense layer's activation to softmax",
                    last_index,
                )
            )
    else:
        if units != 1:
            analysis.problems.append(
                Problem(
                    f"the output layer has {_short(units)} units but a regression predicts one number",
                    "set the last Dense layer to 1 unit",
                    last_index,
                )
            )
        if activation != "linear":
            analysis.problems.append(
                Problem(
                    f"the output layer uses {_short(activation)}, which limits the values it can predict",
                    "set the last Dense layer's activation to linear",
                    last_index,
                )
            )


def _fmt_shape(shape) -> str:
    return "×".join(str(v) for v in shape)


def format_shape(shape: Shape | None) -> str:
    """Keras-style output shape with the batch dimension: (None, 26, 26, 16)."""
    if shape is None:
        return "—"
    return "(" + ", ".join(["None", *map(str, shape)]) + ")"


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    """Keras colours some error text for terminals; users see it without the escape codes."""
    return ANSI_ESCAPE.sub("", text)


# --- spec helpers ----------------------------------------------------------------------------


def new_layer(kind: str) -> dict:
    """A layer of this type with sensible defaults, ready to be inserted into a spec."""
    layer = {"type": kind}
    layer.update({a.name: a.default for a in LAYER_TYPES[kind].args if a.required or a.default is not None})
    return layer


def keras_kwargs(layer: dict) -> dict:
    """Constructor arguments for the Keras layer class (lists become tuples)."""
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in layer.items() if k != "type"}


# BatchNormalization keeps running averages of each batch's mean and spread for use at test time. Keras'
# momentum of 0.99 averages over about the last 100 batches: a small data set (1,438 images at batch 256
# are 6 batches an epoch) never gets there, so validation and test see averages still near their start
# (mean 0, spread 1) and collapse towards guessing while training accuracy climbs.
KERAS_BATCH_NORM_MOMENTUM = 0.99
MIN_BATCH_NORM_MOMENTUM = 0.5


def batch_norm_momentum(batches_per_epoch: int | None) -> float:
    """The running averages' momentum for this many training batches per epoch: Keras' 0.99 (about 100
    batches) when an epoch has 200 or more, else an average over half an epoch's batches, so by the end of
    every epoch the averages describe the network as it is (from 0.5 for 4 batches or fewer)."""
    if not batches_per_epoch or batches_per_epoch <= 0:
        return KERAS_BATCH_NORM_MOMENTUM
    window = batches_per_epoch / 2
    momentum = 1 - 1 / window if window > 1 else 0.0
    return round(min(KERAS_BATCH_NORM_MOMENTUM, max(MIN_BATCH_NORM_MOMENTUM, momentum)), 3)


def has_batch_norm(spec: dict) -> bool:
    return any(
        isinstance(layer, dict) and layer.get("type") == "BatchNormalization" for layer in spec.get("layers", [])
    )


def build_model(spec: dict, batches_per_epoch: int | None = None):
    """The Keras model for a valid spec. Layer names are fixed so they match :func:`analyze`.

    Args:
        batches_per_epoch: training batches per epoch, when known: BatchNormalization's momentum is chosen
            from it (:func:`batch_norm_momentum`), so small data sets get settled running averages.
    """
    import keras

    momentum = batch_norm_momentum(batches_per_epoch)
    layers = [keras.Input(shape=tuple(spec["input_shape"]))]
    for name, layer in zip(layer_names(spec), spec["layers"]):
        kwargs = keras_kwargs(layer)
        if layer["type"] == "BatchNormalization":
            kwargs.setdefault("momentum", momentum)
        layers.append(getattr(keras.layers, layer["type"])(name=name, **kwargs))
    return keras.Sequential(layers, name="cnn_playground_model")
