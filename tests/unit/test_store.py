"""The run store: records survive reopening, deleting removes files, dead runs become interrupted."""

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing

import faults
import pytest
from helpers import finished_run

from core.paths import default_home
from core.runs.manager import RunManager
from core.runs.record import Run, Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS
from core.training.tasks import TASKS, task_of_record

SPEC = PRESETS["model1"].spec(num_classes=5)


def test_default_home_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(tmp_path / "elsewhere"))
    assert default_home() == tmp_path / "elsewhere"
    store = RunStore()
    assert store.path == tmp_path / "elsewhere" / "runs.sqlite3" and store.path.exists()
    assert store.models_dir.is_dir()


def test_store_survives_reopening(tmp_path):
    run = finished_run()
    RunStore(tmp_path).save(run)

    reopened = RunStore(tmp_path)  # as after a restart of the process
    listed = reopened.list()
    assert [r.id for r in listed] == [run.id]
    assert listed[0].status == Status.FINISHED and listed[0].test_accuracy == 0.75
    assert listed[0].epoch_history() == run.epoch_history()
    assert listed[0].batch_history() == []  # left out of listings for speed

    loaded = reopened.load(run.id)
    assert loaded.spec == SPEC and loaded.dataset == "shapes"
    assert loaded.hyperparameters == run.hyperparameters
    assert (loaded.owner, loaded.name, loaded.params) == ("alice", "first try", 107_973)
    assert loaded.created == pytest.approx(run.created)
    assert loaded.epoch_history() == run.epoch_history()
    assert loaded.batch_history() == run.batch_history() and len(loaded.batch_history()) == 6
    assert loaded.results == run.results
    assert loaded.progress().fraction == 1
    assert loaded.wait(0)  # an ended run never blocks a reader
    assert reopened.load("no-such-run") is None


def test_list_is_newest_first_and_filters_by_owner(tmp_path):
    store = RunStore(tmp_path)
    old, new, other = finished_run(created=100.0), finished_run(created=200.0), finished_run(owner="bob", created=150.0)
    for run in (old, new, other):
        store.save(run)
    assert [r.id for r in store.list()] == [new.id, other.id, old.id]
    assert [r.id for r in store.list("alice")] == [new.id, old.id]
    assert [r.id for r in store.list("carol")] == []


def test_saving_again_updates_and_can_keep_the_batches(tmp_path):
    store = RunStore(tmp_path)
    run = finished_run()
    store.save(run)
    run.record_epoch({"epoch": 3, "loss": 0.9})
    store.save(run, with_batches=False)
    loaded = store.load(run.id)
    assert len(loaded.epoch_history()) == 3
    assert len(loaded.batch_history()) == 6  # as saved before
    assert len(store.list()) == 1


def batch_rows(store: RunStore, run_id: str) -> list[tuple]:
    with closing(sqlite3.connect(store.path)) as db:
        return db.execute("SELECT n, metrics FROM batches WHERE run_id = ? ORDER BY n", (run_id,)).fetchall()


def test_saving_after_an_epoch_appends_its_batches_and_leaves_the_saved_ones_as_they_were(tmp_path):
    store = RunStore(tmp_path)
    run = finished_run(epochs=2, batches_per_epoch=3)
    store.save(run)
    saved = batch_rows(store, run.id)
    assert [n for n, _ in saved] == list(range(6))
    run.reopen(1)  # "train more": a third epoch extends the history
    run.begin(3)
    for batch in range(3):
        run.record_batch(2, batch, loss=0.4, accuracy=0.9)
    run.record_epoch({"epoch": 3, "loss": 0.4})
    store.save(run)
    store.save(run)  # saved again with nothing new: nothing is written twice
    rows = batch_rows(store, run.id)
    assert rows[:6] == saved and [n for n, _ in rows] == list(range(9))
    assert store.load(run.id).batch_history() == run.batch_history()
    assert [b["step"] for b in store.load(run.id).batch_history()] == list(range(1, 10))
    store.delete(run.id)
    assert batch_rows(store, run.id) == []


