"""Which test images a run gets wrong, from its predictions alone (no model, no TensorFlow)."""

import numpy as np

from core.insight.mistakes import (
    Predictions,
    evaluated_test_count,
    largest_errors,
    mistake_indices,
    most_confused_pair,
)


def predictions(true_and_predicted: list[tuple[int, int]], classes: int = 3) -> Predictions:
    probabilities = np.full((len(true_and_predicted), classes), 0.1)
    for row, (_, predicted) in enumerate(true_and_predicted):
        probabilities[row, predicted] = 0.8
    return Predictions(probabilities, np.array([t for t, _ in true_and_predicted]))


def test_the_gallery_opens_on_the_most_frequent_confusion():
    assert most_confused_pair([[5, 1, 0], [4, 7, 0], [0, 2, 9]]) == (1, 0)
    assert most_confused_pair([[5, 0], [0, 7]]) == (0, 0)  # no mistake: the first class's correct answers


def test_mistakes_are_the_wrongly_classified_images_in_test_set_order():
    assert mistake_indices(predictions([(0, 0), (1, 2), (2, 2), (0, 1)])).tolist() == [1, 3]
    assert mistake_indices(predictions([(0, 0), (1, 1)])).tolist() == []


def test_the_test_count_is_what_the_run_was_evaluated_on():
    saved = predictions([(0, 0)] * 40)
    assert evaluated_test_count(saved, limit_test=None, available=100) == 40  # the saved predictions decide
    assert evaluated_test_count(None, limit_test=25, available=100) == 25  # else the run's limit
    assert evaluated_test_count(None, limit_test=None, available=100) == 100  # else every test image
    assert evaluated_test_count(saved, limit_test=None, available=30) == 30  # never more than the data set has


def test_the_largest_regression_errors_come_first_ties_in_row_order():
    y_true = [10.0, 20.0, 30.0, 40.0]
    predicted = [11.0, 25.0, 25.0, 40.0]  # errors 1, 5, 5, 0
    assert largest_errors(y_true, predicted).tolist() == [1, 2, 0, 3]
    assert largest_errors(y_true, predicted, limit=2).tolist() == [1, 2]
