"""How one number inside a trained model was computed, with the model's own weights and one input image.

For a convolution: the input patch under the kernel (every input channel), the kernel's weights, their
element-wise products, the sum plus the bias and the activation. For a pooling window: its values and
which one won (or their mean). For a Dense layer (e.g. the output): the inputs that contributed most,
the sum plus the bias and the activation (softmax over every class's sum for an output layer). For an Add
(a skip connection): the value on the main path plus the value the shortcut brings, at the same place of
two feature maps or the same index of two flat vectors (two Dense layers' outputs). For a Concatenate:
which of its inputs the value comes from, and where in it.

Every result carries ``model_value``: the same number read from the model's own forward pass, so a view
can show (and a test can check) that the arithmetic gives exactly what the network computed.
Pure Python, NumPy and Keras: no UI code here.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

POOL_TYPES = frozenset({"MaxPooling2D", "AveragePooling2D"})
EXPLAINED_TYPES = frozenset({"Conv2D", "Dense", "Add", "Concatenate"}) | POOL_TYPES


class NotExplainable(Exception):
    """The layer, filter or position asked for does not exist in this model; the message says why."""


def _pair(value) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def layer_values(model, image: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each layer's input and output for one image (batch dimension dropped), by layer name.

    One pass through the model in inference mode, so a layer's input is exactly what the model feeds it: a
    Sequential model's layers one after another; a functional one (residual blocks, merges) through a probe
    model of its own graph, where an Add's input is the list of its inputs.
    """
    batch = np.asarray(image, dtype=np.float32)[None]
    values = {}
    if not isinstance(model, keras.Sequential):
        layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        inputs = [layer.input if isinstance(layer.input, list) else [layer.input] for layer in layers]
        probe = keras.Model(model.inputs, [t for tensors in inputs for t in tensors] + [lay.output for lay in layers])
        flat = [keras.ops.convert_to_numpy(v)[0] for v in probe(batch, training=False)]
        outputs, position = flat[-len(layers) :], 0
        for layer, tensors, output in zip(layers, inputs, outputs):
            taken = flat[position : position + len(tensors)]
            position += len(tensors)
            values[layer.name] = (taken if isinstance(layer.input, list) else taken[0], output)
        return values
    current = keras.ops.convert_to_tensor(batch)
    for layer in model.layers:
        output = layer(current, training=False)
        values[layer.name] = (keras.ops.convert_to_numpy(current)[0], keras.ops.convert_to_numpy(output)[0])
        current = output
    return values


def reads_the_image(model, layer) -> bool:
    """Whether the layer's input is the model's input image itself (the first layer)."""
    if isinstance(model, keras.Sequential):
        return layer is model.layers[0]
    return not isinstance(layer.input, list) and isinstance(_producer(layer.input), keras.layers.InputLayer)


def _producer(tensor):
    """The layer whose output ``tensor`` is (Keras' own record of the graph)."""
    return tensor._keras_history.operation


def _parents(layer) -> list:
    inputs = layer.input if isinstance(layer.input, list) else [layer.input]
    return [_producer(t) for t in inputs]


def explainable_layers(model) -> list:
    """The layers whose numbers this module can explain, in model order."""
    return [layer for layer in model.layers if type(layer).__name__ in EXPLAINED_TYPES]


def _layer(model, name: str):
    try:
        layer = model.get_layer(name)
    except ValueError:
        raise NotExplainable(f"The model has no layer called {name!r}.") from None
    return layer


def _model_output(model, layer, image: np.ndarray) -> np.ndarray:
    """The layer's output from a Keras sub-model of the trained model: the number the network computed."""
    probe = keras.Model(inputs=model.inputs, outputs=layer.output)
    return keras.ops.convert_to_numpy(probe([np.asarray(image, dtype=np.float32)[None]], training=False))[0]


def window_origin(size: int, out_size: int, kernel: int, stride: int, padding: str, position: int) -> int:
    """Where the window for output ``position`` starts in the input (negative: it starts in the padding).

    'same' pads with (total // 2) before and the rest after, as TensorFlow and Keras do.
    """
    if padding == "same":
        total = max((out_size - 1) * stride + kernel - size, 0)
        return position * stride - total // 2
    return position * stride


