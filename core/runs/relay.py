"""The relay between a run trained elsewhere and the server's copy of it, shared by the process and Ray runners.

A runner that trains a run outside this process (core.runs.process_runner: a worker process; core.runs.ray:
an actor on a cluster) sends the worker a ``Job``. The worker trains its own copy of the run (``Worker``),
whose every change is an ``Event`` (core.runs.record) sent back; the server's slot thread follows it
(``relay``): it applies the events, in order, to the Run the pages read (the manager saves it as it begins
and after each epoch), and passes the user's Pause, Resume and Stop on to the worker, which obeys them
between batches. A runner says only how its worker is reached (a ``WorkerLink``): how to take the news,
send a command and end a worker that ignores Stop.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from core.runs.record import Ending, Event, Run, RunRecord, Status

log = logging.getLogger(__name__)

CRASH_MESSAGE = (
    "The training process stopped unexpectedly — most likely the model needed more memory than "
    "this server has. Use fewer filters or units, or a smaller batch size, and train again."
)
STUCK_MESSAGE = "Stopped by you; the training process did not respond, so it was ended. The history up to then is kept."
STOP_GRACE_SECONDS = 30.0  # a worker that ignores Stop this long is ended

# The user's controls, as a worker's copy of a run obeys them (``Worker.command``).
COMMANDS: dict[str, Callable[[Run], bool]] = {
    "stop": Run.request_stop,
    "pause": Run.request_pause,
    "resume": Run.resume,
}


@dataclass(frozen=True)
class Job:
    """What a worker needs to train one run: its record and history, the spec's analysis, whether it trains
    on from its saved model, and for a cluster's worker the data set's object ref and that model's bytes.

    It travels as ``to_dict()`` (plain values, the analysis as it is) and comes back with ``from_dict``.
    """

    record: RunRecord
    batches: list[dict]
    epochs: list[dict]
    analysis: object = None  # core.model.spec.Analysis, made once when the run was checked
    continue_training: bool = False
    data: dict = field(default_factory=dict)  # data set name -> object ref (the Ray runner)
    model: bytes | None = None  # the saved model to train on (the Ray runner, with continue_training)

    @classmethod
    def of(cls, run: Run, continue_training: bool, **extra) -> Job:
        return cls(run.record(), run.batch_history(), run.epoch_history(), run.analysis, continue_training, **extra)

    def to_dict(self) -> dict:
        return {
            "record": self.record.to_dict(),
            "batches": list(self.batches),
            "epochs": list(self.epochs),
            "analysis": self.analysis,
            "continue_training": self.continue_training,
            "data": dict(self.data),
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, job: dict) -> Job:
        return cls(
            RunRecord.from_dict(job["record"]),
            list(job["batches"]),
            list(job["epochs"]),
            job.get("analysis"),
            bool(job.get("continue_training", False)),
            dict(job.get("data") or {}),
            job.get("model"),
        )

    def live_run(self) -> Run:
        """The run as a server follows it (its history so far, its controls as they were)."""
        return Run.from_record(self.record, self.batches, self.epochs)


# --- on the worker's side ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Preparation:
    """A hint to an idle worker: build and trace this model ahead (core.runs.trainer.prepare_ahead), because it
    is likely the next run (the learner's model as the Train page shows it). Travels as ``to_dict()``."""

    spec: dict
    dataset: str
    hyperparameters: dict  # Hyperparameters.to_dict()

    KIND = "prepare"

    @classmethod
    def of(cls, run: Run) -> Preparation:
        """The preparation of a run's own model and settings (the one a worker keeps after training it)."""
        return cls(run.spec, run.dataset, run.hyperparameters.to_dict())

    @property
    def key(self) -> str:
        """The same for a preparation and for the run it prepares: what a worker keeps a prepared model by."""
        return json.dumps([self.spec, self.dataset, self.hyperparameters], sort_keys=True, default=str)

    def to_dict(self) -> dict:
        return {"kind": self.KIND, "spec": self.spec, "dataset": self.dataset, "hyperparameters": self.hyperparameters}

    @classmethod
    def from_dict(cls, message: dict) -> Preparation | None:
        """The preparation a message is, or None for any other message (a Job)."""
        if not isinstance(message, dict) or message.get("kind") != cls.KIND:
            return None
        return cls(message["spec"], message["dataset"], message["hyperparameters"])


class WorkerSide:
    """A worker's side of the relay: the copy of the run it trains now, every change of which goes to
    ``send``, and the user's controls passed on to that copy (from any thread)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._run: Run | None = None

    def take(self, job: dict, send: Callable[[Event], None]) -> tuple[Run, Job]:
        """The worker's copy of the job's run, now the one that the commands reach."""
        taken = Job.from_dict(job)
        run = taken.live_run()
        run.analysis = taken.analysis
        run.on_event = send
        with self._lock:
            self._run = run
        return run, taken

    @property
    def run(self) -> Run | None:
        with self._lock:
            return self._run

    def command(self, command: str) -> bool:
        """Pass Stop, Pause or Resume to the run; False when no run is training (or the command is unknown)."""
        run = self.run
        if run is None or command not in COMMANDS:
            if command not in COMMANDS:
                log.warning("unknown command %r for a training worker", command)
            return False
        COMMANDS[command](run)
        return True

    def release(self) -> None:
        with self._lock:
            self._run = None


# --- on the server's side ----------------------------------------------------------------------------


@dataclass
class News:
    """What a worker sent since the last look: events in order and, once the run is over, its ``end``:
    the ``Event.DONE`` with the final record, or the Ending the runner reports itself (the worker died...)."""

    events: list[Event] = field(default_factory=list)
    end: Event | Ending | None = None


class WorkerLink(Protocol):
    """How a runner's slot reaches the worker training one run."""

    gap: float  # after news, wait this long before looking again (less when the user presses a control)

    def poll(self) -> News | None:
        """The news since the last poll (waiting a little for some); None when the worker could not be
        asked this time (the relay then asks again, and sends no command meanwhile)."""
        ...

    def command(self, command: str) -> bool:
        """Send "stop", "pause" or "resume"; True once the worker has it."""
        ...

    def abandon(self) -> None:
        """End the worker: it ignored Stop for STOP_GRACE_SECONDS (what it recorded is kept)."""
        ...


class Controls:
    """The user's controls on the server's copy of a run, each passed on to the worker once."""

    def __init__(self, run: Run):
        self.run = run
        # A run followed again after a restart: what the worker was told before.
        self.stop_sent = run.status == Status.STOPPING
        self.pause_sent = run.status == Status.PAUSED
        self.stop_sent_at: float | None = None

    def pending(self) -> bool:
        run = self.run
        return (run.stop_requested and not self.stop_sent) or run.pause_requested != self.pause_sent

    def pass_on(self, link: WorkerLink) -> Ending | None:
        """Send what the user pressed since; the Ending of a run whose worker ignored Stop too long."""
        run = self.run
        if run.stop_requested and not self.stop_sent:
            self.stop_sent = link.command("stop")
            self.stop_sent_at = time.time() if self.stop_sent else None
        elif run.pause_requested != self.pause_sent and not self.stop_sent:
            pause = run.pause_requested
            if link.command("pause" if pause else "resume"):
                self.pause_sent = pause
        if self.stop_sent_at is not None and time.time() - self.stop_sent_at > STOP_GRACE_SECONDS:
            link.abandon()  # a stuck run: end its worker, keep what it recorded
            return Ending(Status.STOPPED, STUCK_MESSAGE)
        return None

    def gather(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the user presses Stop, Pause or Resume meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.pending():
            time.sleep(0.02)


def relay(run: Run, link: WorkerLink) -> Ending:
    """Follow the worker's run until it ends: apply its events here in order, pass the controls on to it,
    take over its final record; return how it ended (the manager ends and saves the run)."""
    controls = Controls(run)
    while True:
        news = link.poll()
        if news is None:
            continue
        for event in news.events:
            run.apply(event)
        if isinstance(news.end, Event):
            run.apply_final(news.end.record)
            return news.end.ending
        if news.end is not None:
            return news.end
        if news.events and link.gap:
            controls.gather(link.gap)
        stuck = controls.pass_on(link)
        if stuck is not None:
            return stuck
