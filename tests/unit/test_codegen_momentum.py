"""The exported code trains the model the app trained: BatchNormalization's momentum, which the app chose
from the run's batches per epoch, is written out where it differs from Keras' default."""

from __future__ import annotations

from core.model.keras_build import batch_norm_momentum
from core.training.codegen import model_code, training_script
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS


def test_a_small_runs_momentum_is_written_into_the_code_and_the_script():
    spec = PRESETS["fast"].spec((28, 28, 1), 10)
    momentum = batch_norm_momentum(6)  # 1,438 images at batch 256
    assert momentum < 0.99
    code = model_code(spec, momentum)
    assert code.count(f"momentum={momentum!r}") == sum(
        layer["type"] == "BatchNormalization" for layer in spec["layers"]
    )
    script = training_script(spec, "fashion_mnist", Hyperparameters(), "small", momentum)
    assert f"momentum={momentum!r}" in script


def test_keras_default_momentum_and_no_momentum_leave_the_code_as_it_was():
    spec = PRESETS["fast"].spec((28, 28, 1), 10)
    assert model_code(spec, 0.99) == model_code(spec) == model_code(spec, None)
    assert "momentum" not in model_code(spec)


def test_a_residual_blocks_inner_batch_normalization_gets_the_momentum_too():
    spec = PRESETS["resnet_small"].spec((28, 28, 1), 10)
    assert "momentum=0.5" in model_code(spec, 0.5)
