"""Looking inside a trained model: its learned filters, its feature maps for one image, and Grad-CAM.

Works on the models that :func:`core.model.keras_build.build_model` makes (and that runs save as ``.keras``
files): Sequential stacks, and functional ones for models with residual blocks or merges. Pure Python and
Keras: no UI code here.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from core.runs.store import RunStore, is_run_id

MAX_FILTERS = 64  # filters shown per Conv2D layer
MAX_FEATURE_MAPS = 16  # channels shown per conv/pool layer
CONV_TYPES = frozenset({"Conv2D"})
FEATURE_MAP_TYPES = frozenset({"Conv2D", "MaxPooling2D", "AveragePooling2D"})


class ModelUnavailable(Exception):
    """The run has no saved model that can be opened; the message says why in plain words."""


class NotInspectable(Exception):
    """The model has nothing to show for this view (e.g. no Conv2D layer for Grad-CAM)."""


def load_run_model(store: RunStore, run_id: str):
    """The run's trained model from the store. Only the store's own ``.keras`` file, in safe mode."""
    path = store.model_path(run_id) if is_run_id(run_id) else None
    if path is None or not path.is_file():
        raise ModelUnavailable(
            "This run has no saved model: only runs that trained to the end (or were "
            "stopped after training began) keep one."
        )
    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # a damaged or foreign file: say so, never a traceback
        raise ModelUnavailable(
            f"The saved model of this run cannot be opened ({type(error).__name__}); train the run again."
        ) from error


def _kind(layer) -> str:
    return type(layer).__name__


def _batch(image: np.ndarray) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)[None]


def _unit_range(values: np.ndarray) -> np.ndarray:
    """Min-max scaled to 0..1; a constant array becomes 0.5 everywhere (there is nothing to contrast)."""
    values = np.asarray(values, dtype=np.float32)
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.full_like(values, 0.5)
    return (values - low) / (high - low)


# --- learned filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterGrid:
    """The filters of one Conv2D layer as small grey images (each scaled to 0..1 on its own)."""

    layer: str
    filters: np.ndarray  # (shown, kernel height, kernel width), values 0..1
    total: int  # filters in the layer (shown <= total)
    input_channels: int  # averaged over for display


def conv_filters(model, limit: int = MAX_FILTERS) -> list[FilterGrid]:
    """Every Conv2D layer's first ``limit`` filters, averaged over input channels, each scaled to 0..1."""
    grids = []
    for layer in model.layers:
        if _kind(layer) not in CONV_TYPES:
            continue
        kernel = keras.ops.convert_to_numpy(layer.kernel)  # (kh, kw, in, out)
        averaged = kernel.mean(axis=2).transpose(2, 0, 1)[:limit]  # (out, kh, kw)
        scaled = np.stack([_unit_range(f) for f in averaged])
        grids.append(FilterGrid(layer.name, scaled, kernel.shape[-1], kernel.shape[2]))
    return grids


# --- feature maps ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureMaps:
    """What one conv/pool layer outputs for one image: its first channels, raw values."""

    layer: str
    type: str
    shape: tuple[int, int, int]  # the layer's full output shape (height, width, channels)
    maps: np.ndarray  # (shown channels, height, width)


def feature_map_layers(model) -> list:
    return [layer for layer in model.layers if _kind(layer) in FEATURE_MAP_TYPES]


