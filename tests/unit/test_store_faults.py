"""The run store under faults: a damaged database, a read-only home, a full disk, a damaged model file.

Each fault is real where the machine allows it (a small tmpfs, filled up or remounted read-only: we run
as root here and in CI, whom file permissions never stop); a simulation covers the rest everywhere.
What a user would notice: a plain message that names no server path, nothing deleted, no phantom run.
"""

import errno
import os
import sqlite3
import zipfile

import faults
import pytest
from helpers import FAKE_RESULTS, FakeTrainer, finished_run, wait_for

from core import cli
from core.classroom.challenges import ChallengeRejected, create_challenge
from core.disk import DISK_FAILING, DISK_FULL, READ_ONLY, disk_problem, without_paths
from core.runs.challenges import ChallengeStore
from core.runs.manager import RunManager, RunRejected
from core.runs.record import Ending, Run, Status
from core.runs.store import RunStore, StoreDamaged, StoreError, StoreReadOnly
from core.training.hyperparams import Hyperparameters

# A model of a few thousand parameters: its file needs far less room than the test disks hold.
TINY = {
    "input_shape": [28, 28, 1],
    "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}],
}
QUICK = Hyperparameters(epochs=1, batch_size=16, limit_train=40, limit_test=10)
needs_mount = pytest.mark.skipif(not faults.can_mount(), reason="this machine does not allow mounting a tmpfs")
DAMAGES = {
    "cut in half": faults.truncate_half,
    "overwritten": faults.overwrite_with_garbage,
    "pages overwritten": lambda path: faults.overwrite_with_garbage(path, keep_header=True),
}


def stored_runs(home, count=3) -> list[Run]:
    store = RunStore(home)
    runs = [finished_run(name=f"run {i}") for i in range(count)]
    for run in runs:
        store.save(run)
    store.close()
    return runs


def with_challenges(home) -> None:
    store = RunStore(home)
    ChallengeStore(store)  # its table
    store.close()


def assert_plain(text: str, *folders) -> None:
    assert "Traceback" not in text and "sqlite3." not in text
    for folder in folders:
        assert str(folder) not in text


@pytest.fixture
def disk(tmp_path):
    """A real 4 MB disk (tmpfs) for the test, unmounted afterwards."""
    if not faults.can_mount():
        pytest.skip("this machine does not allow mounting a tmpfs")
    with faults.small_disk(tmp_path / "disk") as folder:
        yield folder


# --- a damaged database ---------------------------------------------------------------------------


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_database_is_named_plainly_and_nothing_is_changed(tmp_path, damage):
    stored_runs(tmp_path)
    model = tmp_path / "models" / "0123456789ab.keras"
    model.write_bytes(b"a trained model")
    DAMAGES[damage](tmp_path / "runs.sqlite3")
    before = (tmp_path / "runs.sqlite3").read_bytes()

    with pytest.raises(StoreDamaged) as raised:
        RunStore(tmp_path)
    operator, learner = str(raised.value), raised.value.public
    assert "runs.sqlite3" in operator and "CNN_PLAYGROUND_HOME" in operator
    assert "restore" in operator.lower() and "move it aside" in operator
    assert "damaged" in learner and "operator" in learner and "runs.sqlite3" not in learner
    assert_plain(operator, tmp_path)
    assert_plain(learner, tmp_path)
    assert (tmp_path / "runs.sqlite3").read_bytes() == before  # nothing deleted, nothing "repaired"
    assert model.read_bytes() == b"a trained model"


def test_moving_the_damaged_database_aside_starts_a_new_store(tmp_path):
    stored_runs(tmp_path)
    faults.overwrite_with_garbage(tmp_path / "runs.sqlite3")
    with pytest.raises(StoreDamaged):
        RunStore(tmp_path)
    (tmp_path / "runs.sqlite3").rename(tmp_path / "runs.sqlite3.damaged")
    assert RunStore(tmp_path).list() == []


