"""A training run as a record: settings, live status and append-only history, safe to read from any thread.

The worker thread writes to it; any number of readers (a page, a refreshed tab, a projector) poll it,
each from its own position in the history, so no reader drains anything from another. The run manager
(core.runs.manager) starts, saves and ends runs; a run only records what happens to it.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.timing import TrainingClock
from core.training.hyperparams import Hyperparameters
from core.training.tasks import TASKS, Task, task_of_record


class Status:
    QUEUED = "queued"
    RUNNING = "running"
    STOPPING = "stopping"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # the process that trained it ended before the run did

    ACTIVE = frozenset({QUEUED, RUNNING, STOPPING, PAUSED})
    ENDED = frozenset({STOPPED, FINISHED, FAILED, INTERRUPTED})


class Kind:
    """What a run does. Every kind goes through the same queue, slots, per-user limits and runners; only
    a ``TRAINING`` run is one of the learner's runs (listed, compared, ranked). The others are jobs that
    train a throw-away copy of a model for an answer, kept in ``results``."""

    TRAINING = "train"
    LR_FIND = "lr_find"  # the learning-rate range test (core.training.lr_finder)
    SPEED_PROBE = "speed_probe"  # this server's speed with a model (core.training.speed)

    JOBS = frozenset({LR_FIND, SPEED_PROBE})


@dataclass(frozen=True)
class Progress:
    status: str
    epoch: int  # epochs completed
    epochs: int
    batch: int  # batches done in the current epoch
    batches_per_epoch: int
    elapsed: float
    eta: float | None  # seconds left, when it can be estimated (training, validation and the test set)
    phase: str = ""  # "validating" or "testing" while the run evaluates; "" while it trains

    @property
    def fraction(self) -> float:
        total = self.epochs * max(self.batches_per_epoch, 1)
        done = self.epoch * self.batches_per_epoch + self.batch
        return min(done / total, 1.0) if total else 0.0


@dataclass(frozen=True)
class Ending:
    """How a run ended, as a trainer or runner reports it to the manager (which alone ends runs)."""

    status: str  # one of Status.ENDED
    message: str = ""  # plain-language reason, shown beside the status
    results: dict | None = None  # test-set results, when the run reached the test set


def new_run_id() -> str:
    """A run's id: 12 hex digits (core.runs.store checks ids against this form)."""
    return secrets.token_hex(6)


