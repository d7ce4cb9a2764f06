"""Architecture spec: the one JSON-serialisable description of a model.

A spec is ``{"input_shape": [28, 28, 1], "layers": [{"type": "Conv2D", "filters": 16, ...}, ...]}``
where ``type`` is a Keras layer class name and the other keys are that layer's constructor
arguments. This module knows every supported layer (a registry, not an if-chain), computes each
layer's output shape and parameter count without Keras, and explains problems in plain words. It
never imports Keras: the Keras model of a spec is :mod:`core.model.keras_build`'s, and the edits of a
spec (add, remove, move a layer; merges kept on their layers) are :mod:`core.model.edit`'s.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.config import DEFAULT_PARAM_BUDGET
from core.messages import quote as _short
from core.model.augmentation_layers import AUGMENTATION_LAYER_TYPES
from core.model.layer_type import Arg, InnerLayer, LayerType, Shape, ShapeError
from core.numbers import is_finite_number, is_whole_number

MAX_LAYERS = 100
MAX_INPUT_SIDE = 4_096  # any one input dimension (pixels per side, channels, table features)
SPEC_KEYS = ("input_shape", "layers")
BYTES_PER_VALUE = 4  # float32

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "linear", "elu", "selu", "gelu", "swish", "leaky_relu")
PADDINGS = ("valid", "same")

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


# --- graph layers: residual blocks and merges ------------------------------------------------------
# A spec stays a list of layers; these few take a second input as well. ``with`` names the earlier layer
# by its number as shown on Build (1-based; 0 is the input), so the edits re-point it when layers move
# (core.model.edit.repoint_merges).

GRAPH_TYPES = frozenset({"ResidualBlock", "Add", "Concatenate"})
MERGE_TYPES = frozenset({"Add", "Concatenate"})
MAX_PROJECTION_STRIDE = 8


def _shape_words(shape: Shape) -> str:
    """14×14×32 for maps, "12,544 values" for a flat vector."""
    return f"{shape[0]:,} values" if len(shape) == 1 else dims_text(shape)


def _source_text(number: int) -> str:
    return "the input" if number == 0 else f"layer {number}"


def _inner_conv(name, branch, shape, filters, kernel, strides, use_bias) -> InnerLayer:
    kh, kw = _pair(kernel)
    sh, sw = _pair(strides)
    out = (math.ceil(shape[0] / sh), math.ceil(shape[1] / sw), filters)
    kwargs = {"filters": filters, "kernel_size": kernel, "strides": strides, "padding": "same", "use_bias": use_bias}
    kwargs = {
        k: v for k, v in kwargs.items() if (k, v) not in (("strides", 1), ("strides", [1, 1]), ("use_bias", True))
    }
    return InnerLayer(name, "Conv2D", kwargs, branch, out, kh * kw * shape[-1] * filters + (filters if use_bias else 0))


def _inner_batchnorm(name, branch, shape) -> InnerLayer:
    return InnerLayer(name, "BatchNormalization", {}, branch, shape, 4 * shape[-1])


def residual_layers(shape: Shape, source: Shape | None, a: dict, name: str, earlier=()) -> list[InnerLayer]:
    """A residual block's Keras layers: ``convs`` convolutions ('same' padding, no bias: BatchNormalization
    after each supplies the offset), ReLU between them, the block's input added back, then ReLU.

    When the stride or the number of filters changes the shape, the shortcut is a 1×1 convolution with the
    same stride (and BatchNormalization), so the two can be added; otherwise the input is added as it is.
    """
    _require_image(shape, "ResidualBlock")
    filters, strides, activation = int(a["filters"]), a.get("strides", 1), a.get("activation", "relu")
    layers, current = [], shape
    for n in range(1, int(a.get("convs", 2)) + 1):
        conv = _inner_conv(
            f"{name}_conv{n}", "main", current, filters, a["kernel_size"], strides if n == 1 else 1, False
        )
        layers += [conv, _inner_batchnorm(f"{name}_bn{n}", "main", conv.output_shape)]
        current = conv.output_shape
        if n < int(a.get("convs", 2)):
            layers.append(InnerLayer(f"{name}_act{n}", "Activation", {"activation": activation}, "main", current, 0))
    if current != shape:
        projection = _inner_conv(f"{name}_shortcut", "shortcut", shape, filters, 1, strides, False)
        layers += [projection, _inner_batchnorm(f"{name}_shortcut_bn", "shortcut", current)]
    layers.append(InnerLayer(f"{name}_add", "Add", {}, "main", current, 0))
    layers.append(InnerLayer(name, "Activation", {"activation": activation}, "main", current, 0))
    return layers


def _projection_stride(main: Shape, other: Shape) -> int | None:
    """The stride of a 1×1 convolution ('same' padding) that turns ``other``'s height and width into
    ``main``'s, or None when no stride does."""
    if len(main) != 3 or len(other) != 3:
        return None
    return next(
        (
            s
            for s in range(1, MAX_PROJECTION_STRIDE + 1)
            if math.ceil(other[0] / s) == main[0] and math.ceil(other[1] / s) == main[1]
        ),
        None,
    )


