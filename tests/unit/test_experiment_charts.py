"""The Experiment page's figures, as plain Plotly: what a user would see in each."""

import numpy as np
import pandas as pd

from core.experiments.factors import make_factor
from core.training.lr_finder import lr_schedule, suggest_learning_rate
from core.training.presets import PRESETS
from dashboard.charts.experiments import (
    FRONT_COLOUR,
    effects_figure,
    lr_finder_figure,
    parallel_coordinates_figure,
    pareto_figure,
    small_multiples_figure,
)

SPEC = PRESETS["model1"].spec()
FACTORS = [make_factor("layer3.filters", [16, 32], SPEC), make_factor("optimizer", ["adam", "sgd"], SPEC)]
TABLE = pd.DataFrame(
    {
        "variant": [1, 2, 3, 4, 5],
        "layer3.filters": ["16", "16", "32", "32", "32"],
        "optimizer": ["adam", "sgd", "adam", "sgd", "adam"],
        "seed": [42] * 5,
        "status": ["finished"] * 4 + ["failed"],
        "params": [55_098, 55_098, 108_618, 108_618, 108_618],
        "test_accuracy": [0.88, 0.80, 0.90, 0.82, None],
        "train_seconds": [5.0, 4.0, 9.0, 8.0, None],
        "run_id": ["a", "b", "c", "d", "e"],
    }
)


def test_pareto_points_carry_their_run_and_the_front_is_red():
    fig = pareto_figure(TABLE, FACTORS, "params")
    front = next(t for t in fig.data if t.name == "Pareto front")
    others = next(t for t in fig.data if t.name == "other variants")
    assert list(front.customdata) == ["a", "c"] and front.marker.color == FRONT_COLOUR
    assert list(others.customdata) == ["b", "d"]  # the failed run has no result: not drawn
    assert list(front.y) == [88.0, 90.0]  # accuracy in percent
    assert fig.layout.xaxis.type == "log"
    by_time = pareto_figure(TABLE, FACTORS, "train_seconds")
    assert list(next(t for t in by_time.data if t.name == "Pareto front").customdata) == ["a", "b", "c"]


def test_parallel_coordinates_from_factor_values_to_accuracy():
    fig = parallel_coordinates_figure(TABLE, FACTORS)
    dims = fig.data[0].dimensions
    assert [d.label for d in dims] == ["Layer 3 (Conv2D): filters", "Optimizer", "Parameters", "Test accuracy (%)"]
    assert list(dims[0].ticktext) == ["16", "32"] and list(dims[1].ticktext) == ["adam", "sgd"]


def test_effects_one_panel_per_factor_with_means():
    fig = effects_figure(TABLE, FACTORS)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["Layer 3 (Conv2D): filters", "Optimizer"]
    means = [t for t in fig.data if t.name.startswith("mean")]
    assert [list(np.round(t.y, 1)) for t in means] == [[84.0, 86.0], [89.0, 81.0]]


def test_small_multiples_one_panel_per_variant():
    batches = [{"step": s, "epoch": 1, "loss": 1.0, "accuracy": 0.5} for s in range(1, 5)]
    curves = [
        {
            "title": f"#{i}",
            "batches": batches,
            "epochs": [{"epoch": 1, "val_accuracy": 0.6}],
            "batches_per_epoch": 4,
            "status": "training",
        }
        for i in range(1, 6)
    ]
    fig = small_multiples_figure(curves)
    assert [a.text for a in fig.layout.annotations] == [f"#{i} · training" for i in range(1, 6)]
    assert len(fig.data) == 10  # a training line and validation points per variant


def test_lr_finder_chart_marks_the_suggestion_on_a_log_axis():
    lrs = lr_schedule(100)
    losses = 2.3 - 1.5 / (1 + np.exp(-(np.log10(lrs) + 3) * 3)) + np.where(lrs > 0.05, 10 * lrs, 0)
    finding = suggest_learning_rate(lrs, losses)
    fig = lr_finder_figure(finding.learning_rates, finding.losses, finding.smoothed, finding.suggestion)
    assert fig.layout.xaxis.type == "log"
    marked = next(t for t in fig.data if t.name == "suggested")
    assert list(marked.x) == [finding.suggestion] and marked.text[0] == f"suggested: {finding.suggestion:g}"
