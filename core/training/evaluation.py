"""Test-set evaluation: loss, accuracy, confusion matrix, per-class accuracy; a regression's MAE, RMSE, R²."""

from __future__ import annotations

import numpy as np

EPSILON = 1e-7  # Keras clips probabilities by the same amount in its cross-entropy


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows are the true class, columns the predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Share of each true class predicted correctly; NaN for a class with no test examples."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)


def cross_entropy(probabilities: np.ndarray, y_true: np.ndarray) -> float:
    picked = probabilities[np.arange(len(y_true)), np.asarray(y_true, dtype=np.int64)]
    return float(-np.mean(np.log(np.clip(picked, EPSILON, 1.0))))


def summarize_predictions(probabilities: np.ndarray, y_true: np.ndarray, class_names) -> dict:
    """Everything the results page shows about the test set, JSON-serialisable."""
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(y_true, predicted, len(class_names))
    per_class = per_class_accuracy(matrix)
    return {
        "test_loss": cross_entropy(probabilities, y_true),
        "test_accuracy": float(np.mean(predicted == y_true)),
        "test_examples": int(len(y_true)),
        "class_names": list(class_names),
        "confusion_matrix": matrix.tolist(),
        "per_class_accuracy": [None if np.isnan(v) else float(v) for v in per_class],
    }


# --- regression -------------------------------------------------------------------------------------


def regression_metrics(predicted: np.ndarray, y_true: np.ndarray) -> dict:
    """Mean absolute error, root mean squared error and R² (share of the target's variance explained).

    R² is None when the true values do not vary (it is undefined then).
    """
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1)
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    errors = predicted - y_true
    spread = float(np.sum((y_true - y_true.mean()) ** 2))
    return {
        "mae": float(np.mean(np.abs(errors))),
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "r2": 1.0 - float(np.sum(errors**2)) / spread if spread > 0 else None,
    }


def summarize_regression(predicted: np.ndarray, y_true: np.ndarray, target_name: str, loss: str) -> dict:
    """Everything the results page shows about a regression's test set, JSON-serialisable.

    ``test_loss`` is the training loss ("mse" or "mae") on the test set, like Keras' evaluate.
    """
    metrics = regression_metrics(predicted, y_true)
    return {
        "task": "regression",
        "test_loss": metrics["rmse"] ** 2 if loss == "mse" else metrics["mae"],
        "test_mae": metrics["mae"],
        "test_rmse": metrics["rmse"],
        "test_r2": metrics["r2"],
        "test_examples": int(np.asarray(y_true).size),
        "target_name": target_name,
        "loss": loss,
    }


MIN_TEST_ROWS_FOR_R2 = 50  # on fewer test rows one or two unusual rows can move R² by tenths


def r2_caution(results: dict) -> str | None:
    """A warning when a regression's test set is too small for its R² (and MAE) to mean much, else None."""
    n = results.get("test_examples")
    if results.get("task") != "regression" or not isinstance(n, int) or n >= MIN_TEST_ROWS_FOR_R2:
        return None
    return (
        f"The test set has only {n} rows: on so few, one or two unusual rows can move R² by tenths, so these "
        "figures are rough. Do not pick between models on differences this small; a table with more rows "
        f"(at least {MIN_TEST_ROWS_FOR_R2 * 5}, so {MIN_TEST_ROWS_FOR_R2} or more are held back) gives figures you can trust."
    )