def merge_fits(kind: str, main: Shape | None, other: Shape | None, projection: bool = False) -> bool:
    """Whether a merge of ``kind`` can join ``main`` (its input) with ``other`` (the earlier layer's output)."""
    if main is None or other is None:
        return False
    if kind == "Add":
        return main == other or (projection and _projection_stride(main, other) is not None)
    return len(main) == len(other) and main[:-1] == other[:-1]  # Concatenate: same height and width


def _fitting_text(kind: str, main: Shape, earlier, projection: bool) -> str:
    # The last of ``earlier`` is the layer just above: already the merge's input, never a suggestion.
    numbers = [n for n, other in enumerate(earlier[:-1]) if merge_fits(kind, main, other, projection)]
    if not numbers:
        return ""
    names = [_source_text(n) for n in numbers[-3:]]
    listed = " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
    return f" ({listed} {'fits' if len(names) == 1 else 'fit'})"


def add_layers(main: Shape, other: Shape, a: dict, name: str, earlier=()) -> list[InnerLayer]:
    """An Add of the layer's input and an earlier layer's output; with ``projection`` the earlier output
    first passes a 1×1 convolution (with a stride when its maps are larger) that gives it the input's shape."""
    source, projection = int(a["with"]), bool(a.get("projection", False))
    if projection:
        stride = _projection_stride(main, other)
        if stride is None:
            raise ShapeError(
                f"Add's 1×1 convolution on the shortcut cannot turn {_source_text(source)}'s {_shape_words(other)} "
                f"into {_shape_words(main)}"
                + ("" if len(main) == 3 == len(other) else ": it works on feature maps only"),
                "merge with a layer whose maps are the same size or a whole multiple of it"
                + _fitting_text("Add", main, earlier, True),
            )
        conv = _inner_conv(f"{name}_shortcut", "shortcut", other, main[-1], 1, stride, True)
        return [conv, InnerLayer(name, "Add", {}, "main", main, 0)]
    if main != other:
        if _projection_stride(main, other) is not None:
            fix = "use a 1×1 convolution on the shortcut (turn on '1×1 convolution on the shortcut' on this layer)"
        else:
            fix = f"merge with a layer that gives {_shape_words(main)}"
        raise ShapeError(
            f"Add needs both inputs {_shape_words(main)}; {_source_text(source)} gives {_shape_words(other)}",
            fix + _fitting_text("Add", main, earlier, False),
        )
    return [InnerLayer(name, "Add", {}, "main", main, 0)]