def _window(values: np.ndarray, top: int, left: int, height: int, width: int, fill: float):
    """The (height, width, channels) window of ``values`` at (top, left), ``fill`` outside, and where it was inside."""
    rows, cols, channels = values.shape
    window = np.full((height, width, channels), fill, dtype=np.float64)
    inside = np.zeros((height, width), dtype=bool)
    r0, r1 = max(top, 0), min(top + height, rows)
    c0, c1 = max(left, 0), min(left + width, cols)
    if r0 < r1 and c0 < c1:
        window[r0 - top : r1 - top, c0 - left : c1 - left] = values[r0:r1, c0:c1]
        inside[r0 - top : r1 - top, c0 - left : c1 - left] = True
    return window, inside


def _check_position(row: int, col: int, shape, what: str) -> None:
    height, width = shape[:2]
    if not (0 <= row < height and 0 <= col < width):
        raise NotExplainable(
            f"Position ({row}, {col}) is outside the {what}, which is {height}×{width} "
            f"(rows 0 to {height - 1}, columns 0 to {width - 1})."
        )


def _activation_name(layer) -> str:
    return getattr(layer.activation, "__name__", str(layer.activation))


def _apply_activation(layer, value: float) -> float:
    return float(keras.ops.convert_to_numpy(layer.activation(np.array([[value]], dtype=np.float32)))[0, 0])


# --- convolution -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvArithmetic:
    """One value of a Conv2D feature map, worked out from the layer's input and weights.

    ``patch``, ``kernel`` and ``products`` are (kernel height, kernel width, input channels); positions of
    the window that lie in the 'same' padding hold 0 and are False in ``inside``.
    """

    layer: str
    filter: int
    row: int
    col: int
    top: int  # the window's first input row (negative: it starts in the padding)
    left: int
    stride: tuple[int, int]
    padding: str
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    patch: np.ndarray
    inside: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    bias: float
    activation: str
    model_value: float  # the feature map's value at (row, col), from the model itself

    @property
    def weighted_sum(self) -> float:
        return float(self.products.sum())

    @property
    def pre_activation(self) -> float:
        return self.weighted_sum + self.bias

    def channel_sums(self) -> np.ndarray:
        """Each input channel's share of the sum."""
        return self.products.sum(axis=(0, 1))


def conv_arithmetic(model, image: np.ndarray, layer_name: str, filter_index: int, row: int, col: int):
    """How filter ``filter_index`` of Conv2D layer ``layer_name`` computed its value at (row, col)."""
    layer = _layer(model, layer_name)
    if type(layer).__name__ != "Conv2D":
        raise NotExplainable(f"{layer_name} is a {type(layer).__name__}, not a convolution layer.")
    kernel = keras.ops.convert_to_numpy(layer.kernel).astype(np.float64)  # (kh, kw, in, out)
    if not 0 <= filter_index < kernel.shape[-1]:
        raise NotExplainable(f"{layer_name} has {kernel.shape[-1]} filters (0 to {kernel.shape[-1] - 1}).")
    if _pair(getattr(layer, "dilation_rate", 1)) != (1, 1) or getattr(layer, "groups", 1) != 1:
        raise NotExplainable(f"{layer_name} uses dilation or groups, which this view does not explain.")
    layer_input, layer_output = layer_values(model, image)[layer.name]
    _check_position(row, col, layer_output.shape, f"feature map of {layer_name}")
    kh, kw = kernel.shape[:2]
    sh, sw = _pair(layer.strides)
    top = window_origin(layer_input.shape[0], layer_output.shape[0], kh, sh, layer.padding, row)
    left = window_origin(layer_input.shape[1], layer_output.shape[1], kw, sw, layer.padding, col)
    patch, inside = _window(layer_input.astype(np.float64), top, left, kh, kw, 0.0)
    weights = kernel[..., filter_index]
    bias = float(keras.ops.convert_to_numpy(layer.bias)[filter_index]) if layer.use_bias else 0.0
    return ConvArithmetic(
        layer=layer.name,
        filter=filter_index,
        row=row,
        col=col,
        top=top,
        left=left,
        stride=(sh, sw),
        padding=layer.padding,
        input_shape=tuple(int(v) for v in layer_input.shape),
        output_shape=tuple(int(v) for v in layer_output.shape),
        patch=patch,
        inside=inside,
        kernel=weights,
        products=patch * weights,
        bias=bias,
        activation=_activation_name(layer),
        model_value=float(_model_output(model, layer, image)[row, col, filter_index]),
    )


def conv_result(arithmetic: ConvArithmetic, model) -> float:
    """The activation applied to the sum plus bias: the value the arithmetic arrives at."""
    return _apply_activation(model.get_layer(arithmetic.layer), arithmetic.pre_activation)


