"""Charts on real data sets (issue 25): class names that are digits stay categories on every class axis; the
MAE's log axis has a value at its ticks however narrow the range; every test row is a dot in the regression
charts (the largest errors included), so "one dot per test row" holds."""

import numpy as np
import pytest

from dashboard.charts import regression as regression_charts
from dashboard.charts.inspection import clickable_confusion_figure
from dashboard.charts.training import (
    class_balance_figure,
    confusion_matrix_figure,
    log_ticks,
    per_class_accuracy_figure,
    training_chart,
)

DIGITS = [str(d) for d in range(10)]


@pytest.mark.parametrize(
    "figure",
    [
        lambda: confusion_matrix_figure(np.eye(10, dtype=int), DIGITS),
        lambda: clickable_confusion_figure(np.eye(10, dtype=int), DIGITS),
    ],
)
def test_digit_class_names_are_categories_on_the_confusion_matrix(figure):
    fig = figure()
    assert fig.layout.xaxis.type == "category" and fig.layout.yaxis.type == "category"
    assert list(fig.data[0].x) == DIGITS and fig.layout.yaxis.autorange == "reversed"


def test_digit_class_names_are_categories_on_the_bar_charts():
    assert per_class_accuracy_figure([0.9] * 10, DIGITS).layout.xaxis.type == "category"
    assert class_balance_figure([5] * 10, [2] * 10, DIGITS).layout.xaxis.type == "category"


@pytest.mark.parametrize(
    "low, high, expected",
    [
        (0.41, 0.93, [0.5, 0.6, 0.7, 0.8, 0.9]),  # within one decade: every digit
        (0.3, 4.0, [0.5, 1.0, 2.0]),  # 1-2-5 steps
        (0.002, 900.0, [0.01, 0.1, 1.0, 10.0, 100.0]),  # decades
        (0.412, 0.449, [0.41, 0.45]),  # narrower than one digit step: the ends
    ],
)
def test_log_ticks_always_label_the_range(low, high, expected):
    assert log_ticks(low, high) == pytest.approx(expected)


def test_the_mae_log_axis_has_labelled_ticks_even_for_a_narrow_range():
    epochs = [
        {"epoch": e, "loss": 0.5 - 0.02 * e, "mae": 0.93 - 0.1 * e, "val_mae": 0.9 - 0.09 * e} for e in range(1, 6)
    ]
    batches = [{"step": s, "epoch": 1 + (s - 1) // 4, "loss": 0.5, "mae": 0.9 - 0.02 * s} for s in range(1, 21)]
    fig = training_chart(batches, epochs, batches_per_epoch=4)
    axis = fig.layout.yaxis
    assert axis.type == "log" and len(axis.tickvals) >= 2
    assert all(text and "e" not in text for text in axis.ticktext)  # full numbers: "0.5", "0.6"…
    values = [y for trace in fig.data if trace.yaxis in (None, "y") for y in trace.y if y is not None]
    assert min(axis.tickvals) >= min(values) and max(axis.tickvals) <= max(values)


def test_large_values_on_a_log_axis_read_as_full_numbers():
    epochs = [{"epoch": e, "loss": 2e8 / e, "mae": 20_000 / e, "val_mae": 21_000 / e} for e in range(1, 6)]
    fig = training_chart([], epochs, batches_per_epoch=10)
    assert "10,000" in fig.layout.yaxis.ticktext
    assert all("e+" not in text for text in fig.layout.yaxis2.ticktext)


def test_every_test_row_is_drawn_with_the_largest_errors():
    rng = np.random.default_rng(0)
    y_true = rng.normal(200, 50, 10_788)
    predicted = y_true + rng.normal(0, 5, y_true.size)
    predicted[7_777] += 900  # the worst prediction, where an even sample of 5,000 would skip it
    for figure in (regression_charts.predicted_vs_actual_figure, regression_charts.residuals_figure):
        fig = figure(y_true, predicted, "price")
        points = [trace for trace in fig.data if trace.mode == "markers"][0]
        assert len(points.x) == 10_788
        assert 7_777 in list(points.customdata)
    residuals = regression_charts.residuals_figure(y_true, predicted, "price").data[0]
    assert max(residuals.y) == pytest.approx(predicted[7_777] - y_true[7_777])