def concatenate_layers(main: Shape, other: Shape, a: dict, name: str, earlier=()) -> list[InnerLayer]:
    """The layer's input and an earlier layer's output side by side: their channels (or values) joined."""
    if not merge_fits("Concatenate", main, other):
        source = int(a["with"])
        if len(main) == 3 and len(other) == 3:
            need = f"both inputs {_fmt_hw(*main[:2])} in size"
        else:
            need = "both inputs to be feature maps or both flat vectors"
        raise ShapeError(
            f"Concatenate needs {need}; its input is {_shape_words(main)} and {_source_text(source)} gives "
            f"{_shape_words(other)}",
            "merge with a layer of the same height and width" + _fitting_text("Concatenate", main, earlier, False),
        )
    return [InnerLayer(name, "Concatenate", {}, "main", (*main[:-1], main[-1] + other[-1]), 0)]


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
_MERGE_WITH = Arg(
    "with",
    "layer",
    None,
    "Merge with",
    "The earlier layer whose output joins this point (by its number on Build; 0 is the input).",
    required=True,
    keras=False,
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
        LayerType(
            "ResidualBlock",
            "Two (or three) convolutions with BatchNormalization whose input is added back to their output (a "
            "skip connection): deep networks train better when each block only has to learn a correction.",
            (
                Arg(
                    "filters",
                    "int",
                    32,
                    "Filters",
                    "How many patterns each of the block's convolutions learns to detect.",
                    required=True,
                    minimum=1,
                    maximum=1024,
                    keras=False,
                ),
                Arg(
                    "kernel_size",
                    "pair",
                    3,
                    "Kernel size",
                    "The width and height of each convolution's filters, in pixels.",
                    required=True,
                    minimum=1,
                    maximum=15,
                    keras=False,
                ),
                Arg(
                    "convs",
                    "int",
                    2,
                    "Convolutions",
                    "How many convolutions the block has before its input is added back (2 or 3).",
                    minimum=2,
                    maximum=3,
                    keras=False,
                ),
                Arg(
                    "strides",
                    "pair",
                    1,
                    "Stride",
                    "The first convolution's step: 2 halves the image's height and width (the shortcut then gets a "
                    "1×1 convolution with the same stride, so the two still fit).",
                    minimum=1,
                    maximum=4,
                    keras=False,
                ),
                Arg(
                    "activation",
                    "choice",
                    "relu",
                    "Activation",
                    "The function applied between the convolutions and after the addition.",
                    choices=ACTIVATIONS,
                    advanced=True,
                    keras=False,
                ),
            ),
            None,
            None,
            image_only=True,
            inner=residual_layers,
        ),
        LayerType(
            "Add",
            "Adds an earlier layer's output to this point's values, number by number (a skip connection you "
            "wire yourself): both must have the same shape.",
            (
                _MERGE_WITH,
                Arg(
                    "projection",
                    "bool",
                    False,
                    "1×1 convolution on the shortcut",
                    "Pass the earlier layer's output through a 1×1 convolution first (with a stride when its maps "
                    "are larger), so its shape fits when the number of channels or the size differs.",
                    keras=False,
                ),
            ),
            None,
            None,
            image_only=True,  # its words and its fix (a 1×1 convolution) are about feature maps
            inner=add_layers,
            merge=True,
        ),
        LayerType(
            "Concatenate",
            "Puts an earlier layer's output beside this point's values, joining their channels: both need the "
            "same height and width.",
            (_MERGE_WITH,),
            None,
            None,
            image_only=True,
            inner=concatenate_layers,
            merge=True,
        ),
    ]
}
# Data augmentation layers are described by their own module (core.model.augmentation_layers).
LAYER_TYPES.update({t.name: t for t in AUGMENTATION_LAYER_TYPES})


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
    inner: tuple[InnerLayer, ...] = ()  # a graph layer's Keras layers (a residual block's convolutions...)


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
            parts = [(p.type, p.output_shape) for p in report.inner] or [(report.type, report.output_shape)]
            values = sum(_KEPT_TENSORS.get(kind, 1) * math.prod(out) for kind, out in parts)
            per_layer.append((report, 2 * values * batch_size * BYTES_PER_VALUE))
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
                f"; layer {report.index + 1} ({report.type}, output {dims_text(report.output_shape)}) "
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
        lowest = max(1, int(arg.minimum or 1))
        if value < lowest:
            return f"{arg.label.lower()} must be at least {lowest} (got {_short(value)})"
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
        if (arg.minimum is not None and value < arg.minimum) or (arg.maximum is not None and value > arg.maximum):
            return f"{arg.label.lower()} must be from {arg.minimum:g} to {arg.maximum:g} (got {_short(value)})"
    elif arg.kind == "choice":
        if not isinstance(value, str) or value not in arg.choices:
            return f"{arg.label.lower()} must be one of {', '.join(arg.choices)} (got {_short(value)})"
    elif arg.kind == "bool":
        if not isinstance(value, bool):
            return f"{arg.label.lower()} must be true or false (got {_short(value)})"
    elif arg.kind == "layer":
        if not is_whole_number(value) or not 0 <= value <= MAX_LAYERS:
            return f"{arg.label.lower()} must be a layer number (0 for the input; got {_short(value)})"
    return None


