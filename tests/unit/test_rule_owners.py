"""Each rule has one owner (ARCHITECTURE.md, "Who owns what"): whether a model takes images, how a duration
is said, what a run's task reads from its results, and the limits policy the manager, the planner and the
pages ask."""

import pytest
from helpers import model1_challenge

from core.data.datasets import CLASSIFICATION, REGRESSION, load_dataset
from core.experiments.plan import limits_check, manager_check
from core.model.spec import is_image_spec
from core.runs.manager import RunRejected
from core.runs.policy import NOT_YOUR_DATASET, RunPolicy
from core.timing import format_duration
from core.training.hyperparams import MAX_EPOCHS, Hyperparameters
from core.training.presets import PRESETS, TABLE_PRESETS
from core.training.tasks import TASKS, task_of_columns, task_of_results

IMAGE_SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
TABLE_SPEC = next(iter(TABLE_PRESETS.values())).spec((8,), None)
SMALL = {
    "input_shape": [28, 28, 1],
    "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}],
}


# --- image or not --------------------------------------------------------------------------------


def test_a_spec_takes_images_when_its_input_has_height_width_and_channels():
    assert is_image_spec(IMAGE_SPEC) and is_image_spec({"input_shape": [32, 32, 3], "layers": []})
    assert not is_image_spec(TABLE_SPEC)
    assert not any(is_image_spec(s) for s in (None, [], "28x28x1", {}, {"input_shape": None}, {"layers": []}))


# --- durations -----------------------------------------------------------------------------------


def test_a_measured_duration_is_said_to_the_second():
    assert format_duration(None) == "—"
    assert [format_duration(s) for s in (0.4, 42.4, 60, 125, 3599.6, 3725)] == [
        "0 s",
        "42 s",
        "1 min 00 s",
        "2 min 05 s",
        "1 h 00 min",
        "1 h 02 min",
    ]
    assert format_duration(125, clock=False) == "2 min 5 s"  # in a sentence, not a ticking clock


def test_a_forecast_is_rounded_up_but_not_for_float_dust():
    assert format_duration(54.000000001, about=True) == "about 54 s"  # an experiment's estimate
    assert format_duration(54.2, about=True) == "about 55 s"
    assert format_duration(42, about=True, second_step=5) == "about 45 s"  # a run's, timed on a few batches
    assert format_duration(0.2, about=True, second_step=5) == "about 5 s"
    assert format_duration(125, about=True) == "about 3 min"
    assert format_duration(4200, about=True) == "about 1 h 10 min"


# --- the task ------------------------------------------------------------------------------------


def test_the_task_answers_which_metric_which_is_better_and_the_headline():
    accuracy, mae = TASKS[CLASSIFICATION], TASKS[REGRESSION]
    assert (accuracy.metric, accuracy.headline_key, accuracy.headline_title) == (
        "accuracy",
        "test_accuracy",
        "Test accuracy",
    )
    assert (mae.metric, mae.headline_key, mae.headline_title) == ("mae", "test_mae", "Test MAE")
    assert accuracy.better(0.9, 0.8) and not accuracy.better(0.8, 0.9)
    assert mae.better(1.5, 2.0) and not mae.better(2.0, 1.5)
    assert accuracy.headline({"test_accuracy": 0.875}) == "test accuracy 87.5 %"
    assert mae.headline({"test_mae": 12.3456}, bold=True) == "test MAE **12.35**"
    assert accuracy.headline(None) == "" and mae.headline_value({}) is None
    assert accuracy.result_keys[0] == accuracy.headline_key and mae.result_keys[0] == mae.headline_key


def test_the_task_reads_results_and_tables_of_results():
    assert task_of_results({"test_mae": 3.0, "test_rmse": 4.0}).name == REGRESSION
    assert task_of_results({"task": "regression"}).name == REGRESSION
    assert task_of_results({"test_accuracy": 0.9}).name == CLASSIFICATION
    assert task_of_results(None).name == CLASSIFICATION
    assert task_of_columns(["variant", "test_mae", "params"]).name == REGRESSION
    assert task_of_columns(["variant", "test_accuracy", "params"]).name == CLASSIFICATION


