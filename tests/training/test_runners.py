"""Training in worker processes (the process runner). The queue and controls: tests/unit/test_manager.py."""

import multiprocessing
import os
import signal
import sys
import types

import pytest
from helpers import wait_for

from core.config import Settings, SettingsError
from core.runs.manager import RunManager
from core.runs.process_runner import ServerGone, pipe_sender
from core.runs.record import Run, Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
QUICK = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=50)
LONG = Hyperparameters(epochs=30, batch_size=16, limit_train=600, limit_test=50)


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


@pytest.fixture(scope="module")
def process_manager(tmp_path_factory):
    manager = RunManager(
        RunStore(tmp_path_factory.mktemp("proc")), runner="process", max_concurrent=1, max_runs_per_worker=2
    )
    yield manager
    manager.runner.shutdown()


def test_process_runner_streams_metrics_pauses_and_finishes(process_manager):
    manager = process_manager
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


def test_process_runner_stop_and_recycling(process_manager):
    manager = process_manager
    before = manager.runner.worker_pids()
    run = manager.start(SPEC, "shapes", LONG)
    wait_for(lambda: len(run.batch_history()) >= 3)
    manager.stop(run.id, "")
    assert run.wait(60) and run.status == Status.STOPPED
    # This worker has now trained its 2 runs: the next run gets a fresh process.
    after = manager.start(SPEC, "shapes", QUICK)
    assert after.wait(120) and after.status == Status.FINISHED
    assert manager.runner.worker_pids() != before


def test_a_crashed_worker_fails_the_run_plainly_and_the_next_run_works(process_manager):
    manager = process_manager
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


def test_workers_do_not_import_the_parents_main_script(tmp_path, monkeypatch):
    # Under `streamlit run`, __main__ is the app script: a worker that imported it would start an app.
    script = tmp_path / "app_script.py"
    script.write_text("raise SystemExit('the app script was imported in a worker process')\n")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    manager = RunManager(RunStore(tmp_path / "store"), runner="process", max_concurrent=1)
    try:
        run = manager.start(SPEC, "shapes", QUICK)
        assert run.wait(120)
        assert run.status == Status.FINISHED, run.message
    finally:
        manager.runner.shutdown()


def test_a_worker_whose_server_died_stops_without_recording_a_failure():
    parent, child = multiprocessing.Pipe()
    run = Run(SPEC, "shapes", QUICK)
    run.on_event = pipe_sender(child)  # the worker's copy of a run sends every change to its server
    parent.close()
    with pytest.raises(ServerGone):
        run.record_batch(0, 0, 1.0, 0.5)
