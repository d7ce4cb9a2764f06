"""The new training settings (one-cycle schedule, label smoothing, a target accuracy): checked by the one
field table, carried by share links, the CLI and challenges; the time to a target in words and on the board."""

import pytest

from core.classroom.class_results import class_results_csv
from core.experiments.factors import FactorError, apply_values, parse_factor
from core.insight.compare import leaderboard
from core.runs.challenges import Challenge
from core.runs.record import Run, Status
from core.share import ShareLinkError, decode, encode
from core.training.codegen import compile_code, fit_code
from core.training.hyperparams import FIELDS_BY_NAME, Hyperparameters
from core.training.presets import PRESETS
from core.training.target import reached_message, reached_text, target_reached
from core.training.validation import InvalidInput, check_hyperparameters
from dashboard.components.leaderboard import RUN_COLUMNS, leaderboard_frame


def share(hp: Hyperparameters) -> dict:
    return {
        "dataset": "shapes",
        "preset": "model1",
        "spec": PRESETS["model1"].spec(num_classes=5),
        "hyperparameters": hp.to_dict(),
    }


def test_the_new_settings_are_in_the_one_field_table_with_their_defaults():
    hp = Hyperparameters()
    assert (hp.label_smoothing, hp.target_accuracy) == (0.0, None)
    assert "one_cycle" in FIELDS_BY_NAME["learning_rate_schedule"].choices
    assert FIELDS_BY_NAME["label_smoothing"].cli and FIELDS_BY_NAME["target_accuracy"].cli


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"label_smoothing": -0.1}, "Label smoothing must be a number at least 0 and below 0.5"),
        ({"label_smoothing": 0.5}, "Label smoothing must be a number at least 0 and below 0.5"),
        ({"target_accuracy": 0.0}, "The target accuracy must be a number above 0 and at most 1"),
        ({"target_accuracy": 1.5}, "The target accuracy must be a number above 0 and at most 1"),
        ({"target_accuracy": 0.9, "validation_split": 0.0}, "set a validation split above 0"),
        ({"learning_rate_schedule": "triangle"}, "Unknown learning-rate schedule"),
    ],
)
def test_bad_values_are_refused_in_plain_words(values, expected):
    problems = Hyperparameters(**values).problems()
    assert any(expected in p for p in problems), problems


def test_good_values_pass():
    hp = Hyperparameters(learning_rate_schedule="one_cycle", label_smoothing=0.1, target_accuracy=0.9)
    assert hp.problems() == []
    assert check_hyperparameters(hp.to_dict()) == hp


def test_a_text_where_a_number_belongs_is_refused_at_the_door():
    with pytest.raises(InvalidInput):
        check_hyperparameters({**Hyperparameters().to_dict(), "target_accuracy": "ninety"})


def test_a_share_link_carries_the_new_settings_exactly():
    hp = Hyperparameters(learning_rate_schedule="one_cycle", label_smoothing=0.15, target_accuracy=0.875)
    original = share(hp)
    assert decode(encode(original)) == original


def test_a_share_link_with_smoothing_beyond_the_widget_is_refused():
    with pytest.raises(ShareLinkError, match="outside what the app allows|Label smoothing"):
        decode(encode(share(Hyperparameters(label_smoothing=0.45))))


def test_the_time_to_a_target_is_the_training_time_up_to_the_first_epoch_that_reached_it():
    epochs = [
        {"epoch": 1, "seconds": 10.0, "val_accuracy": 0.85},
        {"epoch": 2, "seconds": 12.5, "val_accuracy": 0.905},
        {"epoch": 3, "seconds": 11.0, "val_accuracy": 0.91},
    ]
    reached = target_reached(epochs, 0.9)
    assert reached == {"target": 0.9, "epoch": 2, "seconds": 22.5, "val_accuracy": 0.905}
    assert reached_text(reached) == "reached 90 % in 22 s"
    assert "after epoch 2" in reached_message(reached) and "90.5 %" in reached_message(reached)
    assert target_reached(epochs, 0.95) is None and target_reached(epochs, None) is None
    assert reached_text({**reached, "target": 0.925, "seconds": 125}) == "reached 92.5 % in 2 min 5 s"