_ARG_FIXES = {
    "rate": "use a rate such as 0.25 or 0.5",
    "with": "pick one of the layers above it",
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
                    _ARG_FIXES.get(arg.name, f"set {arg.label.lower()}, for example to {arg.default}"),
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
                f"the model expects inputs of shape {dims_text(shape)} but the data set has {dims_text(data_shape)}",
                f"set the input shape to {list(data_shape)}",
            )
        )
    layers = spec["layers"]
    names = layer_names(spec)
    shapes: list[Shape | None] = [shape]  # shapes[n]: the output of layer n (0: the input), for merges
    for index, (name, layer) in enumerate(zip(names, layers)):
        own_problems = layer_problems(index, layer)
        analysis.problems.extend(own_problems)
        kind = layer.get("type") if isinstance(layer, dict) else None
        report = LayerReport(index, name, str(kind), None, None)
        analysis.layers.append(report)
        if own_problems or shape is None:
            shape = None
            shapes.append(None)
            continue
        layer_type = LAYER_TYPES[kind]
        args = {**layer_type.defaults(), **layer}
        try:
            if layer_type.inner is not None:
                source = _merge_source(index, args, shapes) if layer_type.merge else None
                inner = tuple(layer_type.inner(shape, source, args, name, shapes[: index + 1]))
                out, report.params, report.inner = inner[-1].output_shape, sum(p.params for p in inner), inner
            else:
                out = layer_type.output_shape(shape, args)
                report.params = layer_type.params(shape, args)
        except ShapeError as err:
            analysis.problems.append(Problem(err.message, err.fix, index))
            shape = None
            shapes.append(None)
            continue
        report.output_shape = shape = tuple(out)
        shapes.append(shape)
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


def _merge_source(index: int, args: dict, shapes: list) -> Shape:
    """The shape of the earlier layer a merge at ``index`` names (ShapeError when it names no earlier layer)."""
    number = int(args["with"])
    if number > index:
        raise ShapeError(
            f"{args['type']} takes {_source_text(number)}, which is not above it",
            f"pick one of the layers above it (1 to {index}) or 0 for the input" if index else "take 0, the input",
        )
    other = shapes[number]
    if other is None:  # that layer has a problem of its own, reported there
        raise ShapeError(
            f"{args['type']} takes {_source_text(number)}, whose output is not known", "fix that layer first"
        )
    return other


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


def dims_text(shape) -> str:
    """A shape as the pages write it: 28×28×1 (no batch dimension)."""
    return "×".join(str(v) for v in shape)


def is_image_spec(spec) -> bool:
    """Whether the spec takes images (height × width × channels) rather than a table's rows."""
    return isinstance(spec, dict) and len(spec.get("input_shape") or ()) == 3


def format_shape(shape: Shape | None) -> str:
    """Keras-style output shape with the batch dimension: (None, 26, 26, 16)."""
    if shape is None:
        return "—"
    return "(" + ", ".join(["None", *map(str, shape)]) + ")"


# --- spec helpers ----------------------------------------------------------------------------


def keras_kwargs(layer: dict) -> dict:
    """Constructor arguments for the Keras layer class (lists become tuples; the app's own settings, such as
    a merge's earlier layer, are left out)."""
    layer_type = LAYER_TYPES.get(layer.get("type"))
    own = {a.name for a in layer_type.args if not a.keras} if layer_type else set()
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in layer.items() if k != "type" and k not in own}


def is_graph(spec: dict) -> bool:
    """Whether the spec has a residual block or a merge, so its Keras model is functional, not Sequential."""
    return any(isinstance(layer, dict) and layer.get("type") in GRAPH_TYPES for layer in spec.get("layers") or [])


def merge_number(layer: dict) -> int | None:
    """The earlier layer a merge takes (1-based; 0: the input), or None for any other layer."""
    if isinstance(layer, dict) and layer.get("type") in MERGE_TYPES and is_whole_number(layer.get("with")):
        return int(layer["with"])
    return None
