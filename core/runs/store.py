"""The run store: an embedded SQLite database of runs, with each trained model saved beside it."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np

from core.runs.record import Run, Status

HOME_ENV = "CNN_PLAYGROUND_HOME"
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
"""


def default_home() -> Path:
    """Where runs live: $CNN_PLAYGROUND_HOME, else the user's data directory."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("cnn-playground", appauthor=False))


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
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


def _checked(run_id: str) -> str:
    if not is_run_id(run_id):
        raise ValueError(f"Not a run id: {run_id!r}")
    return run_id


class RunStore:
    """Each call opens its own connection, so any thread may use the store."""

    def __init__(self, home: Path | str | None = None):
        self.home = Path(home) if home is not None else default_home()
        self.models_dir = self.home / "models"
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.home / "runs.sqlite3"
        with closing(self.connect()) as db, db:
            db.executescript(_SCHEMA)

    def connect(self) -> sqlite3.Connection:
        """A new connection to the store's database, in WAL mode (readers never wait for the writer).

        Everything kept in this database (runs, classroom challenges) opens it here, one way."""
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    # --- files beside the database ---------------------------------------------------------------

    def model_path(self, run_id: str) -> Path:
        return self.models_dir / f"{_checked(run_id)}.keras"

    def predictions_path(self, run_id: str) -> Path:
        return self.models_dir / f"{_checked(run_id)}.predictions.npz"

    def save_predictions(self, run_id: str, arrays: dict[str, np.ndarray]) -> None:
        """The run's test-set predictions (the arrays its task saves: core.training.tasks)."""
        np.savez_compressed(self.predictions_path(run_id), **arrays)

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
        """Insert or update the run. Without batches, the stored batch history is left as it was."""
        summary = run.summary_record()
        epochs = json.dumps(run.epoch_history())
        with closing(self.connect()) as db, db:
            if with_batches:
                db.execute(
                    "INSERT INTO runs (id, owner, created, status, pid, summary, epochs, batches) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET status=excluded.status, "
                    "pid=excluded.pid, summary=excluded.summary, epochs=excluded.epochs, batches=excluded.batches",
                    (
                        run.id,
                        run.owner,
                        run.created,
                        summary["status"],
                        os.getpid(),
                        json.dumps(summary),
                        epochs,
                        json.dumps(run.batch_history()),
                    ),
                )
            else:
                db.execute(
                    "INSERT INTO runs (id, owner, created, status, pid, summary, epochs, batches) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, '[]') ON CONFLICT(id) DO UPDATE SET status=excluded.status, "
                    "pid=excluded.pid, summary=excluded.summary, epochs=excluded.epochs",
                    (run.id, run.owner, run.created, summary["status"], os.getpid(), json.dumps(summary), epochs),
                )

    def load(self, run_id: str) -> Run | None:
        """The stored run, or None when there is none with this id (or the id is malformed)."""
        if not is_run_id(run_id):
            return None
        with closing(self.connect()) as db:
            row = db.execute("SELECT summary, epochs, batches FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        return Run.from_record(json.loads(row[0]), json.loads(row[2]), json.loads(row[1]))

    def list(self, owner: str | None = None) -> list[Run]:
        """Runs newest first, with their per-epoch history (batch history left out for speed)."""
        query = "SELECT summary, epochs FROM runs"
        args: tuple = ()
        if owner is not None:
            query += " WHERE owner = ?"
            args = (owner,)
        with closing(self.connect()) as db:
            rows = db.execute(query + " ORDER BY created DESC", args).fetchall()
        return [Run.from_record(json.loads(s), None, json.loads(e)) for s, e in rows]

    def delete(self, run_id: str) -> bool:
        """Delete the run and its files; False when there is none (a malformed id touches nothing)."""
        if not is_run_id(run_id):
            return False
        with closing(self.connect()) as db, db:
            deleted = db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount
        for path in self.models_dir.glob(f"{run_id}.*"):  # the model, its predictions, its TFLite files
            path.unlink(missing_ok=True)
        return bool(deleted)

    def mark_interrupted(self, live_ids=frozenset()) -> int:
        """Runs left active by a process that no longer trains them are marked interrupted, history kept.

        ``live_ids`` are the runs this process is training right now.
        """
        placeholders = ",".join("?" * len(Status.ACTIVE))
        with closing(self.connect()) as db:
            rows = db.execute(
                f"SELECT id, pid FROM runs WHERE status IN ({placeholders})", tuple(Status.ACTIVE)
            ).fetchall()
        count = 0
        for run_id, pid in rows:
            if run_id in live_ids or (pid != os.getpid() and _pid_alive(pid)):
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
