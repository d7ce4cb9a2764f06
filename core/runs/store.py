"""The run store: an embedded SQLite database of runs, with each trained model saved beside it."""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from core.disk import DISK_FAILING, READ_ONLY, disk_problem, free_space_problem
from core.paths import default_home
from core.runs.record import Kind, Run, Status

log = logging.getLogger(__name__)

DATABASE_NAME = "runs.sqlite3"
# Where the operator finds the database, in words: never a server path (the CLI and the server's log say it).
_WHERE = f"{DATABASE_NAME} in the app's data folder (CNN_PLAYGROUND_HOME, or the CLI's --home)"
# Run ids are secrets.token_hex(6) (core.runs.record.new_run_id). Anything else (a URL's ?run=../x) is
# never looked up and never becomes a file name: the store's files stay inside its folder.
_RUN_ID = re.compile(r"[0-9a-f]{12}")


def is_run_id(value) -> bool:
    """Whether ``value`` has the form of a run id (12 lowercase hex digits)."""
    return isinstance(value, str) and _RUN_ID.fullmatch(value) is not None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created REAL NOT NULL,
    status TEXT NOT NULL,
    pid INTEGER NOT NULL,
    summary TEXT NOT NULL,
    epochs TEXT NOT NULL,
    batches TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_owner ON runs (owner, created);
CREATE TABLE IF NOT EXISTS batches (
    run_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    PRIMARY KEY (run_id, n)
) WITHOUT ROWID;
"""
# A run's batch history is a row a batch in ``batches`` (n: its place in the history, from 0), appended as the
# run trains: saving a run after an epoch writes only that epoch's batches. Stores from before kept it as one
# JSON list in ``runs.batches``: opening such a store moves those lists into the table (``_move_batches``),
# and a read-only one, which cannot be changed, is read from the lists (``_batch_history``). New runs leave
# the column '[]'.


# Free space a run needs before it starts: this many times its model file (the file, the partial file
# written before it replaces the old one, predictions and TFLite files), and room for its record.
ROOM_FACTOR = 3
RECORD_ROOM = 256 * 1024


def model_file_bytes(params: int) -> int:
    """About how large a model's saved ``.keras`` file is: float32 weights and an optimizer's two moments
    for each (Adam), and the file's config."""
    return 12 * max(int(params or 0), 0) + 64 * 1024


def pid_alive(pid) -> bool:
    """Whether a process of this id runs on this machine (a lock's or a run's holder); not an id: False."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PredictionsUnavailable(Exception):
    """The run has no readable saved test predictions; the message says why in plain words."""


def load_regression_predictions(store: RunStore, run_id: str) -> tuple[np.ndarray, np.ndarray]:
    """A regression run's saved test predictions and true values (the arrays core.training.tasks saves).

    Raises PredictionsUnavailable with a plain message when there are none.
    """
    arrays = store.read_predictions(run_id)
    try:
        return np.asarray(arrays["predictions"], dtype=np.float64), np.asarray(arrays["y_true"], dtype=np.float64)
    except KeyError as error:
        raise PredictionsUnavailable(f"The saved test predictions of this run cannot be read ({error}).") from None


class StoreError(Exception):
    """The run store cannot do what was asked (damaged, read-only, full or failing disk).

    ``str(error)`` is for the server's operator (the CLI, the log): which file and what to do, never a
    path. ``public`` is for a learner's page: what happened, in words that name no file.
    """

    def __init__(self, message: str, public: str | None = None):
        super().__init__(message)
        self.public = public or message


class StoreDamaged(StoreError):
    """The database file is not a readable SQLite database (cut short, overwritten)."""

    def __init__(self, detail: str):
        super().__init__(
            f"The run store {_WHERE} is damaged and cannot be read (SQLite says: {detail}). Nothing was changed "
            f"or deleted. Restore {DATABASE_NAME} from a backup, or move it aside (rename it) to start a new, "
            "empty run store; the trained models beside it stay where they are.",
            "The server's run store is damaged, so no run can be listed, trained or saved. Nothing was deleted. "
            "The server's operator must restore it from a backup, or move it aside to start a new one.",
        )


class StoreReadOnly(StoreError):
    """The store's disk or share does not allow writing: runs can be read, not trained, saved or deleted."""

    def __init__(self):
        super().__init__(f"{READ_ONLY} ({_WHERE} cannot be written.)", READ_ONLY)


