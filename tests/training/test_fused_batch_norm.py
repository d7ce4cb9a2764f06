"""BatchNormalization with TensorFlow's fused kernel: the same numbers as Keras' own layer, and a saved model
that plain Keras loads."""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.model.fused_batch_norm import BatchNormalization
from core.model.keras_build import build_model
from core.training.presets import PRESETS


def _pair(momentum=0.9, **kwargs):
    plain, fused = (
        keras.layers.BatchNormalization(momentum=momentum, **kwargs),
        BatchNormalization(momentum=momentum, **kwargs),
    )
    return plain, fused


@pytest.mark.parametrize("shape", [(8, 5, 5, 3), (2, 13, 13, 16), (1, 1, 1, 4)])
def test_training_steps_give_keras_outputs_running_averages_and_gradients(shape):
    x = tf.random.stateless_normal(shape, seed=(1, 2)) * 3 + 1
    plain, fused = _pair()
    for layer in (plain, fused):
        layer.build(x.shape)
    for _ in range(3):
        np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=1e-5)
    np.testing.assert_allclose(fused.moving_mean, plain.moving_mean, atol=1e-5)
    np.testing.assert_allclose(fused.moving_variance, plain.moving_variance, atol=1e-5)
    np.testing.assert_allclose(fused(x, training=False), plain(x, training=False), atol=1e-5)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        loss_plain = tf.reduce_sum(plain(x, training=True) ** 3)
        loss_fused = tf.reduce_sum(fused(x, training=True) ** 3)
    for a, b in zip(
        tape.gradient(loss_plain, [x, plain.gamma, plain.beta]), tape.gradient(loss_fused, [x, fused.gamma, fused.beta])
    ):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-3)


def test_inputs_the_kernel_does_not_take_use_keras_own_path():
    x = tf.random.stateless_normal((6, 10), seed=(3, 4))  # after Flatten: not image maps
    plain, fused = _pair()
    np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=1e-5)
    np.testing.assert_allclose(fused.moving_variance, plain.moving_variance, atol=1e-6)


def test_the_built_models_use_it_and_a_saved_model_names_keras_own_layer(tmp_path):
    model = build_model(PRESETS["fast"].spec(), batches_per_epoch=6)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(isinstance(layer, BatchNormalization) for layer in norms)
    path = tmp_path / "fast.keras"
    model.save(path)
    layers = json.loads(zipfile.ZipFile(path).read("config.json"))["config"]["layers"]
    saved = [(layer["module"], layer["class_name"]) for layer in layers if "Batch" in layer["class_name"]]
    assert saved == [("keras.layers", "BatchNormalization")] * len(norms)
    loaded = keras.models.load_model(path)
    assert [type(layer) for layer in loaded.layers if "Batch" in type(layer).__name__] == [
        keras.layers.BatchNormalization
    ] * len(norms)
    assert [layer.momentum for layer in loaded.layers if isinstance(layer, keras.layers.BatchNormalization)] == [
        layer.momentum for layer in norms
    ]