def test_a_challenge_locks_its_target_for_every_learner():
    challenge = Challenge(
        "ABC123",
        "Race",
        "shapes",
        "model1",
        200_000,
        5,
        Hyperparameters(epochs=5, target_accuracy=0.9),
        locked=("target_accuracy",),
    )
    assert challenge.apply(Hyperparameters(target_accuracy=None)).target_accuracy == 0.9
    assert "target accuracy" in challenge.rules()
    free = Challenge("ABC124", "Free", "shapes", "model1", 200_000, 5, Hyperparameters(target_accuracy=0.9))
    assert free.apply(Hyperparameters(target_accuracy=0.8)).target_accuracy == 0.8


def finished_run(run_id, accuracy, reached=None, challenge=None):
    run = Run(PRESETS["model1"].spec(num_classes=5), "shapes", Hyperparameters(target_accuracy=0.9), run_id=run_id)
    run.challenge, run.learner, run.owner = challenge, f"learner {run_id}", run_id
    results = {"test_accuracy": accuracy, "test_loss": 0.3, "train_seconds": 50.0}
    if reached:
        results["target_reached"] = reached
    run.finish(Status.FINISHED, "", results)
    return run


def test_the_leaderboard_shows_the_time_to_target_and_only_when_a_run_reached_one():
    reached = {"target": 0.9, "epoch": 3, "seconds": 41.2, "val_accuracy": 0.91}
    rows = leaderboard([finished_run("a" * 12, 0.92, reached), finished_run("b" * 12, 0.88)])
    frame = leaderboard_frame(rows)
    assert list(frame["Time to target"]) == ["reached 90 % in 41 s", "—"]
    plain = leaderboard_frame(leaderboard([finished_run("c" * 12, 0.9)]), RUN_COLUMNS)
    assert "Time to target" not in plain.columns


def test_the_class_results_csv_has_the_seconds_to_target():
    challenge = Challenge("RACE01", "Race", "shapes", "model1", 200_000, 5, Hyperparameters(target_accuracy=0.9))
    reached = {"target": 0.9, "epoch": 3, "seconds": 41.2, "val_accuracy": 0.91}
    text = class_results_csv([finished_run("d" * 12, 0.92, reached, "RACE01")], challenge)
    header, row = text.strip().splitlines()
    assert header.endswith("seconds_to_target") and row.endswith(",41.2")


def test_experiments_can_vary_the_schedule_and_label_smoothing():
    spec = PRESETS["fast"].spec()
    schedule = parse_factor("learning_rate_schedule=cosine,one_cycle", spec)
    smoothing = parse_factor("label_smoothing=0,0.1", spec)
    _, hp = apply_values(spec, Hyperparameters(), {schedule.key: "one_cycle", smoothing.key: 0.1})
    assert (hp.learning_rate_schedule, hp.label_smoothing) == ("one_cycle", 0.1)
    with pytest.raises(FactorError, match="one_cycle"):
        parse_factor("learning_rate_schedule=cosine,steps", spec)
    with pytest.raises(FactorError, match="below 0.5"):
        parse_factor("label_smoothing=0,0.7", spec)


def test_the_exported_code_has_the_schedule_the_smoothing_and_the_target():
    hp = Hyperparameters(
        learning_rate=0.003, learning_rate_schedule="one_cycle", label_smoothing=0.1, target_accuracy=0.9
    )
    compiled = compile_code(hp, "EPOCHS")
    assert "warmup_target=0.003" in compiled and "CategoricalCrossentropy(label_smoothing=0.1)" in compiled
    fit = fit_code(hp, "EPOCHS")
    assert "to_categorical(y_train)" in fit and ">= 0.9" in fit
    compile(compiled + fit, "<exported>", "exec")  # valid Python
