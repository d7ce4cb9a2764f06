"""What training and evaluation do differently per task (classification, regression): a registry.

A run carries its task (``run.task``): the trainer takes its loss, the metric recorded beside the loss in
every batch, the test-set summary and the arrays saved as the run's predictions; pages and the CLI take
its labels and headline result, so nothing else decides "is this a regression?". Pure NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.data.datasets import CLASSIFICATION, REGRESSION, USER_PREFIX, DatasetUnavailable, load_dataset
from core.training.evaluation import summarize_predictions, summarize_regression
from core.training.hyperparams import LOSSES, Hyperparameters
from core.training.target_scaling import TargetScaling, Unscaled


def format_number(value: float) -> str:
    """About four significant digits, without an exponent for large values: 12.35, 1,234, 123,457."""
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


@dataclass(frozen=True)
class Task:
    name: str
    metric: str  # Keras metric compiled and recorded per batch beside the loss ("accuracy", "mae")
    metric_title: str  # that metric in headings: "Accuracy", "MAE"
    headline_key: str  # the test result that ranks runs of this task ("test_accuracy", "test_mae")
    keras_loss: Callable[[Hyperparameters], str]
    summarize: Callable  # (model outputs, y_test, dataset, hyperparameters) -> results dict
    saved_outputs: Callable[[np.ndarray, np.ndarray], dict]  # (outputs, y_test) -> arrays of the predictions file
    measure: str  # what the test set measures, in words ("accuracy is", "errors are")
    scaling: Callable  # (y_train, model) -> how targets are scaled while training (core.training.target_scaling)
    result_keys: tuple[str, ...]  # the test results a run of this task has, its headline first
    higher_is_better: bool  # of the headline result: accuracy up, an error down
    headline_title: str  # the headline result in headings: "Test accuracy", "Test MAE"
    examples: str = "images"  # what one example is, in words: "images", or "rows" of a table

    @property
    def is_regression(self) -> bool:
        return self.name == REGRESSION

    def better(self, a: float, b: float) -> bool:
        """Whether headline result ``a`` is better than ``b``."""
        return a > b if self.higher_is_better else a < b

    def headline_value(self, results: dict | None) -> float | None:
        """The headline test result (accuracy as a 0–1 share, or the MAE); None before the test set."""
        return (results or {}).get(self.headline_key)

    def headline(self, results: dict | None, decimals: int = 1, bold: bool = False) -> str:
        """'test accuracy 87.5 %' or 'test MAE 12.35'; '' when the run has no test result.

        Args:
            decimals: of the accuracy's percentage.
            bold: the number in Markdown bold (**87.50 %**).
        """
        value = self.headline_value(results)
        if value is None:
            return ""
        number = format_number(value) if self.is_regression else f"{100 * value:.{decimals}f} %"
        if bold:
            number = f"**{number}**"
        return f"test MAE {number}" if self.is_regression else f"test accuracy {number}"


TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        Task(
            CLASSIFICATION,
            "accuracy",
            "Accuracy",
            "test_accuracy",
            lambda hp: "sparse_categorical_crossentropy",
            lambda outputs, y, data, hp: summarize_predictions(outputs, y, data.class_names),
            lambda outputs, y: {"probabilities": outputs.astype(np.float32), "y_true": y},
            "accuracy is",
            lambda y, model: Unscaled(),
            ("test_accuracy", "test_loss"),
            True,
            "Test accuracy",
        ),
        Task(
            REGRESSION,
            "mae",
            "MAE",
            "test_mae",
            lambda hp: LOSSES[hp.loss].keras_name,
            lambda outputs, y, data, hp: summarize_regression(outputs.reshape(-1), y, data.target_name, hp.loss),
            lambda outputs, y: {"predictions": outputs.reshape(-1).astype(np.float32), "y_true": y},
            "errors are",
            TargetScaling.for_targets,
            ("test_mae", "test_rmse", "test_r2"),
            False,
            "Test MAE",
            "rows",
        ),
    ]
}


def task_of_results(results: dict | None) -> Task:
    """The task whose test results these are (a regression's carry "task": "regression" and a test MAE);
    a classification when there are none."""
    results = results or {}
    regression = results.get("task") == REGRESSION or results.get(TASKS[REGRESSION].headline_key) is not None
    return TASKS[REGRESSION if regression else CLASSIFICATION]


def task_of_columns(columns) -> Task:
    """The task whose results a table's columns hold: a regression's when they have its headline (the MAE)."""
    return TASKS[REGRESSION] if TASKS[REGRESSION].headline_key in columns else TASKS[CLASSIFICATION]


def task_of_record(record: dict) -> Task:
    """A stored run's task. Runs stored before the task was recorded tell it by their results (a
    regression's carry "task": "regression" and a test MAE); one that ended before the test set, by its
    data set (only tables imported by users are regressions)."""
    if record.get("task") in TASKS:
        return TASKS[record["task"]]
    results = record.get("results") or {}
    if results:
        return task_of_results(results)
    dataset = record.get("dataset", "")
    if isinstance(dataset, str) and dataset.startswith(USER_PREFIX):
        try:
            return TASKS[load_dataset(dataset).task]
        except DatasetUnavailable:
            pass
    return TASKS[CLASSIFICATION]
