"""A training run: its saved record, the events a worker sends, and the live run readers poll.

- ``RunRecord``: the fields the store saves of a run (everything but its history), frozen: a snapshot.
- ``Event``: one change a worker's copy of a run sends to the server's copy (it began, a batch, an epoch,
  its state, and at the end its final record with how it ended); the relay (core.runs.relay) carries them.
- ``Run``: the live run, safe to read from any thread. The worker thread writes to it (or applies the
  events of a copy trained elsewhere); any number of readers (a page, a refreshed tab, a projector) poll
  it, each from its own position in the history, so no reader drains anything from another. The run
  manager (core.runs.manager) starts, saves and ends runs; a run only records what happens to it.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields

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


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """What the store saves of a run beside its history: who, what, with which settings, how far, how it ended.

    ``to_dict``/``from_dict`` are the saved form (the store's ``summary`` column, a file of work's run.json),
    its keys in this order; ``from_dict`` reads a record saved before a field existed with its default.
    """

    id: str
    owner: str = ""
    name: str = ""
    created: float | None = None
    parent_id: str | None = None  # the run this one was cloned from ("change one thing")
    challenge: str | None = None  # the classroom challenge it was trained for, if any
    learner: str = ""  # the learner's chosen display name on a class leaderboard
    experiment: str | None = None  # the experiment (core.experiments) this run is a variant of, if any
    kind: str = Kind.TRAINING
    options: dict = field(default_factory=dict)  # a job's own settings
    task: str = "classification"  # a name in core.training.tasks.TASKS
    spec: dict
    dataset: str
    hyperparameters: Hyperparameters
    params: int = 0
    status: str = Status.QUEUED
    message: str = ""
    started: float | None = None
    ended: float | None = None
    epoch: int = 0
    batch: int = 0
    batches_per_epoch: int = 0
    results: dict | None = None
    paused_seconds: float = 0.0

    def to_dict(self) -> dict:
        record = {f.name: getattr(self, f.name) for f in fields(self)}
        record["hyperparameters"] = self.hyperparameters.to_dict()
        return record

    @classmethod
    def from_dict(cls, record: dict) -> RunRecord:
        values = {f.name: record[f.name] for f in fields(cls) if f.name in record}
        values["hyperparameters"] = Hyperparameters.from_dict(record["hyperparameters"])
        values["task"] = task_of_record(record).name  # records from before the task was saved
        values["options"] = dict(record.get("options") or {})
        for key, default in (("owner", ""), ("name", ""), ("learner", ""), ("kind", Kind.TRAINING), ("params", 0)):
            if values.get(key) is None:
                values[key] = default
        values["paused_seconds"] = record.get("paused_seconds") or 0.0
        return cls(**values)


# The live fields a worker's copy of a run sends with every event, the status first (see Run.apply).
LIVE_FIELDS = (
    "status",
    "epoch",
    "batch",
    "batches_per_epoch",
    "started",
    "paused_seconds",
    "params",
    "phase",
    "epoch_started",
    "pace_started",
    "paused_since",
    "eval_sizes",
    "saving_seconds",
)


@dataclass(frozen=True)
class Event:
    """One change a worker's copy of a run made, sent to the server's copy (``Run.apply``), in order.

    ``state``: the copy's live fields (LIVE_FIELDS) just after the change. ``row``: a batch's or an epoch's
    metrics. The last event of a run is ``DONE``, with its final ``record`` and its ``ending``.
    """

    BEGIN = "begin"  # training began (or began again): the manager saves the run
    STATE = "state"  # the phase or the pause changed
    BATCH = "batch"
    EPOCH = "epoch"  # the manager saves the run
    DONE = "done"

    kind: str
    state: dict = field(default_factory=dict)
    row: dict | None = None
    record: RunRecord | None = None
    ending: Ending | None = None

    @classmethod
    def done(cls, run: Run, ending: Ending) -> Event:
        return cls(cls.DONE, record=run.record(), ending=ending)


def new_run_id() -> str:
    """A run's id: 12 hex digits (core.runs.store checks ids against this form)."""
    return secrets.token_hex(6)


