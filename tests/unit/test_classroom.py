"""Classroom challenges: rules enforced when a learner's run starts, leaderboard, reset, teacher password."""

import time

import pytest
from helpers import FakeTrainer
from helpers import model1_challenge as make_challenge

from core.classroom.challenges import setup_problems, starting_model_warning
from core.classroom.leaderboard import leaderboard
from core.classroom.login import check_teacher_password
from core.insight.compare import describe_architecture
from core.runs.challenges import ChallengeStore
from core.runs.manager import RunManager, RunRejected
from core.runs.record import Run, Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)


def test_challenge_rules_in_plain_words():
    challenge = make_challenge()
    hp = challenge.hyperparameters
    assert challenge.problems("shapes", 107_973, hp) == []
    found = challenge.problems("mnist", 500_000, Hyperparameters(optimizer="sgd", epochs=9, batch_size=32))
    assert any("uses its own data set" in p for p in found)
    assert any("500,000 parameters" in p and "at most 120,000" in p and "On Build" in p for p in found)
    assert "This challenge allows at most 3 epochs: lower Epochs." in found
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


# --- every path into a challenge keeps its rules -------------------------------------------------


def test_apply_puts_back_every_value_a_learner_cannot_change():
    challenge = make_challenge(max_epochs=3)
    # e.g. what "Load preset" or a share link brings: another optimizer, batch size, seed, test set
    theirs = Hyperparameters(
        optimizer="sgd", learning_rate=0.05, epochs=9, batch_size=256, seed=7, limit_train=None, limit_test=5
    )
    applied = challenge.apply(theirs)
    assert (applied.optimizer, applied.batch_size, applied.seed) == ("adam", 32, 42)  # locked and hidden
    assert applied.learning_rate == 0.05  # free: the learner's own choice stays
    assert applied.epochs == 3  # brought within the cap
    assert (applied.limit_train, applied.limit_test) == (300, 60)  # the teacher's images per run and test set
    assert challenge.problems("shapes", 1_000, applied) == []


def test_test_set_and_training_images_cannot_be_changed_around_the_page(tmp_path):
    manager = RunManager(RunStore(tmp_path), trainer=FakeTrainer())
    challenge = make_challenge()
    small = dict(SPEC, layers=[{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}])
    one_image = Hyperparameters.from_dict({**challenge.hyperparameters.to_dict(), "limit_test": 1})
    with pytest.raises(RunRejected, match="test set is set by your teacher"):
        manager.start(small, "shapes", one_image, challenge=challenge)
    everything = Hyperparameters.from_dict({**challenge.hyperparameters.to_dict(), "limit_train": None})
    with pytest.raises(RunRejected, match="training images per run"):
        manager.start(small, "shapes", everything, challenge=challenge)


def test_a_closed_challenge_takes_no_runs_and_the_store_reads_the_latest(tmp_path):
    manager = RunManager(RunStore(tmp_path), trainer=FakeTrainer())
    challenges = ChallengeStore(manager.store)
    challenge = challenges.save(make_challenge())
    challenges.update(challenge.code, closed=True)
    small = dict(SPEC, layers=[{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}])
    # the session still holds the open copy: the manager asks the store
    with pytest.raises(RunRejected, match="closed this challenge"):
        manager.start(small, "shapes", challenge.hyperparameters, challenge=challenge)
    assert challenges.delete(challenge.code) and challenges.get(challenge.code) is None
    assert not challenges.delete(challenge.code)


# --- teacher login ------------------------------------------------------------------------------


def test_wrong_passwords_slow_down_per_session_and_per_server():
    from core.classroom.login import LoginThrottle

    throttle = LoginThrottle(free=3, server_free=5, first_wait=2.0)
    now = 1000.0
    for _ in range(3):
        assert throttle.seconds_to_wait("a", now) == 0
        throttle.failed("a", now)
    assert throttle.seconds_to_wait("a", now) == 2.0  # the 4th try waits
    throttle.failed("a", now + 2)
    assert throttle.seconds_to_wait("a", now + 2) == 4.0  # and each failure doubles the wait
    # 30 tries in a row: only those after each wait count, the rest are refused at once
    tried = 0
    t = now + 2
    for _ in range(30):
        if throttle.seconds_to_wait("a", t) == 0:
            throttle.failed("a", t)
            tried += 1
        t += 0.05
    assert tried == 0
    # another session is slowed once the whole server has seen too many failures (a 5th here)
    assert throttle.seconds_to_wait("b", now + 3) == 0
    throttle.failed("c", now + 3)
    assert throttle.seconds_to_wait("b", now + 3) == 2.0
    throttle.succeeded("a")
    assert throttle.seconds_to_wait("a", now + 100) == 0


def test_teacher_token_is_signed_expires_and_dies_with_the_password(tmp_path):
    from core.classroom.login import check_teacher_token, make_teacher_token, server_secret

    secret = server_secret(tmp_path)
    assert server_secret(tmp_path) == secret  # kept, so a restart keeps the teacher logged in
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    token = make_teacher_token(secret, "s3cret", now=1000.0, seconds=60)
    assert "s3cret" not in token
    assert check_teacher_token(token, secret, "s3cret", now=1030.0)
    assert not check_teacher_token(token, secret, "s3cret", now=1061.0)  # expired
    assert not check_teacher_token(token, secret, "changed", now=1030.0)
    expires, signature = token.split(".")
    assert not check_teacher_token(f"{int(expires) + 3600}.{signature}", secret, "s3cret", now=1030.0)
    assert not check_teacher_token("garbage", secret, "s3cret")
    assert not check_teacher_token(token, b"another server", "s3cret", now=1030.0)


def test_a_new_challenge_needs_a_title_and_starting_epochs_within_its_limit():
    hp = Hyperparameters(epochs=3)
    assert setup_problems("Tiny models", 5, hp) == []
    assert setup_problems("  ", 5, hp) == ["Give the challenge a title."]
    assert setup_problems("Tiny models", 2, hp) == ["The starting number of epochs is above the most epochs allowed."]


def test_the_teacher_is_told_when_the_starting_model_breaks_the_parameter_limit():
    assert starting_model_warning(make_challenge(max_params=120_000)) is None  # model1 on shapes: 107,973
    warning = starting_model_warning(make_challenge(max_params=50_000))
    assert warning.startswith("The starting model has 107,973 parameters, more than the 50,000 allowed")
