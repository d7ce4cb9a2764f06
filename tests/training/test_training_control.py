"""Stop while paused, training a finished run more, early stopping: what the Keras trainer does.

Pause, resume and refusals as control flow: tests/unit/test_manager.py.
"""

import pytest
from helpers import wait_for

from core.runs.manager import RunManager
from core.runs.record import Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)


@pytest.fixture
def manager(tmp_path):
    """With the real trainer: these tests are about what training does when paused, continued, stopped early."""
    return RunManager(RunStore(tmp_path / "store"))


def test_stop_while_paused_ends_the_run_as_stopped(manager):
    run = manager.start(SPEC, "shapes", Hyperparameters(epochs=3, batch_size=16, limit_train=400, limit_test=50))
    wait_for(lambda: len(run.batch_history()) >= 1)
    manager.pause(run.id, "")
    wait_for(lambda: run.status == Status.PAUSED)
    assert manager.stop(run.id, "")
    assert run.wait(60)
    assert run.status == Status.STOPPED
    assert run.results is not None  # the weights at that moment are still tested


def test_train_more_extends_the_same_history(manager):
    hp = Hyperparameters(epochs=2, batch_size=32, limit_train=400, limit_test=100)
    run = manager.start(SPEC, "shapes", hp)
    assert run.wait(60) and run.status == Status.FINISHED
    first_losses = [e["loss"] for e in run.epoch_history()]
    steps_before = run.batch_history()[-1]["step"]
    more = manager.continue_run(run.id, 2, "")
    assert more.id == run.id
    assert more.wait(60), more.message
    assert more.status == Status.FINISHED, more.message
    history = more.epoch_history()
    assert [e["epoch"] for e in history] == [1, 2, 3, 4]
    assert [e["loss"] for e in history[:2]] == first_losses  # the earlier epochs are kept as they were
    # Optimizer state and weights carried on: the loss goes on from where it was, not from scratch.
    assert history[2]["loss"] < history[0]["loss"]
    assert more.batch_history()[-1]["step"] > steps_before
    stored = manager.store.load(run.id)
    assert stored.epoch == 4 and stored.hyperparameters.epochs == 4 and len(stored.epoch_history()) == 4


def test_early_stopping_says_why_it_stopped(manager):
    # A high learning rate on a tiny set stops improving quickly; patience 1 then ends the run early.
    hp = Hyperparameters(
        epochs=40, batch_size=32, limit_train=300, limit_test=100, learning_rate=0.01, early_stopping_patience=1
    )
    run = manager.start(SPEC, "shapes", hp)
    assert run.wait(120)
    assert run.status == Status.FINISHED
    assert run.epoch < 40
    assert "Stopped early after epoch" in run.message
    assert "validation loss had not improved for 1 epoch" in run.message


def test_early_stopping_needs_a_validation_split():
    hp = Hyperparameters(validation_split=0.0, early_stopping_patience=3)
    assert any("validation split above 0" in p for p in hp.problems())
