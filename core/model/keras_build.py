"""The Keras model of a spec: :func:`build_model`, with the BatchNormalization momentum it builds with.

The spec's shapes, parameters and inner layers are :mod:`core.model.spec`'s (``analyze``); this module
turns them into Keras layers. Keras is imported inside :func:`build_model` only, so the momentum rule
(read by the trainer, the code generator and the coaching) stays pure Python.
"""

from __future__ import annotations

from core.model.layer_type import InnerLayer
from core.model.spec import MERGE_TYPES, analyze, is_graph, keras_kwargs, layer_names

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
    """Whether the model keeps BatchNormalization's running averages (a residual block has its own)."""
    return any(
        isinstance(layer, dict) and layer.get("type") in ("BatchNormalization", "ResidualBlock")
        for layer in spec.get("layers", [])
    )


def build_model(spec: dict, batches_per_epoch: int | None = None):
    """The Keras model for a valid spec. Layer names are fixed so they match :func:`core.model.spec.analyze`.

    A plain stack is a Sequential model; a spec with a residual block or a merge is a functional one, each
    graph layer built from its inner layers (:class:`InnerLayer`).

    Args:
        batches_per_epoch: training batches per epoch, when known: BatchNormalization's momentum is chosen
            from it (:func:`batch_norm_momentum`), so small data sets get settled running averages.
    """
    import keras

    momentum = batch_norm_momentum(batches_per_epoch)

    def make(layer_type: str, name: str, layer: dict):
        kwargs = keras_kwargs(layer)
        if layer_type == "BatchNormalization":  # Keras' own, with TensorFlow's fused kernel while training
            from core.model.fused_batch_norm import BatchNormalization

            kwargs.setdefault("momentum", momentum)
            return BatchNormalization(name=name, **kwargs)
        return getattr(keras.layers, layer_type)(name=name, **kwargs)

    if not is_graph(spec):
        layers = [keras.Input(shape=tuple(spec["input_shape"]))]
        for name, layer in zip(layer_names(spec), spec["layers"]):
            layers.append(make(layer["type"], name, layer))
        return keras.Sequential(layers, name="cnn_playground_model")
    inputs = keras.Input(shape=tuple(spec["input_shape"]))
    outputs = [inputs]  # outputs[n]: layer n's output (0: the input)
    for name, layer, report in zip(layer_names(spec), spec["layers"], analyze(spec).layers):
        x = outputs[-1]
        if report.inner:
            shortcut = outputs[layer["with"]] if layer["type"] in MERGE_TYPES else x
            x = _build_inner(make, report.inner, x, shortcut)
        else:
            x = make(layer["type"], name, layer)(x)
        outputs.append(x)
    return keras.Model(inputs, outputs[-1], name="cnn_playground_model")


def _build_inner(make, inner: tuple[InnerLayer, ...], x, shortcut):
    for part in inner:
        made = make(part.type, part.name, {"type": part.type, **part.kwargs})
        if part.type in MERGE_TYPES:
            x = made([x, shortcut])
        elif part.branch == "shortcut":
            shortcut = made(shortcut)
        else:
            x = made(x)
    return x