# --- pooling ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolArithmetic:
    """One value of a pooling layer's output: its window over one channel of the layer's input.

    ``window`` is (pool height, pool width); positions in the 'same' padding are NaN and False in
    ``inside`` (Keras leaves them out of both the maximum and the mean).
    """

    layer: str
    type: str  # MaxPooling2D or AveragePooling2D
    channel: int
    row: int
    col: int
    top: int
    left: int
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    window: np.ndarray
    inside: np.ndarray
    model_value: float

    @property
    def winner(self) -> tuple[int, int] | None:
        """Where in the window the maximum is (max pooling only)."""
        if self.type != "MaxPooling2D":
            return None
        return tuple(int(v) for v in np.unravel_index(np.nanargmax(self.window), self.window.shape))

    @property
    def value(self) -> float:
        """The maximum, or the mean of the window's values inside the input."""
        if self.type == "MaxPooling2D":
            return float(np.nanmax(self.window))
        return float(np.nanmean(self.window))


def pool_arithmetic(model, image: np.ndarray, layer_name: str, channel: int, row: int, col: int) -> PoolArithmetic:
    """Which value of its window pooling layer ``layer_name`` kept (or averaged) at (row, col, channel)."""
    layer = _layer(model, layer_name)
    kind = type(layer).__name__
    if kind not in POOL_TYPES:
        raise NotExplainable(f"{layer_name} is a {kind}, not a pooling layer.")
    layer_input, layer_output = layer_values(model, image)[layer.name]
    if not 0 <= channel < layer_output.shape[-1]:
        raise NotExplainable(f"{layer_name} has {layer_output.shape[-1]} channels (0 to {layer_output.shape[-1] - 1}).")
    _check_position(row, col, layer_output.shape, f"output of {layer_name}")
    ph, pw = _pair(layer.pool_size)
    sh, sw = _pair(layer.strides)
    top = window_origin(layer_input.shape[0], layer_output.shape[0], ph, sh, layer.padding, row)
    left = window_origin(layer_input.shape[1], layer_output.shape[1], pw, sw, layer.padding, col)
    window, inside = _window(layer_input[..., channel : channel + 1].astype(np.float64), top, left, ph, pw, np.nan)
    return PoolArithmetic(
        layer=layer.name,
        type=kind,
        channel=channel,
        row=row,
        col=col,
        top=top,
        left=left,
        input_shape=tuple(int(v) for v in layer_input.shape),
        output_shape=tuple(int(v) for v in layer_output.shape),
        window=window[..., 0],
        inside=inside,
        model_value=float(_model_output(model, layer, image)[row, col, channel]),
    )


# --- dense -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DenseArithmetic:
    """One unit of a Dense layer: every input times its weight, summed with the bias, then the activation.

    For a softmax layer (the output), ``logits`` holds every unit's sum plus bias and ``probabilities``
    their softmax, since one class's probability depends on all of them.
    """

    layer: str
    unit: int
    inputs: np.ndarray  # (n,) the layer's input, flattened
    weights: np.ndarray  # (n,) the weights into this unit
    products: np.ndarray  # (n,)
    bias: float
    activation: str
    logits: np.ndarray  # (units,) every unit's sum plus bias
    model_value: float  # this unit's output, from the model itself

    @property
    def pre_activation(self) -> float:
        return float(self.products.sum()) + self.bias

    @property
    def probabilities(self) -> np.ndarray:
        shifted = np.exp(self.logits - self.logits.max())
        return shifted / shifted.sum()

    def top_inputs(self, count: int = 8) -> list[int]:
        """The inputs that moved this unit's sum most (largest products by size), biggest first."""
        order = np.argsort(-np.abs(self.products), kind="stable")
        return [int(i) for i in order[:count]]

    def rest_sum(self, count: int = 8) -> float:
        """The sum of every product not among the top ``count``."""
        return float(self.products.sum() - self.products[self.top_inputs(count)].sum())


def dense_arithmetic(model, image: np.ndarray, layer_name: str, unit: int) -> DenseArithmetic:
    """How unit ``unit`` of Dense layer ``layer_name`` (for the output layer: one class) got its value."""
    layer = _layer(model, layer_name)
    if type(layer).__name__ != "Dense":
        raise NotExplainable(f"{layer_name} is a {type(layer).__name__}, not a Dense layer.")
    kernel = keras.ops.convert_to_numpy(layer.kernel).astype(np.float64)  # (n, units)
    if not 0 <= unit < kernel.shape[1]:
        raise NotExplainable(f"{layer_name} has {kernel.shape[1]} units (0 to {kernel.shape[1] - 1}).")
    layer_input, _ = layer_values(model, image)[layer.name]
    inputs = layer_input.reshape(-1).astype(np.float64)
    bias_all = (
        keras.ops.convert_to_numpy(layer.bias).astype(np.float64) if layer.use_bias else np.zeros(kernel.shape[1])
    )
    weights = kernel[:, unit]
    return DenseArithmetic(
        layer=layer.name,
        unit=unit,
        inputs=inputs,
        weights=weights,
        products=inputs * weights,
        bias=float(bias_all[unit]),
        activation=_activation_name(layer),
        logits=inputs @ kernel + bias_all,
        model_value=float(_model_output(model, layer, image).reshape(-1)[unit]),
    )


