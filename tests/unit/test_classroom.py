"""Classroom challenges: rules enforced when a learner's run starts, leaderboard, reset, teacher password."""

import time

import pytest

from core.classroom import (
    Challenge,
    ChallengeStore,
    check_teacher_password,
    leaderboard,
    new_code,
    setup_problems,
    starting_model_warning,
)
from core.insight.compare import describe_architecture
from core.model.presets import PRESETS
from core.runs.manager import RunRejected
from core.runs.record import Run, Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)


def make_challenge(**changes) -> Challenge:
    values = dict(
        code=new_code(),
        title="Best shapes CNN",
        dataset="shapes",
        preset="model1",
        max_params=120_000,
        max_epochs=3,
        hyperparameters=Hyperparameters(
            optimizer="adam", learning_rate=0.001, epochs=2, batch_size=32, limit_train=300, limit_test=60
        ),
        locked=("optimizer", "batch_size"),
        hidden=("seed",),
    )
    values.update(changes)
    return Challenge(**values)


def test_challenge_rules_in_plain_words():
    challenge = make_challenge()
    hp = challenge.hyperparameters
    assert challenge.problems("shapes", 107_973, hp) == []
    found = challenge.problems("mnist", 500_000, Hyperparameters(optimizer="sgd", epochs=9, batch_size=32))
    assert "This challenge uses the shapes data set." in found
    assert any("500,000 parameters" in p and "at most 120,000" in p for p in found)
    assert "This challenge allows at most 3 epochs." in found
    assert any("optimizer is set by your teacher (adam)" in p for p in found)
    assert not any("seed is set by your teacher" in p for p in found)  # same seed (42) as the challenge
    assert "at most 120,000 parameters and 3 epochs" in challenge.rules()
    assert "set by your teacher: optimizer, batch size, seed" in challenge.rules()


def test_manager_enforces_the_challenge_and_tags_the_run(manager):
    challenge = make_challenge(max_params=50_000)
    with pytest.raises(RunRejected, match="at most 50,000"):
        manager.start(SPEC, "shapes", challenge.hyperparameters, challenge=challenge)
    small = dict(SPEC, layers=[{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}])
    run = manager.start(small, "shapes", challenge.hyperparameters, owner="u1", challenge=challenge, learner="Ada")
    assert run.wait(5) and run.status == Status.FINISHED
    stored = manager.store.load(run.id)
    assert (stored.challenge, stored.learner) == (challenge.code, "Ada")


def _finished(code, learner, accuracy, params, ended):
    run = Run(SPEC, "shapes", Hyperparameters(), learner=learner, challenge=code, params=params)
    run.finish(Status.FINISHED, results={"test_accuracy": accuracy})
    run.ended = ended
    return run


def test_leaderboard_orders_by_accuracy_and_honours_reset():
    challenge = make_challenge(reset_at=100.0)
    runs = [
        _finished(challenge.code, "Ada", 0.91, 50_000, 150.0),
        _finished(challenge.code, "Bob", 0.95, 90_000, 160.0),
        _finished(challenge.code, "Cy", 0.95, 60_000, 170.0),  # same accuracy, fewer params: ranks higher
        _finished(challenge.code, "Old", 0.99, 10_000, 50.0),  # before the reset
        _finished("other", "Eve", 0.99, 10_000, 150.0),
    ]  # another challenge
    rows = leaderboard(runs, challenge)
    assert [(r["rank"], r["learner"]) for r in rows] == [(1, "Cy"), (2, "Bob"), (3, "Ada")]
    assert rows[0]["architecture"].startswith("Conv2D 16 3×3 → MaxPooling2D 2×2 → Conv2D 32 3×3")


def test_challenges_are_stored_and_reset(tmp_path):
    challenges = ChallengeStore(RunStore(tmp_path))
    challenge = challenges.save(make_challenge())
    again = ChallengeStore(RunStore(tmp_path)).get(challenge.code)  # survives reopening
    assert again == challenge
    assert [c.code for c in challenges.list()] == [challenge.code]
    before = time.time()
    assert challenges.reset(challenge.code).reset_at >= before
    assert challenges.get("nope") is None and challenges.reset("nope") is None


def test_teacher_password():
    assert check_teacher_password("s3cret", "s3cret")
    assert not check_teacher_password("wrong", "s3cret")
    assert not check_teacher_password("", "")  # no password configured: nobody is a teacher


def test_describe_architecture():
    spec = {
        "input_shape": [28, 28, 1],
        "layers": [
            {"type": "Conv2D", "filters": 8, "kernel_size": [3, 5]},
            {"type": "Dropout", "rate": 0.25},
            {"type": "GlobalAveragePooling2D"},
            {"type": "Dense", "units": 10, "activation": "softmax"},
        ],
    }
    assert describe_architecture(spec) == "Conv2D 8 3×5 → Dropout 0.25 → GlobalAveragePooling2D → Dense 10"


def test_a_new_challenge_needs_a_title_and_starting_epochs_within_its_limit():
    hp = Hyperparameters(epochs=3)
    assert setup_problems("Tiny models", 5, hp) == []
    assert setup_problems("  ", 5, hp) == ["Give the challenge a title."]
    assert setup_problems("Tiny models", 2, hp) == ["The starting number of epochs is above the most epochs allowed."]


def test_the_teacher_is_told_when_the_starting_model_breaks_the_parameter_limit():
    assert starting_model_warning(make_challenge(max_params=120_000)) is None  # model1 on shapes: 107,973
    warning = starting_model_warning(make_challenge(max_params=50_000))
    assert warning.startswith("The starting model has 107,973 parameters, more than the 50,000 allowed")