def test_the_cli_says_the_store_is_damaged_and_exits_2(tmp_path, capsys):
    stored_runs(tmp_path)
    faults.truncate_half(tmp_path / "runs.sqlite3")
    assert cli.main(["runs", "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: The run store runs.sqlite3") and "move it aside" in err
    assert "Traceback" not in err and "DatabaseError" not in err


def test_a_store_damaged_while_open_gives_plain_errors_to_runs_and_challenges(tmp_path):
    stored_runs(tmp_path)
    store = RunStore(tmp_path)
    challenges = ChallengeStore(store)
    store.close()
    faults.overwrite_with_garbage(tmp_path / "runs.sqlite3")
    for wal in tmp_path.glob("runs.sqlite3-*"):
        wal.unlink()
    for action in (store.list, challenges.list, lambda: challenges.get("ABCD")):
        with pytest.raises(StoreDamaged) as raised:
            action()
        assert_plain(raised.value.public, tmp_path)


# --- a read-only home -----------------------------------------------------------------------------


@pytest.fixture
def read_only_home(tmp_path):
    """A home holding three saved runs and one challenge, then made read-only: a real read-only disk where
    mounting is allowed; else, for a user whom permissions stop (not root), folders and files without
    write permission."""
    if faults.can_mount():
        with faults.small_disk(tmp_path / "disk") as home:
            runs = stored_runs(home)
            with_challenges(home)
            faults.remount(home, "ro")
            yield home, runs
        return
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions and this machine does not allow a read-only mount")
    home = tmp_path / "home"
    runs = stored_runs(home)
    with_challenges(home)
    paths = [home, home / "models", *home.iterdir()]
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield home, runs
    finally:
        for path in paths:
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_a_read_only_store_lists_old_runs_and_refuses_writes(read_only_home):
    home, runs = read_only_home
    store = RunStore(home)
    assert store.read_only
    assert sorted(r.id for r in store.list()) == sorted(r.id for r in runs)
    assert store.load(runs[0].id).test_accuracy == 0.75
    with pytest.raises(StoreReadOnly) as raised:
        store.save(finished_run())
    assert raised.value.public == READ_ONLY
    with pytest.raises(StoreReadOnly):
        store.delete(runs[0].id)
    assert len(store.list()) == 3


def test_a_read_only_store_refuses_training_plainly_and_shows_why_on_every_page(read_only_home):
    home, runs = read_only_home
    manager = RunManager(RunStore(home), max_concurrent=1, trainer=FakeTrainer())
    assert "read-only" in manager.notice
    assert len(manager.list(runs[0].owner)) == 3
    assert READ_ONLY in manager.check(TINY, "shapes", QUICK)
    with pytest.raises(RunRejected) as raised:
        manager.start(TINY, "shapes", QUICK, owner="alice")
    assert raised.value.problems == [READ_ONLY]
    with pytest.raises(RunRejected) as raised:
        manager.continue_run(runs[0].id, 1, runs[0].owner)
    with pytest.raises(RunRejected) as raised:
        manager.delete(runs[0].id, runs[0].owner)
    assert raised.value.problems == [READ_ONLY]
    assert len(manager.list(runs[0].owner)) == 3


def test_a_read_only_store_still_lists_challenges_and_refuses_new_ones_plainly(read_only_home):
    home, _ = read_only_home
    challenges = ChallengeStore(RunStore(home))
    assert challenges.list() == []
    with pytest.raises(ChallengeRejected) as raised:
        create_challenge(
            challenges,
            teacher="t",
            title="Shapes",
            dataset="shapes",
            preset="blank",
            max_params=20_000,
            max_epochs=2,
            hyperparameters=Hyperparameters(epochs=1),
        )
    assert raised.value.problems == [READ_ONLY]


def test_the_cli_lists_a_read_only_store_and_refuses_to_train_with_exit_2(read_only_home, tmp_path, capsys):
    home, runs = read_only_home
    assert cli.main(["runs", "--home", str(home)]) == 0
    listing = capsys.readouterr().out
    assert all(run.id in listing for run in runs)
    out = tmp_path / "result.json"
    code = cli.main(["train", "--preset", "model1", "--dataset", "shapes", "--home", str(home), "--out", str(out)])
    assert code == 2 and not out.exists()
    assert READ_ONLY in capsys.readouterr().err


@needs_mount
def test_a_read_only_disk_without_any_store_says_so(tmp_path):
    with faults.small_disk(tmp_path / "disk") as home:
        faults.remount(home, "ro")
        with pytest.raises(StoreError) as raised:
            RunStore(home)
        assert "read-only" in raised.value.public and "runs.sqlite3" in str(raised.value)


# --- a full disk ------------------------------------------------------------------------------------


def test_a_full_disk_refuses_a_run_before_it_starts_and_leaves_no_phantom(disk):
    earlier = stored_runs(disk, 2)
    manager = RunManager(RunStore(disk), max_concurrent=1, trainer=FakeTrainer())
    filler = faults.fill(disk)
    for _ in range(3):  # more than the two runs one may have waiting
        with pytest.raises(RunRejected) as raised:
            manager.start(TINY, "shapes", QUICK, owner="bob")
        [problem] = raised.value.problems
        assert problem.startswith("The server's disk is full (or nearly): saving this run needs about 0.")
        assert "and 0.0 MB is free" in problem
    assert problem in manager.check(TINY, "shapes", QUICK)
    assert manager.list("bob") == []
    filler.unlink()
    run = wait_for(manager.start(TINY, "shapes", QUICK, owner="bob"))
    assert run.status == Status.FINISHED and manager.store.load(run.id).status == Status.FINISHED
    assert [r.status for r in manager.store.list(earlier[0].owner)] == [Status.FINISHED] * 2


def test_a_run_the_full_disk_cannot_save_is_never_admitted(disk, monkeypatch):
    manager = RunManager(RunStore(disk), max_concurrent=1, trainer=FakeTrainer())
    monkeypatch.setattr(manager.store, "room_problem", lambda model_bytes: None)  # as if the check passed
    filler = faults.fill(disk)
    for _ in range(3):
        with pytest.raises(RunRejected) as raised:
            manager.start(TINY, "shapes", QUICK, owner="alice")
        assert raised.value.problems == [DISK_FULL]  # SQLite's own "database or disk is full", in words
    assert manager.list("alice") == []
    filler.unlink()
    assert wait_for(manager.start(TINY, "shapes", QUICK, owner="alice")).status == Status.FINISHED


class FillingTrainer(FakeTrainer):
    """Fills the disk at ``folder`` after the first batch: the epoch's save then finds it full."""

    def __init__(self, folder):
        super().__init__()
        self.folder = folder
        self.filler = None

    def train(self, run, store, *, continue_training=False):
        run.begin(self.batches_per_epoch)
        for epoch in range(run.hyperparameters.epochs):
            for batch in range(self.batches_per_epoch):
                run.record_batch(epoch, batch, loss=1.0, accuracy=0.5)
                if self.filler is None:
                    self.filler = faults.fill(self.folder)
                if run.stop_requested:
                    return Ending(Status.STOPPED, "Stopped by you.", FAKE_RESULTS)
            run.record_epoch({"epoch": epoch + 1, "loss": 0.5, "accuracy": 0.5, "seconds": 0.001})
        return Ending(Status.FINISHED, "", FAKE_RESULTS)


def test_a_disk_that_fills_mid_training_fails_the_run_plainly_and_it_can_be_deleted(disk):
    earlier = stored_runs(disk, 1)[0]
    trainer = FillingTrainer(disk)
    manager = RunManager(RunStore(disk), max_concurrent=1, trainer=trainer)
    run = wait_for(manager.start(TINY, "shapes", Hyperparameters(epochs=3, batch_size=16), owner="bob"))
    assert run.status == Status.FAILED and run.message == DISK_FULL
    assert run.epoch == 1  # stopped at the first save that failed (the first epoch's), not trained on
    [listed] = manager.list("bob")
    assert listed.status == Status.FAILED and manager.get(run.id, "bob").message == DISK_FULL
    trainer.filler.unlink()
    assert manager.delete(run.id, "bob")
    assert manager.list("bob") == [] and manager.store.load(run.id) is None
    assert manager.store.load(earlier.id).status == Status.FINISHED


def test_after_a_restart_a_run_whose_end_was_never_saved_is_not_training(disk):
    trainer = FillingTrainer(disk)
    store = RunStore(disk)
    manager = RunManager(store, max_concurrent=1, trainer=trainer)
    run = wait_for(manager.start(TINY, "shapes", Hyperparameters(epochs=3, batch_size=16), owner="bob"))
    assert store.load(run.id).status in Status.ACTIVE  # the disk could not take even its end
    trainer.filler.unlink()
    restarted = RunManager(RunStore(disk), max_concurrent=1, trainer=FakeTrainer())
    [listed] = restarted.list("bob")
    assert listed.status == Status.INTERRUPTED
    assert restarted.delete(run.id, "bob") and restarted.list("bob") == []


class FullDiskStore(RunStore):
    """A simulated full disk, for machines that cannot mount one: saves fail once ``full`` is set."""

    full = False

    def save(self, run, *, with_batches=True):
        if self.full:
            raise StoreError(DISK_FULL)
        super().save(run, with_batches=with_batches)


def test_simulated_a_run_is_admitted_only_once_saved(tmp_path):
    store = FullDiskStore(tmp_path)
    manager = RunManager(store, max_concurrent=1, trainer=FakeTrainer(), max_waiting_per_user=1)
    store.full = True
    for _ in range(3):
        with pytest.raises(RunRejected) as raised:
            manager.start(TINY, "shapes", QUICK, owner="alice")
        assert raised.value.problems == [DISK_FULL]
    assert manager.list("alice") == []
    store.full = False
    assert wait_for(manager.start(TINY, "shapes", QUICK, owner="alice")).status == Status.FINISHED


def test_simulated_a_run_whose_end_cannot_be_saved_ends_failed_and_is_saved_once_there_is_room(tmp_path):
    store = FullDiskStore(tmp_path)
    trainer = FakeTrainer(open=False)
    manager = RunManager(store, max_concurrent=1, trainer=trainer)
    run = manager.start(TINY, "shapes", Hyperparameters(epochs=2, batch_size=16), owner="alice")
    wait_for(lambda: run.status == Status.RUNNING)
    store.full = True
    trainer.gate.set()
    wait_for(run)
    assert run.status == Status.FAILED and run.message == DISK_FULL
    assert manager.list("alice")[0].status == Status.FAILED
    store.full = False
    second = wait_for(manager.start(TINY, "shapes", QUICK, owner="alice"))  # the disk has room again
    assert second.status == Status.FINISHED
    assert store.load(run.id).status == Status.FAILED and store.load(run.id).message == DISK_FULL


def test_a_model_file_is_replaced_only_once_written_completely(tmp_path):
    store = RunStore(tmp_path)
    path = store.model_path("0123456789ab")
    path.write_bytes(b"the good model")
    with pytest.raises(OSError):
        with store.replacing(path) as partial:
            partial.write_bytes(b"half a mod")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert path.read_bytes() == b"the good model"
    assert sorted(p.name for p in store.models_dir.iterdir()) == ["0123456789ab.keras"]


# --- a damaged model file -------------------------------------------------------------------------


def keras_like_zip(path, config=b'{"class_name": "Sequential"}', weights=True) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", '{"keras_version": "3"}')
        if config is not None:
            archive.writestr("config.json", config)
        if weights:
            archive.writestr("model.weights.h5", b"\x89HDF weights" * 100)


def cut_zip(path) -> None:
    keras_like_zip(path)
    faults.truncate_half(path)


def corrupt_zip_member(path) -> None:
    keras_like_zip(path)
    data = bytearray(path.read_bytes())
    at = data.index(b"\x89HDF") + 20
    data[at : at + 4] = b"XXXX"  # the CRC no longer matches
    path.write_bytes(bytes(data))


MODEL_DAMAGES = {
    "not a zip": lambda path: path.write_bytes(b"<html>not a model</html>"),
    "cut short": cut_zip,
    "a part overwritten": corrupt_zip_member,
    "no config": lambda path: keras_like_zip(path, config=None),
    "config not JSON": lambda path: keras_like_zip(path, config=b"{nope"),
    "no weights": lambda path: keras_like_zip(path, weights=False),
}


@pytest.mark.parametrize("damage", list(MODEL_DAMAGES))
def test_train_more_on_a_damaged_model_is_refused_and_the_run_stays_finished(manager, damage):
    run = wait_for(manager.start(TINY, "shapes", QUICK, owner="alice"))
    MODEL_DAMAGES[damage](manager.store.model_path(run.id))
    with pytest.raises(RunRejected) as raised:
        manager.continue_run(run.id, 1, "alice")
    [problem] = raised.value.problems
    assert "damaged" in problem and "kept" in problem
    assert_plain(problem, manager.store.home)
    stored = manager.store.load(run.id)
    assert stored.status == Status.FINISHED and stored.results == FAKE_RESULTS and stored.epoch == 1


def test_train_more_on_an_intact_model_file_is_accepted(manager):
    run = wait_for(manager.start(TINY, "shapes", QUICK, owner="alice"))
    keras_like_zip(manager.store.model_path(run.id))
    more = wait_for(manager.continue_run(run.id, 1, "alice"))
    assert more.status == Status.FINISHED and more.epoch == 2


def test_train_more_needs_room_for_the_model_it_will_save(manager, monkeypatch):
    run = wait_for(manager.start(TINY, "shapes", QUICK, owner="alice"))
    keras_like_zip(manager.store.model_path(run.id))
    monkeypatch.setattr("core.disk.shutil.disk_usage", lambda folder: _Usage(free=0))
    with pytest.raises(RunRejected) as raised:
        manager.continue_run(run.id, 1, "alice")
    assert raised.value.problems[0].startswith("The server's disk is full")
    assert manager.store.load(run.id).status == Status.FINISHED


class _Usage:
    def __init__(self, free):
        self.total, self.used, self.free = 10**9, 10**9 - free, free


# --- failure messages: disk faults in words, no server paths ---------------------------------------


def test_disk_faults_read_the_same_however_they_are_raised():
    full = OSError(errno.ENOSPC, "No space left on device", "/srv/cnn/models/ab.keras")
    assert disk_problem(full) == DISK_FULL
    wrapped = ValueError("Could not save the model")
    wrapped.__cause__ = full
    assert disk_problem(wrapped) == DISK_FULL
    assert disk_problem(RuntimeError("Unable to write data (file write failed: errno = 28)")) == DISK_FULL
    assert disk_problem(OSError(errno.EROFS, "Read-only file system")) == READ_ONLY
    assert disk_problem(sqlite3.OperationalError("disk I/O error")) == DISK_FAILING
    assert disk_problem(ValueError("the loss became NaN")) is None


def test_paths_leave_messages():
    text = "Training failed: Unable to open file '/srv/cnn/home/models/0123456789ab.keras' (truncated)"
    assert without_paths(text) == "Training failed: Unable to open file 'a file on the server' (truncated)"
    assert without_paths("accuracy 1/2 and/or C:\\data\\x.keras") == "accuracy 1/2 and/or a file on the server"


class PathTrainer(FakeTrainer):
    def train(self, run, store, *, continue_training=False):
        return Ending(Status.FAILED, f"Training failed: cannot read {store.home}/models/{run.id}.keras")


def test_a_trainers_failure_reaches_the_user_without_the_servers_paths(tmp_path):
    manager = RunManager(RunStore(tmp_path), max_concurrent=1, trainer=PathTrainer())
    run = wait_for(manager.start(TINY, "shapes", QUICK, owner="alice"))
    assert run.message == "Training failed: cannot read a file on the server"
    assert manager.store.load(run.id).message == run.message
