"""Which test images (or table rows) a run gets wrong, and how sure it was: from its saved predictions.

Pure NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.runs.store import PredictionsUnavailable, RunStore  # the exception, also for this module's callers


@dataclass(frozen=True)
class Predictions:
    probabilities: np.ndarray  # (test images, classes)
    y_true: np.ndarray  # (test images,)

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        """The probability the network gave to the class it predicted."""
        return self.probabilities.max(axis=1)


@dataclass(frozen=True)
class Example:
    """One test image with the network's answer: ``index`` is its position in the test set."""

    index: int
    true: int
    predicted: int
    confidence: float
    probabilities: np.ndarray


def load_predictions(store: RunStore, run_id: str) -> Predictions:
    """A classification run's saved test predictions; PredictionsUnavailable when there are none."""
    arrays = store.read_predictions(run_id)
    try:
        return Predictions(arrays["probabilities"], np.asarray(arrays["y_true"], dtype=np.int64))
    except KeyError as error:
        raise PredictionsUnavailable(f"The saved test predictions of this run cannot be read ({error}).") from None


def _examples(predictions: Predictions, indices: np.ndarray) -> list[Example]:
    predicted, confidence = predictions.predicted, predictions.confidence
    return [
        Example(
            int(i), int(predictions.y_true[i]), int(predicted[i]), float(confidence[i]), predictions.probabilities[i]
        )
        for i in indices
    ]


def _most_confident_first(confidence: np.ndarray, indices: np.ndarray) -> np.ndarray:
    # Stable sort: equally confident images keep test-set order, so the gallery does not reshuffle.
    return indices[np.argsort(-confidence[indices], kind="stable")]


def pair_examples(
    predictions: Predictions, true_class: int, predicted_class: int, limit: int | None = None
) -> list[Example]:
    """The test images of true class ``true_class`` predicted as ``predicted_class``, most confident first."""
    hits = np.flatnonzero((predictions.y_true == true_class) & (predictions.predicted == predicted_class))
    return _examples(predictions, _most_confident_first(predictions.confidence, hits)[:limit])


def mistake_indices(predictions: Predictions) -> np.ndarray:
    """The positions in the test set of every wrongly classified image, in test-set order."""
    return np.flatnonzero(predictions.predicted != predictions.y_true)


def confident_mistakes(predictions: Predictions, limit: int | None = 16) -> list[Example]:
    """Every wrongly classified test image, the ones the network was surest about first."""
    wrong = mistake_indices(predictions)
    return _examples(predictions, _most_confident_first(predictions.confidence, wrong)[:limit])


def most_confused_pair(matrix) -> tuple[int, int]:
    """(true, predicted) of the off-diagonal cell with the most images; (0, 0) when there is no mistake."""
    matrix = np.asarray(matrix)
    off = matrix.copy()
    np.fill_diagonal(off, -1)
    if off.max() <= 0:
        return 0, 0
    true, predicted = np.unravel_index(int(off.argmax()), off.shape)
    return int(true), int(predicted)


def evaluated_test_count(predictions: Predictions | None, limit_test: int | None, available: int) -> int:
    """How many test images the run was evaluated on (the first ones of its data set).

    As many as its saved predictions, else its ``limit_test`` setting, else all; never more than the
    ``available`` test images the data set has now.
    """
    count = len(predictions.y_true) if predictions is not None else (limit_test or available)
    return min(count, available)


def largest_errors(y_true, predicted, limit: int | None = None) -> np.ndarray:
    """A regression's test rows by the size of their error, largest first (ties keep test-set order)."""
    errors = np.abs(np.asarray(predicted, dtype=np.float64) - np.asarray(y_true, dtype=np.float64))
    return np.argsort(-errors, kind="stable")[:limit]