def feature_maps(model, image: np.ndarray, limit: int = MAX_FEATURE_MAPS) -> list[FeatureMaps]:
    """The outputs of every conv/pool layer for one input image (H×W×C, values 0..1)."""
    layers = feature_map_layers(model)
    if not layers:
        return []
    # Keras 3: a loaded Sequential is built, so its layers' symbolic outputs can feed a functional model.
    probe = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in layers])
    outputs = probe([_batch(image)], training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    result = []
    for layer, output in zip(layers, outputs):
        values = keras.ops.convert_to_numpy(output)[0]  # (h, w, c)
        result.append(
            FeatureMaps(
                layer.name, _kind(layer), tuple(int(v) for v in values.shape), values[..., :limit].transpose(2, 0, 1)
            )
        )
    return result


# --- prediction and Grad-CAM -----------------------------------------------------------------------


def predict_probabilities(model, image: np.ndarray) -> np.ndarray:
    """Class probabilities for one image (H×W×C, values 0..1)."""
    return keras.ops.convert_to_numpy(model(_batch(image), training=False))[0]


@dataclass(frozen=True)
class GradCam:
    heatmap: np.ndarray  # (input height, input width), 0..1: where the evidence for the class is
    class_index: int
    layer: str  # the layer it was computed on: the last Conv2D (a residual block's output in a functional model)
    probabilities: np.ndarray
    found_evidence: bool  # False when no region speaks for the class (the map is all zero)


def _pre_activation(layer, inputs):
    """The last Dense layer's scores before softmax: Grad-CAM on saturated probabilities has no gradient."""
    scores = keras.ops.matmul(inputs, layer.kernel)
    return scores + layer.bias if layer.use_bias else scores


def grad_cam(model, image: np.ndarray, class_index: int | None = None) -> GradCam:
    """Grad-CAM on the last Conv2D layer for the given class (default: the predicted one).

    Each channel of that layer's output is weighted by how much raising it would raise the class score
    (the mean gradient over the map); the weighted sum, with negative parts cut off, shows where in the
    image the evidence lies. Resized to the input size and scaled to 0..1.
    """
    convs = [layer for layer in model.layers if _kind(layer) in CONV_TYPES]
    if not convs:
        raise NotInspectable("This model has no Conv2D layer, so there is no map of where it looked.")
    last_conv, output_layer = convs[-1], model.layers[-1]
    if not isinstance(model, keras.Sequential):
        return _graph_grad_cam(model, image, class_index)
    x = tf.convert_to_tensor(_batch(image))
    with tf.GradientTape() as tape:
        h = x
        conv_output = None
        for layer in model.layers:
            if layer is output_layer and _kind(layer) == "Dense":
                scores = _pre_activation(layer, h)
                probabilities = layer.activation(scores)
                break
            h = layer(h, training=False)
            if layer is last_conv:
                conv_output = h
                tape.watch(conv_output)
        else:  # the model does not end in Dense: use its output as the score
            scores = probabilities = h
        if class_index is None:
            class_index = int(tf.argmax(probabilities[0]))
        target = scores[:, class_index]
    return _heatmap(tape.gradient(target, conv_output), conv_output, image, class_index, last_conv, probabilities)


def _graph_grad_cam(model, image: np.ndarray, class_index: int | None) -> GradCam:
    """Grad-CAM for a functional model (residual blocks, merges): on the last layer that outputs feature maps
    (where every path has joined). Its maps are computed first; the gradient is taken through the layers after
    it only (pooling, Dense), each fed from the layers its inputs come from."""
    position = max(i for i, layer in enumerate(model.layers) if len(layer.output.shape) == 4 and i > 0)
    target_layer, output_layer = model.layers[position], model.layers[-1]
    probe = keras.Model(model.inputs, target_layer.output)
    conv_output = tf.convert_to_tensor(probe(_batch(image), training=False))
    with tf.GradientTape() as tape:
        tape.watch(conv_output)
        values = {target_layer.name: conv_output}
        for layer in model.layers[position + 1 :]:
            inputs = [
                values[_producer(t).name] for t in (layer.input if isinstance(layer.input, list) else [layer.input])
            ]
            taken = inputs if isinstance(layer.input, list) else inputs[0]
            if layer is output_layer and _kind(layer) == "Dense":
                scores = _pre_activation(layer, taken)
                probabilities = layer.activation(scores)
                break
            values[layer.name] = layer(taken, training=False)
        else:  # the model does not end in Dense: use its output as the score
            scores = probabilities = values[output_layer.name]
        if class_index is None:
            class_index = int(tf.argmax(probabilities[0]))
        target = scores[:, class_index]
    return _heatmap(tape.gradient(target, conv_output), conv_output, image, class_index, target_layer, probabilities)


def _producer(tensor):
    """The layer whose output ``tensor`` is (Keras' own record of the graph)."""
    return tensor._keras_history.operation


def _heatmap(gradients, conv_output, image, class_index, layer, probabilities) -> GradCam:
    gradients = gradients[0]  # (h, w, c)
    weights = tf.reduce_mean(gradients, axis=(0, 1))
    cam = tf.nn.relu(tf.reduce_sum(conv_output[0] * weights, axis=-1))
    cam = tf.image.resize(cam[..., None], image.shape[:2], method="bilinear")[..., 0].numpy()
    peak = float(cam.max())
    heatmap = np.clip(cam / peak, 0.0, 1.0) if peak > 1e-12 else np.zeros_like(cam)
    return GradCam(
        heatmap.astype(np.float32),
        int(class_index),
        layer.name,
        keras.ops.convert_to_numpy(probabilities)[0],
        peak > 1e-12,
    )
