"""Charts read as they should: the race's ticks at the projector's size with the curves given the width,
and a probability axis that stops at 100 %."""

import numpy as np

from core.classroom.race import race
from core.runs.challenges import Challenge
from core.runs.record import Run
from core.training.hyperparams import Hyperparameters
from dashboard.charts.arithmetic import logits_figure
from dashboard.charts.race import race_chart


def _entries():
    challenge = Challenge("abcd1234", "Race", "shapes", "blank", 20_000, 2, Hyperparameters(epochs=2))
    run = Run({"layers": []}, "shapes", Hyperparameters(epochs=2), owner="a", learner="Ada")
    run.challenge = "abcd1234"
    run.begin(batches_per_epoch=4)
    for batch in range(4):
        run.record_batch(0, batch, 1.0, 0.5)
    return race([run], challenge)


def test_the_race_ticks_are_as_large_as_its_text_and_the_legend_leaves_the_width_to_the_curves():
    figure = race_chart(_entries(), font_size=22)
    assert figure.layout.xaxis.tickfont.size == 22 and figure.layout.yaxis.tickfont.size == 22
    assert figure.layout.legend.orientation == "h"  # above the curves, not in a column beside them


def test_the_dense_outputs_probability_axis_stops_at_100_percent():
    figure = logits_figure(np.array([2.0, 0.1]), np.array([0.87, 0.13]), ["cat", "dog"], 0)
    assert list(figure.layout.yaxis.range) == [0, 1]
    assert figure.data[0].cliponaxis is False  # the 87 % label still shows above its bar