# --- the limits policy ---------------------------------------------------------------------------


def _refusal(manager, *args, **kwargs) -> list[str]:
    with pytest.raises(RunRejected) as refused:
        manager.start(*args, **kwargs)
    return refused.value.problems


def test_the_policy_gives_the_problems_the_manager_refuses_a_plain_run_with(manager):
    too_big = {**SMALL, "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 6_000}, *SMALL["layers"][1:]]}
    manager.policy.param_budget = 1_000_000
    hp = Hyperparameters(epochs=1)
    problems = manager.policy.problems(too_big, hp, "shapes", owner="u1")
    assert problems == _refusal(manager, too_big, "shapes", hp, owner="u1")
    assert "more than the limit of 1,000,000" in problems[0]
    wrong = Hyperparameters.from_dict({**hp.to_dict(), "epochs": MAX_EPOCHS + 1})
    assert manager.policy.problems(SMALL, wrong, "shapes") == _refusal(manager, SMALL, "shapes", wrong)
    assert manager.policy.problems(SMALL, hp, "shapes", owner="u1") == []
    assert manager.start(SMALL, "shapes", hp, owner="u1").wait(10)


def test_the_policy_gives_the_problems_the_manager_refuses_a_challenge_run_with(manager):
    challenge = model1_challenge(max_params=1_000)
    hp = Hyperparameters.from_dict({**challenge.hyperparameters.to_dict(), "optimizer": "sgd"})
    problems = manager.policy.problems(SMALL, hp, "shapes", owner="u1", challenge=challenge)
    assert problems == _refusal(manager, SMALL, "shapes", hp, owner="u1", challenge=challenge)
    assert problems == [
        "The model has 3,925 parameters; this challenge allows at most 1,000. On Build, use fewer filters or "
        "units, or add pooling before Flatten.",
        "The optimizer is set by your teacher (adam): open the challenge link again to get it back.",
    ]
    # The experiment planner asks the same policy: the same reasons for the same variant.
    assert manager_check(manager, "shapes", challenge)(SMALL, hp) == (3_925, problems)
    assert limits_check(load_dataset("shapes"), challenge=challenge)(SMALL, hp) == (3_925, problems)


def test_whose_data_set_it_is_comes_after_the_model_and_before_the_challenge():
    data = type("Data", (), {"name": "own-0123456789ab", "input_shape": (28, 28, 1), "num_classes": 5})()
    data.task, data.owner = CLASSIFICATION, "teacher"
    policy, hp = RunPolicy(), Hyperparameters(epochs=1)
    assert policy.assess_on(SMALL, hp, data, owner="learner").problems == [NOT_YOUR_DATASET]
    assert policy.assess_on(SMALL, hp, data, owner="teacher").problems == []
    assert policy.assess_on(SMALL, hp, data).problems == []  # a plan checked before anyone starts it
    in_challenge = model1_challenge(dataset=data.name, hyperparameters=hp, locked=(), hidden=())
    assert policy.assess_on(SMALL, hp, data, owner="learner", challenge=in_challenge).problems == []


def test_the_allowed_maxima_are_the_servers_or_the_challenges_when_lower():
    policy = RunPolicy(param_budget=200_000, memory_budget_mb=512)
    server = policy.allowed_maxima()
    assert (server.params, server.epochs, server.memory_mb) == (200_000, MAX_EPOCHS, 512)
    challenge = policy.allowed_maxima(model1_challenge(max_params=120_000, max_epochs=3))
    assert (challenge.params, challenge.epochs) == (120_000, 3)
    assert challenge.more_epochs(1) == 2 and challenge.more_epochs(3) == 0
    assert policy.allowed_maxima(model1_challenge(max_params=10**7)).params == 200_000
    assert policy.more_epochs_problems(2, 2, model1_challenge(max_epochs=3)) == [
        "This challenge allows 3 epochs in all and this run has 2: set More epochs to at most 1."
    ]
    assert policy.more_epochs_problems(0, 0) == [f"Choose between 1 and {MAX_EPOCHS} more epochs."]