class Run:
    """One live training run. All mutation goes through methods that hold the run's lock.

    Trained in this process, its trainer writes to it (``begin``, ``record_batch``...). Trained elsewhere (a
    worker process, a cluster), the worker's copy sends an ``Event`` for every change (``on_event``) and the
    server's copy takes each over (``apply``); the relay (core.runs.relay) carries them between the two.
    """

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
        # A worker's copy of a run trained elsewhere: called with every change, for the server's copy.
        self.on_event: Callable[[Event], None] | None = None
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
        self._emit(Event.BEGIN)

    def record_batch(
        self, epoch: int, batch: int, loss: float, accuracy: float | None = None, **metrics: float | None
    ) -> None:
        """One batch's loss and its task's metric: accuracy, or another by name (a regression's mae=...)."""
        with self._lock:
            self.batch = batch + 1
            if batch == 0:
                self.pace_started = time.time()
            row = {
                "step": epoch * self.batches_per_epoch + batch + 1,
                "epoch": epoch + 1,
                "loss": loss,
                **(metrics or {"accuracy": accuracy}),
            }
            self._batches.append(row)
        self._emit(Event.BATCH, row)

    def record_epoch(self, metrics: dict) -> None:
        with self._lock:
            self._epochs.append(metrics)
            self.epoch = len(self._epochs)
            self.batch = 0
            self.phase = ""
            self.epoch_started = time.time()
            self.pace_started = None
        self._progressed()
        self._emit(Event.EPOCH, metrics)

    def set_phase(self, phase: str) -> None:
        """'validating', 'testing' or '' (training): what the worker is doing, for the page to say."""
        with self._lock:
            self.phase = phase
            if phase == "testing" and self._training_began is not None and self._training_ended is None:
                self._training_ended = time.time()
        self._emit(Event.STATE)

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
        self._emit(Event.STATE)
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
        self._emit(Event.STATE)
        return paused

    def _emit(self, kind: str, row: dict | None = None) -> None:
        """Send the change just made to the server's copy, when this is a worker's copy (``on_event``)."""
        if self.on_event is None:
            return
        with self._lock:
            state = {key: getattr(self, key) for key in LIVE_FIELDS}
        self.on_event(Event(kind, state, row))

    # --- the server's copy of a run trained elsewhere (core.runs.relay) -----------------------------

    def apply(self, event: Event) -> None:
        """Take over a change the worker's copy of this run made (any kind but ``Event.DONE``)."""
        state = event.state
        with self._lock:
            if event.kind == Event.BATCH:
                self._batches.append(event.row)
            elif event.kind == Event.EPOCH:
                self._epochs.append(event.row)
            for key in LIVE_FIELDS[1:]:
                setattr(self, key, state[key])
            # Stop pressed here and not yet seen by the worker: keep showing "stopping".
            if not (self._stop.is_set() and state["status"] in (Status.RUNNING, Status.PAUSED)):
                self.status = state["status"]
        if event.kind in (Event.BEGIN, Event.EPOCH):
            self._progressed()

    def apply_final(self, record: RunRecord) -> None:
        """Take over the worker's final record of this run (with ``Event.DONE``): its end, clocks and settings."""
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
                setattr(self, key, getattr(record, key))
            self.hyperparameters = record.hyperparameters

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

    def record(self) -> RunRecord:
        """The run's saved fields as they are now (a frozen snapshot; the history is read apart)."""
        with self._lock:
            return RunRecord(
                id=self.id,
                owner=self.owner,
                name=self.name,
                created=self.created,
                parent_id=self.parent_id,
                challenge=self.challenge,
                learner=self.learner,
                experiment=self.experiment,
                kind=self.kind,
                options=dict(self.options),
                task=self.task.name,
                spec=self.spec,
                dataset=self.dataset,
                hyperparameters=self.hyperparameters,
                params=self.params,
                status=self.status,
                message=self.message,
                started=self.started,
                ended=self.ended,
                epoch=self.epoch,
                batch=self.batch,
                batches_per_epoch=self.batches_per_epoch,
                results=self.results,
                paused_seconds=self.paused_seconds,
            )

    def summary_record(self) -> dict:
        """The saved form of ``record()`` (a plain dict, as the store and a file of work keep it)."""
        return self.record().to_dict()

    @classmethod
    def from_record(
        cls, record: RunRecord | dict, batches: list[dict] | None = None, epochs: list[dict] | None = None
    ) -> Run:
        """The live run of a saved record (a ``RunRecord`` or its dict) and its history."""
        if isinstance(record, dict):
            record = RunRecord.from_dict(record)
        run = cls(
            record.spec,
            record.dataset,
            record.hyperparameters,
            owner=record.owner,
            name=record.name,
            run_id=record.id,
            created=record.created,
            params=record.params,
            parent_id=record.parent_id,
            challenge=record.challenge,
            learner=record.learner,
            experiment=record.experiment,
            task=record.task,
            kind=record.kind,
            options=record.options,
        )
        for key in ("status", "message", "started", "ended", "epoch", "batch", "batches_per_epoch", "results"):
            setattr(run, key, getattr(record, key))
        run.paused_seconds = record.paused_seconds
        run._batches = list(batches or [])
        run._epochs = list(epochs or [])
        if run.status == Status.PAUSED:  # a run followed again (core.runs.ray): its controls as they were
            run._resumed.clear()
        elif run.status == Status.STOPPING:
            run._stop.set()
        if run.status not in Status.ACTIVE:
            run._done.set()
        return run
