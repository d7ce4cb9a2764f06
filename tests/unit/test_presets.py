"""Presets: the notebook's models stay exact, `fast` is a valid model, descriptions quote measured figures."""

import json

import pytest

from core.model.spec import analyze
from core.training import presets
from core.training.hyperparams import SCHEDULES, Hyperparameters
from core.training.presets import PRESETS


def test_the_notebook_models_keep_their_parameter_counts():
    assert [analyze(PRESETS[n].spec()).total_params for n in ("model1", "model2", "model3")] == [
        108_618,
        75_594,
        142_538,
    ]


def test_fast_preset_is_a_valid_fashion_mnist_model_with_a_cosine_schedule():
    fast = PRESETS["fast"]
    analysis = analyze(fast.spec())
    assert analysis.ok, [p.text() for p in analysis.problems]
    assert tuple(analysis.layers[-1].output_shape) == (10,)
    assert analysis.total_params < analyze(PRESETS["model1"].spec()).total_params * 1.1
    hp = fast.app_hyperparameters
    assert hp.learning_rate_schedule == "cosine" and hp.problems() == []
    assert tuple(analyze(fast.spec((28, 28, 1), 5)).layers[-1].output_shape) == (5,)  # sized to the classes


def test_description_quotes_the_bench_figure_and_omits_it_when_unmeasured(tmp_path, monkeypatch):
    figures = tmp_path / "figures.json"
    figures.write_text(
        json.dumps(
            {
                "presets": {
                    "fast": {"test_accuracy": 0.9123, "epochs": 7, "batch_size": 256, "model1_epochs": 6.44},
                }
            }
        )
    )
    monkeypatch.setattr(presets, "FIGURES_PATH", figures)
    presets.measured_figures.cache_clear()
    try:
        assert PRESETS["fast"].description.endswith(
            "Measured with its defaults (7 epochs, batch 256): 91.2 % test accuracy on Fashion-MNIST in the "
            "time of 6.4 model-1 epochs."
        )
        assert PRESETS["model2"].description == PRESETS["model2"].about  # no figure: nothing invented
    finally:
        presets.measured_figures.cache_clear()


def test_the_stored_figures_cover_the_fast_preset():
    """The data file the descriptions read (written by bench/presets.py) has the `fast` preset's run."""
    figure = presets.measured_figures().get("fast")
    assert figure is not None, "run bench/presets.py --presets fast"
    assert figure["epochs"] == PRESETS["fast"].app_hyperparameters.epochs
    assert figure["batch_size"] == PRESETS["fast"].app_hyperparameters.batch_size
    assert "% test accuracy" in PRESETS["fast"].description


@pytest.mark.parametrize("schedule", ["linear", "", None])
def test_an_unknown_learning_rate_schedule_is_refused_plainly(schedule):
    problems = Hyperparameters(learning_rate_schedule=schedule).problems()
    assert problems == [f"Unknown learning-rate schedule {schedule!r}: choose one of {', '.join(SCHEDULES)}."]


def test_schedules_round_trip_through_the_settings_dict():
    hp = Hyperparameters(learning_rate_schedule="cosine")
    assert Hyperparameters.from_dict(hp.to_dict()) == hp
    assert Hyperparameters().learning_rate_schedule == "constant"  # old runs and links keep a constant rate
