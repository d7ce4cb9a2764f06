"""The run manager's control flow with a fake trainer: queue, order, pause, stop, cancel, saving, ending."""

import pytest
from helpers import FakeTrainer, wait_for

from core.config import RUNNER_NAMES
from core.runs.manager import RunManager, RunRejected
from core.runs.record import Status
from core.runs.runners import RUNNERS, runner_class
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
QUICK = Hyperparameters(epochs=1, batch_size=32)
LONG = Hyperparameters(epochs=30, batch_size=16)


def test_queue_positions_and_cancelling_a_waiting_run(manager, fake_trainer):
    fake_trainer.gate.clear()  # the first run holds its slot
    first = manager.start(SPEC, "shapes", LONG)
    second = manager.start(SPEC, "shapes", QUICK)
    third = manager.start(SPEC, "shapes", QUICK)
    wait_for(lambda: first.status == Status.RUNNING)
    assert (manager.queue_position(first.id), manager.queue_position(second.id), manager.queue_position(third.id)) == (
        None,
        1,
        2,
    )
    assert second.status == Status.QUEUED
    assert manager.stop(second.id, "")  # cancel while waiting: ends at once
    assert second.wait(1) and second.status == Status.STOPPED and "Cancelled" in second.message
    assert manager.queue_position(third.id) == 1
    assert manager.store.load(second.id).status == Status.STOPPED
    manager.stop(first.id, "")
    fake_trainer.gate.set()
    assert third.wait(5) and third.status == Status.FINISHED
    assert fake_trainer.started == [first.id, third.id]  # the cancelled run never trained


def test_runs_start_in_the_order_they_were_queued(tmp_path):
    trainer = FakeTrainer(open=False)
    manager = RunManager(RunStore(tmp_path), max_concurrent=1, trainer=trainer, max_waiting_per_user=5)
    runs = [manager.start(SPEC, "shapes", QUICK) for _ in range(5)]
    wait_for(lambda: trainer.started == [runs[0].id])
    assert [r.status for r in runs[1:]] == [Status.QUEUED] * 4
    assert [manager.queue_position(r.id) for r in runs] == [None, 1, 2, 3, 4]
    trainer.gate.set()
    assert all(r.wait(5) for r in runs)
    assert trainer.started == [r.id for r in runs]
    assert [r.status for r in runs] == [Status.FINISHED] * 5


def test_queued_run_waits_for_a_slot_and_can_be_cancelled(manager, fake_trainer):
    fake_trainer.gate.clear()
    first = manager.start(SPEC, "shapes", LONG)
    second = manager.start(SPEC, "shapes", LONG)
    try:
        wait_for(lambda: first.status == Status.RUNNING)
        assert second.status == Status.QUEUED
        assert second.progress().status == Status.QUEUED and second.batch_history() == []
        assert {r.id for r in manager.list("") if r.active} >= {first.id, second.id}
        assert manager.store.load(second.id).status == Status.QUEUED

        # A queued run is cancelled at once, without waiting for the running one to end.
        assert manager.stop(second.id, "") is True
        assert second.wait(5)
        assert first.active
        assert second.status == Status.STOPPED and second.message == "Cancelled before it started."
        assert second.batch_history() == [] and second.results is None
        assert manager.store.load(second.id).status == Status.STOPPED

        # A run still training cannot be deleted.
        with pytest.raises(RunRejected) as info:
            manager.delete(first.id, "")
        assert info.value.problems == ["This run is still training: stop it first, then delete it."]
        assert manager.store.load(first.id) is not None
    finally:
        manager.stop(first.id, "")
        assert first.wait(5)
    assert manager.delete(first.id, "") is True
    assert manager.store.load(first.id) is None
    assert not manager.store.model_path(first.id).exists()
    assert manager.delete(second.id, "") is True


def test_pause_holds_training_until_resume(manager, fake_trainer):
    fake_trainer.gate.clear()
    run = manager.start(SPEC, "shapes", Hyperparameters(epochs=2, batch_size=16))
    wait_for(lambda: run.status == Status.RUNNING)
    assert manager.pause(run.id, "")
    fake_trainer.gate.set()  # one batch, then the pause takes hold
    wait_for(lambda: run.status == Status.PAUSED)
    held = len(run.batch_history())
    assert not run.wait(0.3)  # paused a moment: nothing ends, nothing trains
    assert len(run.batch_history()) == held
    assert run.progress().status == "paused"
    assert manager.resume(run.id, "")
    assert run.wait(5)
    assert run.status == Status.FINISHED
    assert run.paused_seconds >= 0.25
    assert len(run.batch_history()) > held


def test_stop_twice_and_stop_after_the_end_are_harmless(manager, fake_trainer):
    fake_trainer.gate.clear()
    run = manager.start(SPEC, "shapes", LONG)
    wait_for(lambda: run.status == Status.RUNNING)
    assert manager.stop(run.id, "")
    manager.stop(run.id, "")  # a second click while stopping
    assert run.wait(5) and run.status == Status.STOPPED
    assert not manager.stop(run.id, "")  # Stop on an ended run does nothing
    assert manager.store.load(run.id).status == Status.STOPPED