def dense_result(arithmetic: DenseArithmetic, model) -> float:
    """The unit's value from the arithmetic: softmax over all sums for a softmax layer, else the activation."""
    if arithmetic.activation == "softmax":
        return float(arithmetic.probabilities[arithmetic.unit])
    return _apply_activation(model.get_layer(arithmetic.layer), arithmetic.pre_activation)


# --- add and concatenate (skip connections) --------------------------------------------------------


@dataclass(frozen=True)
class AddArithmetic:
    """One value of an Add layer's output: the value each of its inputs has at the same place, summed.

    ``sources`` names the layer each input comes from (the main path first, then the shortcut). For feature
    maps the place is (row, col, channel); for flat vectors (two Dense outputs added) ``channel`` is the
    value's index and ``row`` and ``col`` are None.
    """

    layer: str
    channel: int
    row: int | None
    col: int | None
    sources: tuple[str, ...]
    values: tuple[float, ...]
    output_shape: tuple[int, ...]
    model_value: float

    @property
    def flat(self) -> bool:
        return self.row is None

    @property
    def value(self) -> float:
        return float(sum(self.values))


def _merge_layer(model, layer_name: str, kind: str):
    layer = _layer(model, layer_name)
    if type(layer).__name__ != kind:
        raise NotExplainable(
            f"{layer_name} is a {type(layer).__name__}, not a{'n' if kind == 'Add' else ''} {kind} layer."
        )
    return layer


def _place(output: np.ndarray, layer_name: str, channel: int, row: int | None, col: int | None) -> tuple:
    """The index of one output value: (row, col, channel) of maps, (channel,) of a flat vector; checked."""
    what = "channels" if output.ndim == 3 else "values"
    if output.ndim not in (1, 3):
        raise NotExplainable(
            f"{layer_name} gives an output of {output.ndim} dimensions, which this view does not explain."
        )
    if not 0 <= channel < output.shape[-1]:
        raise NotExplainable(f"{layer_name} has {output.shape[-1]} {what} (0 to {output.shape[-1] - 1}).")
    if output.ndim == 1:
        return (channel,)
    if row is None or col is None:
        raise NotExplainable(f"{layer_name} gives feature maps: pick a row and a column as well.")
    _check_position(row, col, output.shape, f"output of {layer_name}")
    return (row, col, channel)


def add_arithmetic(
    model, image: np.ndarray, layer_name: str, channel: int, row: int | None = None, col: int | None = None
) -> AddArithmetic:
    """How Add layer ``layer_name`` got its value at (row, col, channel) of its feature maps, or at index
    ``channel`` of the flat vectors it adds: its inputs' values there, added."""
    layer = _merge_layer(model, layer_name, "Add")
    inputs, output = layer_values(model, image)[layer.name]
    place = _place(output, layer_name, channel, row, col)
    flat = output.ndim == 1
    return AddArithmetic(
        layer=layer.name,
        channel=channel,
        row=None if flat else row,
        col=None if flat else col,
        sources=tuple(parent.name for parent in _parents(layer)),
        values=tuple(float(values[place]) for values in inputs),
        output_shape=tuple(int(v) for v in output.shape),
        model_value=float(_model_output(model, layer, image)[place]),
    )


@dataclass(frozen=True)
class ConcatArithmetic:
    """One value of a Concatenate layer's output: its inputs side by side along the last axis (channels of
    maps, values of flat vectors), so the value is one input's own, at its own index there."""

    layer: str
    channel: int  # in the output
    row: int | None
    col: int | None
    sources: tuple[str, ...]  # the layer of each input, the main path first
    widths: tuple[int, ...]  # each input's channels (or values)
    source: int  # which input the value comes from
    source_channel: int  # its channel (or index) in that input
    value: float  # the input's value there
    output_shape: tuple[int, ...]
    model_value: float

    @property
    def flat(self) -> bool:
        return self.row is None

    def ranges(self) -> list[tuple[int, int]]:
        """The output channels each input fills: (first, last), inclusive."""
        ends = np.cumsum(self.widths)
        return [(int(end - width), int(end - 1)) for end, width in zip(ends, self.widths)]


