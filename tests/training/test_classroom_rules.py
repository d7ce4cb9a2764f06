"""Classroom rules on the paths that train: train more within the epoch cap, a teacher's data set,
a hidden test set that scores the leaderboard and never reaches a learner."""

import pytest
from helpers import model1_challenge

from core.classroom.challenges import new_code
from core.classroom.leaderboard import leaderboard
from core.runs.challenges import Challenge, ChallengeStore
from core.runs.manager import RunManager, RunRejected
from core.runs.record import Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
SMALL = dict(SPEC, layers=[{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}])


def make_challenge(**changes) -> Challenge:
    """The shared model-1 challenge, one training epoch per run and the default learning rate."""
    return model1_challenge(
        **{
            "hyperparameters": Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=60),
            "hidden": (),
            **changes,
        }
    )


def test_train_more_keeps_the_challenges_epoch_cap():
    manager = RunManager(RunStore())
    challenge = ChallengeStore(manager.store).save(make_challenge(max_epochs=2))
    hp = Hyperparameters.from_dict({**challenge.hyperparameters.to_dict(), "epochs": 1})
    run = manager.start(SMALL, "shapes", hp, owner="u1", challenge=challenge)
    assert run.wait(60) and run.status == Status.FINISHED, run.message
    with pytest.raises(RunRejected, match="set More epochs to at most 1"):
        manager.continue_run(run.id, 3, "u1")
    more = manager.continue_run(run.id, 1, "u1")
    assert more.wait(60) and more.epoch == 2
    with pytest.raises(RunRejected, match="already has the 2 epochs"):
        manager.continue_run(run.id, 1, "u1")


def test_learners_train_on_the_teachers_data_set_only_in_its_challenge():
    from core.data.datasets import load_dataset
    from core.data.user_datasets import UserDatasetStore

    manager = RunManager(RunStore())
    shapes = load_dataset("shapes")
    arrays = {k: getattr(shapes, k)[:200] for k in ("x_train", "y_train", "x_test", "y_test")}
    name = UserDatasetStore(manager.store.home).save(
        owner="teacher", title="Our shapes", arrays=arrays, class_names=shapes.class_names
    )
    challenge = ChallengeStore(manager.store).save(make_challenge(dataset=name))
    hp = Hyperparameters.from_dict({**challenge.hyperparameters.to_dict(), "epochs": 1})
    with pytest.raises(RunRejected, match="imported by someone else"):
        manager.start(SMALL, name, hp, owner="learner")  # outside the challenge
    run = manager.start(SMALL, name, hp, owner="learner", challenge=challenge)
    assert run.wait(60) and run.status == Status.FINISHED, run.message


# --- the hidden test set ----------------------------------------------------------------------------


def test_hidden_test_set_is_kept_from_learners_and_scores_the_leaderboard():
    from core.classroom.hidden_test import keep_back_hidden_test
    from core.data.datasets import load_dataset
    from core.runs.challenges import HIDDEN_SCORE, load_hidden_test

    manager = RunManager(RunStore())
    shapes = load_dataset("shapes")
    code = new_code()
    name = keep_back_hidden_test(manager.store.home, code, shapes, 100, owner="teacher")
    learners_data = load_dataset(name)
    hidden_x, hidden_y = load_hidden_test(manager.store.home, code)
    assert len(learners_data.y_test) == 400 and len(hidden_y) == 100
    # none of the kept-back images is in what learners can load
    visible = {bytes(x) for x in learners_data.x_test} | {bytes(x) for x in learners_data.x_train}
    assert not any(bytes(x) in visible for x in hidden_x)

    hp = Hyperparameters(epochs=1, batch_size=32, limit_train=400)
    challenge = ChallengeStore(manager.store).save(
        make_challenge(code=code, dataset=name, hyperparameters=hp, locked=(), hidden=(), hidden_test=100)
    )
    run = manager.start(SMALL, name, hp, owner="learner", challenge=challenge, learner="Ada")
    assert run.wait(60) and run.status == Status.FINISHED, run.message
    assert run.results["test_examples"] == 400  # the learner's results: the visible test set only
    assert sum(map(sum, run.results["confusion_matrix"])) == 400
    rows = leaderboard(manager.classroom_runs(code), challenge)
    assert rows[0]["score"] == run.results[HIDDEN_SCORE]  # the board ranks by the hidden test set
    assert rows[0]["test_accuracy"] == run.results["test_accuracy"]  # the learner's own, visible figure
    assert ChallengeStore(manager.store).delete(code) and load_hidden_test(manager.store.home, code) is None


def test_the_expected_time_of_a_run_comes_from_this_servers_measured_speed():
    from core.data.datasets import load_dataset
    from core.training.speed import describe_seconds, measure_speed

    data = load_dataset("shapes")
    speed = measure_speed(SMALL, "shapes", 32, examples=512)
    assert speed.train_seconds_per_example > 0 and speed.predict_seconds_per_example > 0
    quick = Hyperparameters(epochs=1, batch_size=32, limit_train=300)
    longer = Hyperparameters(epochs=4, batch_size=32, limit_train=1200)
    short = speed.run_seconds(quick, len(data.x_train), len(data.x_test))
    assert speed.run_seconds(longer, len(data.x_train), len(data.x_test)) > short > 0
    assert describe_seconds(42) == "about 45 s" and describe_seconds(125) == "about 3 min"