def _unwritable(folder: Path) -> bool:
    """Whether ``folder`` (or the nearest folder above it that exists) may not be written by this process.

    ``os.access`` says so for a read-only file system even to root, whom file permissions never stop."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return not os.access(folder, os.W_OK)


def _store_fault(error: sqlite3.Error, home: Path) -> StoreError:
    """The StoreError for what SQLite raised: damaged, read-only, or a full or failing disk."""
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return StoreDamaged(str(error))
    if name.startswith("SQLITE_READONLY") or (name.startswith("SQLITE_CANTOPEN") and _unwritable(home)):
        return StoreReadOnly()
    plain = disk_problem(error, home)
    if plain is None:
        plain = f"The server's run store could not be used just now ({error}). Try again in a moment."
        if name.startswith("SQLITE_CANTOPEN"):
            plain = DISK_FAILING
    return StoreError(f"{plain} ({_WHERE}.)", plain)


def _checked(run_id: str) -> str:
    if not is_run_id(run_id):
        raise ValueError(f"Not a run id: {run_id!r}")
    return run_id


def _has_batches_table(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'batches'").fetchone() is not None


def _move_batches(db: sqlite3.Connection) -> None:
    """Move the batch histories a store from before kept as JSON lists in ``runs.batches`` into the
    ``batches`` table, in the transaction that opens the store (nothing is lost if it fails halfway)."""
    moved = 0
    for run_id, saved_list in db.execute("SELECT id, batches FROM runs WHERE batches != '[]'").fetchall():
        if db.execute("SELECT 1 FROM batches WHERE run_id = ? LIMIT 1", (run_id,)).fetchone() is None:
            rows = json.loads(saved_list)
            db.executemany(
                "INSERT INTO batches (run_id, n, metrics) VALUES (?, ?, ?)",
                [(run_id, n, json.dumps(row)) for n, row in enumerate(rows)],
            )
        db.execute("UPDATE runs SET batches = '[]' WHERE id = ?", (run_id,))
        moved += 1
    if moved:
        log.info("moved the batch histories of %d run(s) into the batches table", moved)


class RunStore:
    """Each call opens its own connection, so any thread may use the store.

    Opening it checks the database (SQLite's ``PRAGMA quick_check``): a damaged one raises StoreDamaged,
    and nothing is changed. On a disk or share that cannot be written the store opens read-only
    (``read_only``): runs are listed and read, and every write raises StoreReadOnly.

    Args:
        home: the store's folder (default: ``default_home()``).
        verify: check the database; off for a worker process that only writes model files into the store
            its server has checked already.
    """

    def __init__(self, home: Path | str | None = None, *, verify: bool = True):
        self.home = Path(home) if home is not None else default_home()
        self.models_dir = self.home / "models"
        self.path = self.home / DATABASE_NAME
        self.read_only = False
        self._read_uri = ""
        self._keeper: sqlite3.Connection | None = None
        try:
            self.models_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            if not _unwritable(self.home):
                plain = disk_problem(error) or DISK_FAILING
                raise StoreError(f"{plain} ({_WHERE}.)", plain) from None
            self.read_only = True
        if not self.read_only:
            try:
                self._open_checked(verify, _SCHEMA)
            except StoreReadOnly:
                self.read_only = True
        if self.read_only:
            self._open_read_only(verify)
        else:
            self._keep_open()

    def _keep_open(self) -> None:
        """Hold one idle connection for the store's lifetime: SQLite then keeps the WAL's files, so that
        on a disk that fills up the runs can still be read (a new reader would have to create them)."""
        try:
            self._keeper = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except sqlite3.Error as error:
            raise _store_fault(error, self.home) from error

    def close(self) -> None:
        """Let go of the database's files (each call of ``connect`` opens its own connection anyway)."""
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None

    def _open_checked(self, verify: bool, schema: str) -> None:
        with self.connect() as db:
            if verify:
                rows = db.execute("PRAGMA quick_check").fetchall()
                if rows != [("ok",)]:
                    raise StoreDamaged("; ".join(str(row[0]) for row in rows[:3]))
            if not self.read_only:
                db.executescript(schema)
                _move_batches(db)

    def _open_read_only(self, verify: bool) -> None:
        if not self.path.is_file():
            raise StoreError(
                f"The app's data folder is read-only and holds no run store ({DATABASE_NAME}) yet: make it "
                "writable, or set CNN_PLAYGROUND_HOME to a folder that is.",
                "The server's run store cannot be opened: its storage is read-only and holds no runs yet. "
                "The server's operator must make it writable.",
            )
        log.warning("The run store %s is read-only: runs are listed, nothing is trained or saved.", self.path)
        # mode=ro still needs the WAL's shared-memory file, which a read-only disk cannot hold: then the
        # file is opened as immutable (nobody can change it on such a disk anyway).
        uri = self.path.resolve().as_uri()
        self._read_uri = uri + "?mode=ro"
        try:
            with self.connect() as db:
                db.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except StoreError:
            self._read_uri = uri + "?mode=ro&immutable=1"
        self._open_checked(verify, _SCHEMA)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection to the store's database for one transaction: committed when the block ends, rolled
        back when it raises, then closed. In WAL mode, readers never wait for the writer.

        Everything kept in this database (runs, classroom challenges, experiments) opens it here, one way,
        and any fault of the database or its disk comes out of the block as a StoreError in plain words.
        """
        try:
            if self.read_only:
                db = sqlite3.connect(self._read_uri or self.path, uri=bool(self._read_uri), timeout=30)
            else:
                db = sqlite3.connect(self.path, timeout=30)
            try:
                if not self.read_only:
                    db.execute("PRAGMA journal_mode=WAL")
                with db:
                    yield db
            finally:
                db.close()
        except (sqlite3.ProgrammingError, sqlite3.IntegrityError, sqlite3.InterfaceError):
            raise  # a mistake in the code, not a fault of the disk
        except sqlite3.Error as error:
            fault = _store_fault(error, self.home)
            if isinstance(fault, StoreDamaged):
                log.error("The run store %s is damaged: %s", self.path, error)
            raise fault from error

    def create_tables(self, schema: str) -> None:
        """Create the tables of ``schema`` (CREATE ... IF NOT EXISTS) unless they exist. A read-only store
        is left as it is: reading a table it does not have raises a StoreError."""
        if self.read_only:
            return
        with self.connect() as db:
            db.executescript(schema)

    def _writable(self) -> None:
        if self.read_only:
            raise StoreReadOnly()

    def room_problem(self, model_bytes: int) -> str | None:
        """Why a run whose model file takes about ``model_bytes`` cannot be saved here now (the store is
        read-only, or its disk has less than ROOM_FACTOR times that free, plus room for the record), or None.
        Cheap: asked before a run starts, never after the expensive step."""
        if self.read_only:
            return READ_ONLY
        return free_space_problem(self.home, ROOM_FACTOR * model_bytes + RECORD_ROOM)

    @contextmanager
    def replacing(self, path: Path) -> Iterator[Path]:
        """A temporary file beside ``path`` (same suffix) to write; it replaces ``path`` only once written
        completely, so a full or failing disk never leaves a half-written file where a good one was."""
        self._writable()
        partial = path.with_name(f"{path.stem}.partial{path.suffix}")
        try:
            yield partial
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    # --- files beside the database ---------------------------------------------------------------

    def model_path(self, run_id: str) -> Path:
        return self.models_dir / f"{_checked(run_id)}.keras"

    def predictions_path(self, run_id: str) -> Path:
        return self.models_dir / f"{_checked(run_id)}.predictions.npz"

    def save_predictions(self, run_id: str, arrays: dict[str, np.ndarray]) -> None:
        """The run's test-set predictions (the arrays its task saves: core.training.tasks)."""
        with self.replacing(self.predictions_path(run_id)) as partial:
            np.savez_compressed(partial, **arrays)

    def model_problem(self, run_id: str) -> str | None:
        """Why the run's saved model cannot be trained on (missing or damaged), in plain words; None when
        it opens as a Keras file: a zip whose parts are all intact, with the model's config and weights.
        Cheap (no TensorFlow): it reads the file once."""
        path = self.model_path(run_id)
        if not path.is_file():
            return "Only a finished or stopped run with a saved model can train on."
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                config = json.loads(archive.read("config.json")) if "config.json" in names else None
                intact = archive.testzip() is None
        except (OSError, zipfile.BadZipFile, ValueError, EOFError, RuntimeError, NotImplementedError):
            config, names, intact = None, set(), False
        if isinstance(config, dict) and "model.weights.h5" in names and intact:
            return None
        return (
            "The saved model of this run is damaged, so it cannot train on. The run itself is kept as it was: "
            "train a new run with the same model instead."
        )

    def read_predictions(self, run_id: str) -> dict[str, np.ndarray]:
        """The arrays of the run's saved test predictions; PredictionsUnavailable when there are none."""
        path = self.predictions_path(run_id) if is_run_id(run_id) else None
        if path is None or not path.is_file():
            raise PredictionsUnavailable(
                "This run has no saved test predictions: only runs that reached the test set keep them."
            )
        try:
            with np.load(path, allow_pickle=False) as data:
                return {key: np.asarray(data[key]) for key in data.files}
        except (OSError, ValueError) as error:
            raise PredictionsUnavailable(f"The saved test predictions of this run cannot be read ({error}).") from error

    # --- records ---------------------------------------------------------------------------------

    def save(self, run: Run, *, with_batches: bool = True) -> None:
        """Insert or update the run, and append the batches it recorded since it was last saved. Without
        batches, the stored batch history is left as it was."""
        self._writable()
        summary = run.summary_record()
        epochs = json.dumps(run.epoch_history())
        with self.connect() as db:
            db.execute(
                "INSERT INTO runs (id, owner, created, status, pid, summary, epochs, batches) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, '[]') ON CONFLICT(id) DO UPDATE SET status=excluded.status, "
                "pid=excluded.pid, summary=excluded.summary, epochs=excluded.epochs",
                (run.id, run.owner, run.created, summary["status"], os.getpid(), json.dumps(summary), epochs),
            )
            if with_batches:
                stored = db.execute(
                    "SELECT coalesce(max(n) + 1, 0) FROM batches WHERE run_id = ?", (run.id,)
                ).fetchone()[0]
                db.executemany(
                    "INSERT INTO batches (run_id, n, metrics) VALUES (?, ?, ?)",
                    [(run.id, n, json.dumps(row)) for n, row in enumerate(run.batch_history(stored), stored)],
                )

    def load(self, run_id: str) -> Run | None:
        """The stored run, or None when there is none with this id (or the id is malformed)."""
        if not is_run_id(run_id):
            return None
        with self.connect() as db:
            row = db.execute("SELECT summary, epochs, batches FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                return None
            batches = self._batch_history(db, run_id, row[2])
        return Run.from_record(json.loads(row[0]), batches, json.loads(row[1]))

    def _batch_history(self, db: sqlite3.Connection, run_id: str, saved_list: str) -> list[dict]:
        """The run's batches in order: its rows in ``batches``, or the JSON list a store from before kept
        (a read-only one, whose lists were never moved, may have no ``batches`` table at all)."""
        if not self.read_only or _has_batches_table(db):
            rows = db.execute("SELECT metrics FROM batches WHERE run_id = ? ORDER BY n", (run_id,)).fetchall()
            if rows:  # read as one JSON list: many times faster than a json.loads a row
                return json.loads("[" + ",".join(metrics for (metrics,) in rows) + "]")
        return json.loads(saved_list)

    def list(self, owner: str | None = None, kind: str = Kind.TRAINING) -> list[Run]:
        """Runs of one kind newest first, with their per-epoch history (batch history left out for speed).

        ``kind`` (core.runs.record.Kind): the learners' training runs unless told, so that jobs (a
        learning-rate finder's, a speed measurement's) are never listed, compared, ranked or exported as runs.
        """
        query = "SELECT summary, epochs FROM runs WHERE coalesce(json_extract(summary, '$.kind'), ?) = ?"
        args: tuple = (Kind.TRAINING, kind)
        if owner is not None:
            query += " AND owner = ?"
            args += (owner,)
        with self.connect() as db:
            rows = db.execute(query + " ORDER BY created DESC", args).fetchall()
        return [Run.from_record(json.loads(s), None, json.loads(e)) for s, e in rows]

    def delete(self, run_id: str) -> bool:
        """Delete the run and its files; False when there is none (a malformed id touches nothing).

        The files go first: on a full disk that frees the room SQLite needs to delete the record."""
        if not is_run_id(run_id):
            return False
        self._writable()
        for path in self.models_dir.glob(f"{run_id}.*"):  # the model, its predictions, its TFLite files
            path.unlink(missing_ok=True)
        with self.connect() as db:
            deleted = db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount
            if not deleted:
                return False
            db.execute("DELETE FROM batches WHERE run_id = ?", (run_id,))
        return True

    def mark_interrupted(self, live_ids=frozenset()) -> int:
        """Runs left active by a process that no longer trains them are marked interrupted, history kept.

        ``live_ids`` are the runs this process is training right now. A read-only store is left as it is
        (its runs are shown as they were saved).
        """
        if self.read_only:
            return 0
        placeholders = ",".join("?" * len(Status.ACTIVE))
        with self.connect() as db:
            rows = db.execute(
                f"SELECT id, pid FROM runs WHERE status IN ({placeholders})", tuple(Status.ACTIVE)
            ).fetchall()
        count = 0
        for run_id, pid in rows:
            if run_id in live_ids or (pid != os.getpid() and pid_alive(pid)):
                continue
            run = self.load(run_id)
            if run is None:
                continue
            run.finish(
                Status.INTERRUPTED,
                "The server stopped while this run was training; the history up to that point is kept.",
            )
            self.save(run)
            count += 1
        return count