# The run store as it was before batches had a table of their own: each run's batch history one JSON list.
OLD_SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, created REAL NOT NULL, status TEXT NOT NULL, pid INTEGER NOT NULL,
    summary TEXT NOT NULL, epochs TEXT NOT NULL, batches TEXT NOT NULL
);
CREATE INDEX runs_owner ON runs (owner, created);
"""


def save_the_old_way(home, runs: list[Run]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(home / "runs.sqlite3")) as db, db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(OLD_SCHEMA)
        for run in runs:
            summary = run.summary_record()
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id,
                    run.owner,
                    run.created,
                    summary["status"],
                    0,
                    json.dumps(summary),
                    json.dumps(run.epoch_history()),
                    json.dumps(run.batch_history()),
                ),
            )


def test_a_store_saved_before_batches_had_their_own_table_opens_with_every_run_and_its_history(tmp_path):
    runs = [finished_run(name="old", created=100.0), finished_run(name="older", created=50.0, epochs=3)]
    save_the_old_way(tmp_path, runs)
    store = RunStore(tmp_path)
    assert [r.id for r in store.list()] == [r.id for r in runs]
    for run in runs:
        loaded = store.load(run.id)
        assert loaded.summary_record() == run.summary_record()
        assert loaded.batch_history() == run.batch_history() and loaded.epoch_history() == run.epoch_history()
    # Opening it moved the lists into the table, once: opened again, the history is the same.
    assert len(batch_rows(store, runs[1].id)) == 9
    assert [len(batch_rows(RunStore(tmp_path), r.id)) for r in runs] == [6, 9]
    assert RunStore(tmp_path).load(runs[1].id).batch_history() == runs[1].batch_history()
    # An old run trained on goes on from its history.
    run = store.load(runs[0].id)
    run.reopen(1)
    run.begin(3)
    run.record_batch(2, 0, loss=0.3, accuracy=0.9)
    store.save(run)
    assert [b["step"] for b in store.load(run.id).batch_history()] == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.skipif(not faults.can_mount(), reason="this machine does not allow mounting a tmpfs")
def test_a_read_only_store_saved_before_batches_had_their_own_table_shows_its_runs_and_their_history(tmp_path):
    runs = [finished_run(name="old"), finished_run(name="older", epochs=3)]
    with faults.small_disk(tmp_path / "disk") as home:
        save_the_old_way(home, runs)
        faults.remount(home, "ro")  # nothing can be moved: the runs are read as they were saved
        store = RunStore(home)
        assert store.read_only
        assert sorted(r.id for r in store.list()) == sorted(r.id for r in runs)
        for run in runs:
            loaded = store.load(run.id)
            assert loaded.batch_history() == run.batch_history() and loaded.epoch_history() == run.epoch_history()
            assert loaded.test_accuracy == 0.75


def test_delete_removes_the_row_and_the_model_files(tmp_path):
    store = RunStore(tmp_path)
    run, kept = finished_run(), finished_run()
    store.save(run)
    store.save(kept)
    for path in (store.model_path(run.id), store.predictions_path(run.id), store.model_path(kept.id)):
        path.write_bytes(b"model")
    assert store.model_path(run.id).suffix == ".keras"
    assert store.delete(run.id) is True
    assert store.load(run.id) is None
    assert not store.model_path(run.id).exists() and not store.predictions_path(run.id).exists()
    assert [r.id for r in RunStore(tmp_path).list()] == [kept.id]
    assert store.model_path(kept.id).exists()
    assert store.delete(run.id) is False


def _save_running_run_in_a_process_that_exits(home) -> str:
    """A real other process records a run mid-training, then dies without finishing it."""
    code = textwrap.dedent(f"""
        from core.training.hyperparams import Hyperparameters
        from core.runs.record import Run
        from core.runs.store import RunStore
        run = Run({{"input_shape": [28, 28, 1], "layers": []}}, "shapes", Hyperparameters(epochs=5), owner="bob")
        run.begin(batches_per_epoch=4)
        for b in range(4):
            run.record_batch(0, b, loss=2.0 - b / 10, accuracy=0.2)
        run.record_epoch({{"epoch": 1, "loss": 1.7, "accuracy": 0.3, "val_loss": 1.8, "val_accuracy": 0.25,
                          "seconds": 1.0}})
        run.record_batch(1, 0, loss=1.6, accuracy=0.4)
        RunStore({str(home)!r}).save(run)
        print(run.id)
    """)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": root},
        check=True,
    )
    return done.stdout.strip()


def test_run_left_running_by_a_dead_process_is_interrupted_with_history_kept(tmp_path):
    run_id = _save_running_run_in_a_process_that_exits(tmp_path)
    assert RunStore(tmp_path).load(run_id).status == Status.RUNNING  # as the dead process left it

    manager = RunManager(RunStore(tmp_path), max_concurrent=1)  # a restarted server
    run = manager.get(run_id, "bob")
    assert run.status == Status.INTERRUPTED
    assert run.message == ("The server stopped while this run was training; the history up to that point is kept.")
    assert not run.active and run.ended is not None
    assert [e["epoch"] for e in run.epoch_history()] == [1]
    assert run.epoch_history()[0]["val_accuracy"] == 0.25
    assert len(run.batch_history()) == 5
    assert [r.status for r in manager.list("bob")] == [Status.INTERRUPTED]
    assert manager.delete(run_id, "bob") is True  # interrupted runs can be cleaned up


def test_run_of_a_live_process_is_left_alone(tmp_path):
    store = RunStore(tmp_path)
    run = Run(SPEC, "shapes", Hyperparameters())
    run.begin(10)
    store.save(run)
    queued = Run(SPEC, "shapes", Hyperparameters())
    store.save(queued)
    with closing(sqlite3.connect(store.path)) as db, db:  # as if another, still running, server owned them
        db.execute("UPDATE runs SET pid = ?", (os.getppid(),))
    assert store.mark_interrupted() == 0
    assert store.load(run.id).status == Status.RUNNING
    assert store.load(queued.id).status == Status.QUEUED
    # ... until that server is gone
    with closing(sqlite3.connect(store.path)) as db, db:
        db.execute("UPDATE runs SET pid = ?", (2**22 + 12345,))  # above any pid_max: no such process
    assert store.mark_interrupted() == 2
    assert {store.load(run.id).status, store.load(queued.id).status} == {Status.INTERRUPTED}


def test_a_run_knows_its_task_and_runs_stored_before_it_was_recorded_still_do(tmp_path):
    store = RunStore(tmp_path)
    regression = finished_run()
    regression.task = TASKS["regression"]
    regression.results = {"task": "regression", "test_mae": 12.345, "test_loss": 3.0}
    store.save(regression)
    assert store.load(regression.id).task.is_regression
    assert store.load(regression.id).headline() == "test MAE 12.35"
    classification = finished_run()
    store.save(classification)
    assert store.load(classification.id).headline() == "test accuracy 75.0 %"
    assert store.load(classification.id).headline(decimals=2, bold=True) == "test accuracy **75.00 %**"
    assert classification.task.metric_title == "Accuracy" and regression.task.metric_title == "MAE"

    # Records saved before runs had a "task": told by their results, or else by their data set.
    def legacy(record: dict, **changes) -> dict:
        record = {**record, **changes}
        del record["task"]
        return record

    old_regression = legacy(regression.summary_record())
    assert task_of_record(old_regression).is_regression
    assert task_of_record(legacy(regression.summary_record(), results={"test_mae": 1.0})).is_regression
    assert not task_of_record(legacy(classification.summary_record())).is_regression
    assert not task_of_record(legacy(classification.summary_record(), results=None)).is_regression