def test_train_more_refuses_runs_that_cannot(manager, fake_trainer):
    with pytest.raises(RunRejected, match="no longer exists"):
        manager.continue_run("nonexistent", 1, "")
    fake_trainer.gate.clear()
    run = manager.start(SPEC, "shapes", Hyperparameters(epochs=3, batch_size=16))
    with pytest.raises(RunRejected, match="still training"):
        manager.continue_run(run.id, 1, "")
    manager.stop(run.id, "")
    assert run.wait(5)
    with pytest.raises(RunRejected, match="between 1 and"):
        manager.continue_run(run.id, 0, "")
    with pytest.raises(RunRejected, match="saved model"):  # the fake trainer saves no model
        manager.continue_run(run.id, 1, "")


def test_the_manager_saves_a_run_as_it_begins_after_each_epoch_and_at_its_end(manager, fake_trainer):
    fake_trainer.gate.clear()
    run = manager.start(SPEC, "shapes", Hyperparameters(epochs=2, batch_size=16))
    assert manager.store.load(run.id).status in (Status.QUEUED, Status.RUNNING)  # saved when queued
    wait_for(lambda: run.status == Status.RUNNING)
    wait_for(lambda: manager.store.load(run.id).status == Status.RUNNING)  # saved as it began
    fake_trainer.gate.set()
    assert run.wait(5)
    stored = manager.store.load(run.id)
    assert stored.status == Status.FINISHED and stored.results == run.results
    assert len(stored.epoch_history()) == 2 and len(stored.batch_history()) == 6
    assert run.on_progress is None  # an ended run saves nothing more


def test_a_trainer_that_raises_fails_the_run_plainly_and_the_slot_goes_on(tmp_path):
    class Broken(FakeTrainer):
        def train(self, run, store, *, continue_training=False):
            if not self.started:
                self.started.append(run.id)
                raise RuntimeError("boom")
            return super().train(run, store, continue_training=continue_training)

    manager = RunManager(RunStore(tmp_path), max_concurrent=1, trainer=Broken())
    broken, fine = manager.start(SPEC, "shapes", QUICK), manager.start(SPEC, "shapes", QUICK)
    assert broken.wait(5) and fine.wait(5)
    assert (broken.status, broken.message) == (Status.FAILED, "Training failed unexpectedly; please try again.")
    assert manager.store.load(broken.id).status == Status.FAILED
    assert fine.status == Status.FINISHED


def test_the_trainer_gets_the_analysis_made_when_the_run_started(manager, fake_trainer):
    seen = []
    original = fake_trainer.train
    fake_trainer.train = lambda run, store, **kw: seen.append(run.analysis) or original(run, store, **kw)
    run = manager.start(SPEC, "shapes", QUICK)
    assert run.wait(5)
    assert seen[0] is not None and seen[0].ok and seen[0].total_params == run.params
    assert run.task.name == "classification"


def test_unknown_runner_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Unknown runner 'gpu'; choose one of thread, process"):
        RunManager(RunStore(tmp_path), runner="gpu")


def test_every_runner_the_settings_name_is_registered_and_imports_without_starting_anything():
    assert list(RUNNERS) == list(RUNNER_NAMES)
    classes = {name: runner_class(name) for name in RUNNER_NAMES}
    assert {name: cls.name for name, cls in classes.items()} == {"thread": "thread", "process": "process", "ray": "ray"}
    assert classes["ray"].__module__ == "core.runs.ray.runner"  # the package's runner, as "core.runs.ray:RayRunner"


def test_invalid_spec_is_rejected_with_plain_problems(manager):
    before = {r.id for r in manager.list("")}
    with pytest.raises(RunRejected) as info:
        manager.start(PRESETS["model1"].spec(), "shapes", Hyperparameters(epochs=1))
    assert info.value.problems == [
        "Layer 7: the output layer has 10 units but the data set has 5 classes — set the last Dense layer to 5 units."
    ]
    with pytest.raises(RunRejected) as info:
        manager.start(SPEC, "shapes", Hyperparameters(epochs=0, learning_rate=50, batch_size=32))
    assert info.value.problems == [
        "The learning rate must be a number above 0 and at most 10 (got 50).",
        "Epochs must be a whole number from 1 to 200 (got 0).",
    ]
    with pytest.raises(RunRejected) as info:
        manager.start(SPEC, "no_such_data", Hyperparameters())
    assert info.value.problems[0].startswith("Unknown data set 'no_such_data'")
    assert {r.id for r in manager.list("")} == before  # nothing was stored


def test_param_budget_of_the_manager(tmp_path, fake_trainer):
    small = RunManager(RunStore(tmp_path), max_concurrent=1, param_budget=50_000, trainer=fake_trainer)
    with pytest.raises(RunRejected) as info:
        small.start(SPEC, "shapes", Hyperparameters())
    assert "more than the limit of 50,000" in info.value.problems[0]