class Run:
    """One training run. All mutation goes through methods that hold the run's lock."""

    def __init__(
        self,
        spec: dict,
        dataset: str,
        hyperparameters: Hyperparameters,
        *,
        owner: str = "",
        name: str = "",
        run_id: str | None = None,
        created: float | None = None,
        params: int = 0,
        parent_id: str | None = None,
        challenge: str | None = None,
        learner: str = "",
        experiment: str | None = None,
        task: Task | str = "classification",
        kind: str = Kind.TRAINING,
        options: dict | None = None,
    ):
        self.id = run_id or new_run_id()
        self.kind = kind  # see Kind: a learner's training run, or a job
        self.options = dict(options or {})  # a job's own settings (the range test's number of batches...)
        self.spec = spec
        self.dataset = dataset
        self.hyperparameters = hyperparameters
        self.owner = owner
        self.name = name
        self.created = created if created is not None else time.time()
        self.params = params
        self.parent_id = parent_id  # the run this one was cloned from ("change one thing")
        self.challenge = challenge  # the classroom challenge it was trained for, if any
        self.learner = learner  # the learner's chosen display name on a class leaderboard
        self.experiment = experiment  # the experiment (core.experiments) this run is a variant of, if any
        # Classification or regression (core.training.tasks): its loss, metric, labels and headline result.
        self.task: Task = TASKS[task] if isinstance(task, str) else task
        # The spec's analysis (core.model.spec.Analysis) made once when the run starts, for the trainer;
        # not stored: a continued run trains its saved model.
        self.analysis = None
        # Called after the run begins and after each epoch (the manager saves the run there).
        self.on_progress: Callable[[Run], None] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._resumed = threading.Event()  # cleared while the user has paused the run
        self._resumed.set()
        self.paused_seconds = 0.0  # time spent paused, left out of elapsed time and ETA
        self.paused_since: float | None = None  # while paused: since when (the clocks stand still meanwhile)
        self._done = threading.Event()
        self.status = Status.QUEUED
        self.message = ""  # plain-language reason for stopped / failed / interrupted
        self.started: float | None = None
        self.ended: float | None = None
        self.epoch = 0
        self.batch = 0
        self.batches_per_epoch = 0
        self.phase = ""  # "validating" or "testing" while the worker evaluates (see Progress)
        self.epoch_started: float | None = None  # when the current epoch began (for the time left)
        # When the current epoch's first batch ended: the pace of the epoch under way is taken from there,
        # without the first batch (which builds graphs, or now and then stalls for a second).
        self.pace_started: float | None = None
        self.eval_sizes: dict = {}  # {"validation": n, "test": n}: examples evaluated each epoch / at the end
        self.saving_seconds = 0.0  # saving the model and predictions after the test set, as last measured
        self._continued_from = 0  # epochs of the history before the latest "train more"
        # The training time of this process's training (see training_seconds): what came before, when it
        # began and how much of paused_seconds was paused before it, when its test set began.
        self._trained_before = 0.0
        self._training_began: float | None = None
        self._paused_before = 0.0
        self._training_ended: float | None = None
        self._batches: list[dict] = []
        self._epochs: list[dict] = []
        self.results: dict | None = None

    # --- written by the worker ---------------------------------------------------------------

    def begin(self, batches_per_epoch: int, eval_sizes: dict | None = None, saving_seconds: float = 0.0) -> None:
        with self._lock:
            self.eval_sizes = dict(eval_sizes or {})
            self.saving_seconds = saving_seconds
            self.phase = ""
            self.epoch_started = time.time()
            self.status = Status.STOPPING if self._stop.is_set() else Status.RUNNING
            if self.started is None or not self._epochs:
                self.started = time.time()
                self._trained_before = 0.0
            else:  # continued training: elapsed time goes on from where the earlier training ended
                self.paused_seconds += time.time() - (self.ended or time.time())
                self._trained_before = self._recorded_training_seconds() or 0.0
            self.ended = None
            self._training_began, self._training_ended = time.time(), None
            self._paused_before = self.paused_seconds
            self.batches_per_epoch = batches_per_epoch
        self._progressed()

    def record_batch(
        self, epoch: int, batch: int, loss: float, accuracy: float | None = None, **metrics: float | None
    ) -> None:
        """One batch's loss and its task's metric: accuracy, or another by name (a regression's mae=...)."""
        with self._lock:
            self.batch = batch + 1
            if batch == 0:
                self.pace_started = time.time()
            self._batches.append(
                {
                    "step": epoch * self.batches_per_epoch + batch + 1,
                    "epoch": epoch + 1,
                    "loss": loss,
                    **(metrics or {"accuracy": accuracy}),
                }
            )

    def record_epoch(self, metrics: dict) -> None:
        with self._lock:
            self._epochs.append(metrics)
            self.epoch = len(self._epochs)
            self.batch = 0
            self.phase = ""
            self.epoch_started = time.time()
            self.pace_started = None
        self._progressed()

    def set_phase(self, phase: str) -> None:
        """'validating', 'testing' or '' (training): what the worker is doing, for the page to say."""
        with self._lock:
            self.phase = phase
            if phase == "testing" and self._training_began is not None and self._training_ended is None:
                self._training_ended = time.time()
        self._state_changed()

    def _progressed(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self)

    def finish(self, status: str, message: str = "", results: dict | None = None) -> None:
        """Record the run's end (called by the manager's ``_end``, and by the store for interrupted runs)."""
        with self._lock:
            self.status = status
            self.message = message
            if results is not None:
                self.results = results
            self.ended = time.time()

    def close(self) -> None:
        """The run's final state is saved: wake everyone waiting on it (the manager's ``_end`` calls this)."""
        self._done.set()

    # --- control -----------------------------------------------------------------------------

    def request_stop(self) -> bool:
        """Ask the worker to stop after the current batch. False when the run has already ended."""
        with self._lock:
            if self.status not in Status.ACTIVE:
                return False
            self._stop.set()
            if self.status in (Status.RUNNING, Status.PAUSED):
                self.status = Status.STOPPING
            return True

    def request_pause(self) -> bool:
        """Pause after the current batch. False when the run is not training."""
        with self._lock:
            if self.status not in (Status.RUNNING, Status.QUEUED) or self._stop.is_set():
                return False
            self._resumed.clear()
            return True

    def resume(self) -> bool:
        with self._lock:
            if self._resumed.is_set():
                return False
            self._resumed.set()
            return True

    @property
    def pause_requested(self) -> bool:
        return not self._resumed.is_set()

    def wait_while_paused(self) -> float:
        """Called by the worker between batches: blocks while paused, returns on resume or stop.

        Returns the seconds it was paused (0.0 when it was not), for the worker's own clocks. The run's
        clocks stand still meanwhile: elapsed time, time left and the pace of the epoch under way go on
        after Resume from where they were.
        """
        if self._resumed.is_set():
            return 0.0
        began = time.time()
        with self._lock:
            previous, self.status = self.status, Status.PAUSED
            self.paused_since = began
        self._state_changed()
        while not self._resumed.wait(0.2):
            if self._stop.is_set():
                break
        with self._lock:
            paused = time.time() - began
            self.paused_seconds += paused
            self.paused_since = None
            if self.pace_started is not None:
                self.pace_started += paused
            if self.epoch_started is not None:
                self.epoch_started += paused
            if self.status == Status.PAUSED:
                self.status = Status.STOPPING if self._stop.is_set() else previous
        self._state_changed()
        return paused

    def _state_changed(self) -> None:
        """Hook for copies of a run in another process (see core.runs.process_runner.RelayRun)."""

    # --- mirrored from a worker process (core.runs.process_runner.ProcessRunner) ----------------------

    def apply_remote(self, kind: str, payload, state: dict) -> None:
        """Take over a change the worker's copy of this run made ("begin", "state", "batch" or "epoch")."""
        with self._lock:
            if kind == "batch":
                self._batches.append(payload)
            elif kind == "epoch":
                self._epochs.append(payload)
            for key in ("epoch", "batch", "batches_per_epoch", "started", "paused_seconds", "params"):
                setattr(self, key, state[key])
            for key in ("phase", "epoch_started", "pace_started", "eval_sizes", "saving_seconds", "paused_since"):
                if key in state:
                    setattr(self, key, state[key])
            # Stop pressed here and not yet seen by the worker: keep showing "stopping".
            if not (self._stop.is_set() and state["status"] in (Status.RUNNING, Status.PAUSED)):
                self.status = state["status"]
        if kind in ("begin", "epoch"):
            self._progressed()

    def apply_final(self, record: dict) -> None:
        with self._lock:
            for key in (
                "status",
                "message",
                "results",
                "started",
                "ended",
                "epoch",
                "batch",
                "batches_per_epoch",
                "paused_seconds",
                "params",
            ):
                setattr(self, key, record.get(key))
            self.hyperparameters = Hyperparameters.from_dict(record["hyperparameters"])

    def reopen(self, extra_epochs: int) -> None:
        """An ended run goes back to the queue to train ``extra_epochs`` more, extending its history."""
        with self._lock:
            self._continued_from = len(self._epochs)
            self.hyperparameters = Hyperparameters.from_dict(
                {**self.hyperparameters.to_dict(), "epochs": self.epoch + extra_epochs}
            )
            self.status = Status.QUEUED
            self.message = ""
            self.batch = 0
            self._stop.clear()
            self._resumed.set()
            self._done.clear()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (only meaningful for a run trained in this process)."""
        return self._done.wait(timeout)

    # --- read by anyone ----------------------------------------------------------------------

    def batch_history(self, start: int = 0) -> list[dict]:
        with self._lock:
            return list(self._batches[start:])

    def epoch_history(self, start: int = 0) -> list[dict]:
        with self._lock:
            return list(self._epochs[start:])

    def training_seconds(self) -> float | None:
        """How long the run has trained, validation included: pauses, the test set and saving left out.

        A run trained in this process is timed by its own clock (a run stopped within its first epoch took
        time too); one read from the store, by what its training recorded. None when nothing is known.
        """
        with self._lock:
            if self._training_began is None:
                return self._recorded_training_seconds()
            end = self._training_ended or self.paused_since or time.time()
            return self._trained_before + max(
                end - self._training_began - (self.paused_seconds - self._paused_before), 0.0
            )

    def _recorded_training_seconds(self) -> float | None:
        recorded = (self.results or {}).get("train_seconds")
        if recorded is not None:
            return recorded
        return sum(e.get("seconds", 0.0) for e in self._epochs) or None

    def progress(self) -> Progress:
        with self._lock:
            epochs = self.hyperparameters.epochs
            now = self.ended or self.paused_since or time.time()  # the clocks stand still while paused
            elapsed = (now - self.started - self.paused_seconds) if self.started else 0.0
            eta = None
            if self.status in Status.ACTIVE and self.phase != "testing":
                eta = self._seconds_left(now, elapsed)
            return Progress(
                self.status, self.epoch, epochs, self.batch, self.batches_per_epoch, elapsed, eta, self.phase
            )

    def _seconds_left(self, now: float, elapsed: float) -> float | None:
        """Training, validation and test evaluation still to come (called with the lock held): the
        clock's (core.timing.TrainingClock) reading of this run."""
        hp = self.hyperparameters
        clock = TrainingClock(
            epochs=hp.epochs,
            batches_per_epoch=self.batches_per_epoch,
            batch_size=hp.batch_size,
            epoch=self.epoch,
            batch=self.batch,
            measured=[e for e in self._epochs[self._continued_from :] if "seconds" in e],
            eval_sizes=self.eval_sizes or {},
            saving_seconds=self.saving_seconds,
            pace_started=self.pace_started,
            epoch_started=self.epoch_started,
        )
        return clock.seconds_left(now, elapsed)

    @property
    def active(self) -> bool:
        return self.status in Status.ACTIVE

    @property
    def test_accuracy(self) -> float | None:
        return (self.results or {}).get("test_accuracy")

    def headline(self, decimals: int = 1, bold: bool = False) -> str:
        """The run's test result in a few words ('test accuracy 87.5 %', 'test MAE 12.3'); '' without one."""
        return self.task.headline(self.results, decimals, bold)

    # --- persistence -------------------------------------------------------------------------

    def summary_record(self) -> dict:
        with self._lock:
            return {
                "id": self.id,
                "owner": self.owner,
                "name": self.name,
                "created": self.created,
                "parent_id": self.parent_id,
                "challenge": self.challenge,
                "learner": self.learner,
                "experiment": self.experiment,
                "kind": self.kind,
                "options": self.options,
                "task": self.task.name,
                "spec": self.spec,
                "dataset": self.dataset,
                "hyperparameters": self.hyperparameters.to_dict(),
                "params": self.params,
                "status": self.status,
                "message": self.message,
                "started": self.started,
                "ended": self.ended,
                "epoch": self.epoch,
                "batch": self.batch,
                "batches_per_epoch": self.batches_per_epoch,
                "results": self.results,
                "paused_seconds": self.paused_seconds,
            }

    @classmethod
    def from_record(cls, record: dict, batches: list[dict] | None = None, epochs: list[dict] | None = None) -> Run:
        run = cls(
            record["spec"],
            record["dataset"],
            Hyperparameters.from_dict(record["hyperparameters"]),
            owner=record.get("owner", ""),
            name=record.get("name", ""),
            run_id=record["id"],
            created=record.get("created"),
            params=record.get("params", 0),
            parent_id=record.get("parent_id"),
            challenge=record.get("challenge"),
            learner=record.get("learner", ""),
            experiment=record.get("experiment"),
            task=task_of_record(record),
            kind=record.get("kind", Kind.TRAINING),
            options=record.get("options"),
        )
        for key in ("status", "message", "started", "ended", "epoch", "batch", "batches_per_epoch", "results"):
            setattr(run, key, record.get(key))
        run.paused_seconds = record.get("paused_seconds", 0.0)
        run._batches = list(batches or [])
        run._epochs = list(epochs or [])
        if run.status == Status.PAUSED:  # a run followed again (core.runs.ray_runner): its controls as they were
            run._resumed.clear()
        elif run.status == Status.STOPPING:
            run._stop.set()
        if run.status not in Status.ACTIVE:
            run._done.set()
        return run
