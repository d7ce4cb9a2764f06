"""The Keras pieces of training that a run, the learning-rate finder and the speed measurement share:
the optimizer with its learning rate (and schedule), the batch size of forward passes, and the inputs
handed to ``fit`` (``fit_input``)."""

from __future__ import annotations

import threading

import keras

from core.training.hyperparams import COSINE_FLOOR, ONE_CYCLE_START, ONE_CYCLE_WARMUP, OPTIMIZERS, Hyperparameters

PREDICT_BATCH = 512
# Validation only runs forward passes: at the test predictions' batch size it takes fewer, fuller steps
# than at a small training batch size (bench/epoch_profile.py), with the same results.
VALIDATION_BATCH = PREDICT_BATCH


def learning_rate(hyperparameters: Hyperparameters, steps_per_epoch: int):
    """The optimizer's learning rate: a number, or a Keras schedule over the run's training steps."""
    rate = hyperparameters.effective_learning_rate
    steps = max(1, hyperparameters.epochs * steps_per_epoch)
    if hyperparameters.learning_rate_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(rate, decay_steps=steps, alpha=COSINE_FLOOR)
    if hyperparameters.learning_rate_schedule == "one_cycle":
        warmup = max(1, round(ONE_CYCLE_WARMUP * steps))
        return keras.optimizers.schedules.CosineDecay(
            rate * ONE_CYCLE_START,
            decay_steps=max(1, steps - warmup),
            alpha=COSINE_FLOOR,
            warmup_target=rate,
            warmup_steps=warmup,
        )
    return rate


def make_optimizer(hyperparameters: Hyperparameters, steps_per_epoch: int = 1):
    info = OPTIMIZERS[hyperparameters.optimizer]
    return getattr(keras.optimizers, info.keras_name)(learning_rate=learning_rate(hyperparameters, steps_per_epoch))


# --- the inputs handed to fit --------------------------------------------------------------------------
# Keras' fit turns NumPy inputs into a TensorFlow tensor on every call: on the full Fashion-MNIST a 188 MB
# copy, 1.3-2.1 s of a run's set-up before its first batch (bench/first_point.py). A worker process
# (core.runs.runners.KerasTrainer.warm_up) holds a data set's training inputs as a TensorFlow tensor
# *instead of* the float NumPy copy, so fit starts at once and no second copy is made; slicing it (a limit,
# the validation split) along its first axis makes no copy either. Elsewhere (the web server's own
# thread runner, whose pages read the NumPy copy) inputs stay NumPy, so nothing is held twice.
_TENSOR_DATASETS = 2  # data sets a worker keeps as tensors at once: the default one and the last other


class _TensorInputs:
    held = False
    tensors: dict[tuple[int, str], tuple[object, object]] = {}  # (id of the Dataset, part) -> (Dataset, tensor)
    lock = threading.Lock()


def hold_inputs_as_tensors() -> None:
    """From now on this process hands ``fit`` its data sets' inputs as TensorFlow tensors (a worker)."""
    _TensorInputs.held = True


def fit_input(dataset, part: str = "x_train"):
    """The inputs ``part`` of ``dataset`` as ``fit`` takes them: float32, images scaled to [0, 1] (the same
    values as ``dataset.as_float(part)``), as a tensor made once in a process that holds tensors."""
    if not _TensorInputs.held:
        return dataset.as_float(part)
    import tensorflow as tf

    from core.data.pixels import as_float_input

    key = (id(dataset), part)
    with _TensorInputs.lock:
        held = _TensorInputs.tensors.pop(key, None)
        if held is None or held[0] is not dataset:  # a new data set (or one reloaded under an old id)
            held = (dataset, tf.convert_to_tensor(as_float_input(getattr(dataset, part))))
        _TensorInputs.tensors[key] = held  # the most recently used last
        datasets = list(dict.fromkeys(k[0] for k in _TensorInputs.tensors))
        for old in datasets[:-_TENSOR_DATASETS]:
            for k in [k for k in _TensorInputs.tensors if k[0] == old]:
                del _TensorInputs.tensors[k]
        return held[1]
