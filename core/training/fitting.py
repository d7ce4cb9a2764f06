"""The Keras pieces of training that a run, the learning-rate finder and the speed measurement share:
the optimizer with its learning rate (and schedule), and the batch size of forward passes."""

from __future__ import annotations

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
