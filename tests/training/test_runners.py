"""Training in worker processes (the process runner). The queue and controls: tests/unit/test_manager.py.

One test trains for real in a worker; the others test what the runner does around a run (stop, recycling, a
crash, the parent's __main__) with workers that import no TensorFlow (tests/training/paced_trainer.py)."""

import multiprocessing
import os
import signal
import sys
import types

import pytest
from helpers import wait_for
from paced_trainer import PacedTrainer

from core.config import Settings, SettingsError
from core.runs.manager import RunManager
from core.runs.process_runner import ServerGone, pipe_sender
from core.runs.record import Run, Status
from core.runs.runners import KerasTrainer
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
QUICK = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=50)
LONG = Hyperparameters(epochs=30, batch_size=16, limit_train=600, limit_test=50)
# The worker's warm-up (Fashion-MNIST read, the app's default model prepared ahead) is not what these tests are
# about: without it a fresh worker is ready once TensorFlow is imported. The app's own worker, warm-up included,
# trains in tests/training/test_worker_start.py; preparing ahead is tests/training/test_prepare_ahead.py's.
COLD = KerasTrainer(warm_up=False)


def test_settings_from_environment():
    settings = Settings.from_env(
        {"CNN_PLAYGROUND_RUNNER": "process", "CNN_PLAYGROUND_MAX_TRAININGS": "3", "CNN_PLAYGROUND_WORKER_MAX_RUNS": "5"}
    )
    assert (settings.runner, settings.concurrency, settings.worker_max_runs) == ("process", 3, 5)
    assert Settings.from_env({}).runner == "process"  # the app's default; tests choose threads
    with pytest.raises(SettingsError, match="must be 'thread' or 'process' or 'ray'"):
        Settings.from_env({"CNN_PLAYGROUND_RUNNER": "gpu"})
    with pytest.raises(SettingsError, match="whole number"):
        Settings.from_env({"CNN_PLAYGROUND_MAX_TRAININGS": "many"})


@pytest.fixture
def paced_manager(tmp_path):
    """A run manager on worker processes (started when called) whose trainer trains nothing, a batch every 20 ms
    (tests/training/paced_trainer.py): for what the runner does around a run, with no TensorFlow import in each
    worker started."""
    managers = []

    def make(**options) -> RunManager:
        store = RunStore(tmp_path / "store")
        managers.append(RunManager(store, runner="process", max_concurrent=1, trainer=PacedTrainer(), **options))
        return managers[-1]

    yield make
    for manager in managers:
        manager.runner.shutdown()


@pytest.fixture
def keras_manager(tmp_path):
    """A run manager on one worker process that really trains (the Keras trainer, without its warm-up)."""
    manager = RunManager(RunStore(tmp_path / "store"), runner="process", max_concurrent=1, trainer=COLD)
    yield manager
    manager.runner.shutdown()


def test_process_runner_streams_metrics_pauses_and_finishes(keras_manager):
    manager = keras_manager
    run = manager.start(SPEC, "shapes", Hyperparameters(epochs=2, batch_size=16, limit_train=400, limit_test=50))
    wait_for(lambda: len(run.batch_history()) >= 2)
    assert run.active  # metrics arrive while the worker process trains
    assert manager.pause(run.id, "")
    wait_for(lambda: run.status == Status.PAUSED)
    held = len(run.batch_history())
    assert not run.wait(0.5)  # paused a moment: nothing ends
    assert len(run.batch_history()) <= held + 1
    manager.resume(run.id, "")
    assert run.wait(90)
    assert run.status == Status.FINISHED
    assert [e["epoch"] for e in run.epoch_history()] == [1, 2]
    assert run.results["confusion_matrix"] and 0 <= run.test_accuracy <= 1
    stored = manager.store.load(run.id)  # the worker saved it; the server sees the same record
    assert stored.status == Status.FINISHED and len(stored.epoch_history()) == 2
    assert manager.store.model_path(run.id).exists()


def test_process_runner_stop_and_recycling(paced_manager):
    manager = paced_manager(max_runs_per_worker=2)
    before = manager.runner.worker_pids()
    first = manager.start(SPEC, "shapes", QUICK)
    assert first.wait(120) and first.status == Status.FINISHED
    run = manager.start(SPEC, "shapes", LONG)
    wait_for(lambda: len(run.batch_history()) >= 3)
    manager.stop(run.id, "")
    assert run.wait(60) and run.status == Status.STOPPED
    # This worker has now trained its 2 runs: the next run gets a fresh process.
    after = manager.start(SPEC, "shapes", QUICK)
    assert after.wait(120) and after.status == Status.FINISHED
    assert manager.runner.worker_pids() != before


def test_a_crashed_worker_fails_the_run_plainly_and_the_next_run_works(paced_manager):
    manager = paced_manager()
    run = manager.start(SPEC, "shapes", LONG)
    wait_for(lambda: len(run.batch_history()) >= 2)
    os.kill(manager.runner.worker_pids()[0], signal.SIGKILL)  # as an out-of-memory kill would
    assert run.wait(30)
    assert run.status == Status.FAILED
    assert "stopped unexpectedly" in run.message and "memory" in run.message
    assert manager.store.load(run.id).status == Status.FAILED
    assert len(manager.store.load(run.id).batch_history()) >= 2  # what it recorded is kept
    again = manager.start(SPEC, "shapes", QUICK)
    assert again.wait(120) and again.status == Status.FINISHED


def test_workers_do_not_import_the_parents_main_script(tmp_path, monkeypatch, paced_manager):
    # Under `streamlit run`, __main__ is the app script: a worker that imported it would start an app.
    script = tmp_path / "app_script.py"
    script.write_text("raise SystemExit('the app script was imported in a worker process')\n")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    manager = paced_manager()  # its worker starts now, with this __main__
    run = manager.start(SPEC, "shapes", QUICK)
    assert run.wait(120)
    assert run.status == Status.FINISHED, run.message


def test_a_worker_whose_server_died_stops_without_recording_a_failure():
    parent, child = multiprocessing.Pipe()
    run = Run(SPEC, "shapes", QUICK)
    run.on_event = pipe_sender(child)  # the worker's copy of a run sends every change to its server
    parent.close()
    with pytest.raises(ServerGone):
        run.record_batch(0, 0, 1.0, 0.5)
