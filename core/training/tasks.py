"""What training and evaluation do differently per task (classification, regression): a registry.

The trainer looks the data set's task up here for its loss, the metric recorded beside the loss in
every batch, the test-set summary and the arrays saved as the run's predictions. Pure NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.data.datasets import CLASSIFICATION, REGRESSION
from core.training.evaluation import summarize_predictions, summarize_regression
from core.training.hyperparams import LOSSES, Hyperparameters
from core.training.target_scaling import TargetScaling, Unscaled


@dataclass(frozen=True)
class Task:
    name: str
    metric: str  # Keras metric compiled and recorded per batch beside the loss ("accuracy", "mae")
    keras_loss: Callable[[Hyperparameters], str]
    summarize: Callable  # (model outputs, y_test, dataset, hyperparameters) -> results dict
    saved_outputs: Callable[[np.ndarray, np.ndarray], dict]  # (outputs, y_test) -> arrays of the predictions file
    measure: str  # what the test set measures, in words ("accuracy", "errors")
    scaling: Callable  # (y_train, model) -> how targets are scaled while training (core.training.target_scaling)


TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        Task(
            CLASSIFICATION,
            "accuracy",
            lambda hp: "sparse_categorical_crossentropy",
            lambda outputs, y, data, hp: summarize_predictions(outputs, y, data.class_names),
            lambda outputs, y: {"probabilities": outputs.astype(np.float32), "y_true": y},
            "accuracy is",
            lambda y, model: Unscaled(),
        ),
        Task(
            REGRESSION,
            "mae",
            lambda hp: LOSSES[hp.loss].keras_name,
            lambda outputs, y, data, hp: summarize_regression(outputs.reshape(-1), y, data.target_name, hp.loss),
            lambda outputs, y: {"predictions": outputs.reshape(-1).astype(np.float32), "y_true": y},
            "errors are",
            TargetScaling.for_targets,
        ),
    ]
}


def is_regression(results: dict | None) -> bool:
    """Whether a run's results are a regression's (MAE, RMSE, R²) rather than a classification's."""
    return (results or {}).get("task") == REGRESSION
