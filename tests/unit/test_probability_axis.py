"""The class probabilities (Inside the network, Predict) on an axis that stops at 100 %, labels still shown."""

from dashboard.charts.inspection import probability_figure


def test_the_class_probability_axis_stops_at_100_percent_and_keeps_the_labels_beside_the_bars():
    figure = probability_figure([0.002, 0.998], ["cat", "dog"], true_class=1)
    assert list(figure.layout.xaxis.range) == [0, 100]
    bars = figure.data[0]
    assert list(bars.text) == ["0.2 %", "99.8 %"]
    assert bars.textposition == "outside" and bars.cliponaxis is False  # "99.8 %" is drawn in the margin
    assert figure.layout.margin.r >= 50