def concat_arithmetic(
    model, image: np.ndarray, layer_name: str, channel: int, row: int | None = None, col: int | None = None
) -> ConcatArithmetic:
    """Where Concatenate layer ``layer_name``'s value at (row, col, channel), or at index ``channel`` of a flat
    vector, comes from: which input, and which of its channels."""
    layer = _merge_layer(model, layer_name, "Concatenate")
    if getattr(layer, "axis", -1) not in (-1, len(layer.output.shape) - 1):
        raise NotExplainable(f"{layer_name} joins its inputs along another axis than the last.")
    inputs, output = layer_values(model, image)[layer.name]
    place = _place(output, layer_name, channel, row, col)
    widths = tuple(int(values.shape[-1]) for values in inputs)
    source = int(np.searchsorted(np.cumsum(widths), channel, side="right"))
    source_channel = channel - sum(widths[:source])
    flat = output.ndim == 1
    return ConcatArithmetic(
        layer=layer.name,
        channel=channel,
        row=None if flat else row,
        col=None if flat else col,
        sources=tuple(parent.name for parent in _parents(layer)),
        widths=widths,
        source=source,
        source_channel=source_channel,
        value=float(inputs[source][(*place[:-1], source_channel)]),
        output_shape=tuple(int(v) for v in output.shape),
        model_value=float(_model_output(model, layer, image)[place]),
    )


# --- where in the image ----------------------------------------------------------------------------


def receptive_field(model, layer_name: str, row: int, col: int) -> tuple[int, int, int, int]:
    """The part of the input image that output (row, col) of ``layer_name`` depends on.

    Returns (top, left, bottom, right), inclusive, clipped to the image: each convolution or pooling
    window on the way back widens the area by its size and multiplies it by its stride.
    """
    if not isinstance(model, keras.Sequential):
        return _graph_field(model, _layer(model, layer_name), layer_name, (row, row, col, col))
    top, bottom, left, right = row, row, col, col
    layers = model.layers[: model.layers.index(_layer(model, layer_name)) + 1]
    for layer in reversed(layers):
        top, bottom, left, right = _widened(layer, layer_name, (top, bottom, left, right))
    height, width = model.inputs[0].shape[1:3]
    return max(top, 0), max(left, 0), min(bottom, height - 1), min(right, width - 1)


def _graph_field(model, layer, layer_name: str, box) -> tuple[int, int, int, int]:
    """The receptive field in a functional model: back along every path to the input (a residual block's
    convolutions and its shortcut), the widest area any path reaches."""
    reached, seen = [], set()

    def walk(current, area):
        if (id(current), area) in seen:  # paths that rejoin (a block's two paths) are walked once from there
            return
        seen.add((id(current), area))
        if isinstance(current, keras.layers.InputLayer):
            reached.append(area)
            return
        area = _widened(current, layer_name, area)
        for parent in _parents(current):
            walk(parent, area)

    walk(layer, box)
    height, width = model.inputs[0].shape[1:3]
    top, bottom = min(a[0] for a in reached), max(a[1] for a in reached)
    left, right = min(a[2] for a in reached), max(a[3] for a in reached)
    return max(top, 0), max(left, 0), min(bottom, height - 1), min(right, width - 1)


def _widened(layer, layer_name: str, area):
    """The input area (top, bottom, left, right) ``layer``'s output area depends on."""
    top, bottom, left, right = area
    kind = type(layer).__name__
    if kind == "Conv2D":
        window = _pair(layer.kernel_size)
    elif kind in POOL_TYPES:
        window = _pair(layer.pool_size)
    elif len(layer.output.shape) == 4:
        return area  # BatchNormalization, Dropout, ReLU, Add: each value depends on the same place only
    else:
        raise NotExplainable(
            f"{layer_name} comes after {layer.name}, which flattens the maps: it sees all of the image."
        )
    (in_h, in_w), (out_h, out_w) = layer.input.shape[1:3], layer.output.shape[1:3]
    strides = _pair(layer.strides)
    top = window_origin(in_h, out_h, window[0], strides[0], layer.padding, top)
    bottom = window_origin(in_h, out_h, window[0], strides[0], layer.padding, bottom) + window[0] - 1
    left = window_origin(in_w, out_w, window[1], strides[1], layer.padding, left)
    right = window_origin(in_w, out_w, window[1], strides[1], layer.padding, right) + window[1] - 1
    return top, bottom, left, right
