"""Runners: where training happens. The pages and the RunManager don't know which one is used.

Every runner keeps one queue of waiting runs (``RunQueue``) and K slots that each train one run at a
time; a subclass says how one slot trains one run (``Runner._train``). Runners are registered by name in
``RUNNERS`` as "module:Class", imported only when chosen (a thread server never imports Ray):

- ``thread`` (core.runs.thread_runner): slots are threads of this process (the default).
- ``process`` (core.runs.process_runner): each slot owns a pre-started worker process.
- ``ray`` (core.runs.ray): each slot owns a warm actor on a Ray cluster.

A runner never ends, saves or closes a run: it returns how the run ended (an ``Ending``) and the
manager's ``end`` callback does all of that, in one place (``RunManager._end``).
"""

from __future__ import annotations

import collections
import importlib
import logging
import os
import threading
from collections.abc import Callable
from typing import Protocol

from core.config import RUNNER_NAMES
from core.runs.record import Ending, Kind, Run, Status
from core.runs.store import RunStore

log = logging.getLogger(__name__)

# The names are the settings' (core.config.RUNNER_NAMES); each runner is <Name>Runner of its module.
_RUNNER_MODULES = {
    "thread": "core.runs.thread_runner",
    "process": "core.runs.process_runner",
    "ray": "core.runs.ray",  # a package: the cluster's health, the actor, the runner
}
RUNNERS: dict[str, str] = {name: f"{_RUNNER_MODULES[name]}:{name.capitalize()}Runner" for name in RUNNER_NAMES}

CANCELLED = Ending(Status.STOPPED, "Cancelled before it started.")
UNEXPECTED_FAILURE = Ending(Status.FAILED, "Training failed unexpectedly; please try again.")


class RunnerUnavailable(Exception):
    """The runner cannot train here (e.g. its cluster cannot be reached); the message says why, plainly."""


def runner_class(name: str) -> type[Runner]:
    """The runner registered as ``name`` in RUNNERS, imported now."""
    if name not in RUNNERS:
        raise ValueError(f"Unknown runner {name!r}; choose one of {', '.join(RUNNERS)}.")
    module, _, cls = RUNNERS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def intra_op_threads(slots: int) -> int:
    """Each training gets its share of the cores."""
    return max(1, (os.cpu_count() or 1) // max(slots, 1))


class Trainer(Protocol):
    """What trains one run; the manager is handed one (tests hand it a fake that trains nothing).

    ``train`` records into the run as it goes (``run.begin``, ``run.record_batch``, ``run.record_epoch``;
    ``run.wait_while_paused()`` and ``run.stop_requested`` between batches) and returns how the run ended.
    It never saves the run record nor ends the run; it may write the trained model's files
    (``store.model_path``, ``store.save_predictions``). A trainer given to a process runner must pickle.
    """

    def prepare(self, threads: int) -> None:
        """Called once per process before its first run, with the threads each training may use."""

    def train(self, run: Run, store: RunStore, *, continue_training: bool = False) -> Ending: ...


class KerasTrainer:
    """The real trainer, imported on first use (a rejected run never loads TensorFlow): a training run goes to
    core.runs.trainer, a job to core.runs.jobs (``TRAINERS_BY_KIND``).

    Args:
        warm_up: a worker process pays TensorFlow's first-run costs (its first trace, the data set's float
            copy) once when it starts, before anyone presses Train (core.runs.trainer.warm_up).
    """

    def __init__(self, warm_up: bool = True):
        self.warms_up = warm_up

    def warm_up(self) -> None:
        """Called by a worker process once, after ``prepare`` and before it takes its first run. A worker
        hands fit its inputs as tensors (core.training.fitting.fit_input), warm or not."""
        from core.training.fitting import hold_inputs_as_tensors

        hold_inputs_as_tensors()
        if getattr(self, "warms_up", True):
            from core.runs.trainer import warm_up

            warm_up()

    def prepare_for(self, preparation) -> None:
        """Called by an idle worker process with the Train page's hint (core.runs.relay.Preparation), and after
        each training run with that run's own (core.runs.trainer.prepare_for)."""
        if getattr(self, "warms_up", True):
            from core.runs.trainer import prepare_for

            prepare_for(preparation)

    def prepare(self, threads: int) -> None:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already ran an op in this process: its thread pools are fixed
            pass

    def train(self, run: Run, store: RunStore, *, continue_training: bool = False) -> Ending:
        module, _, function = TRAINERS_BY_KIND[run.kind].partition(":")
        return getattr(importlib.import_module(module), function)(run, store, continue_training=continue_training)


# What trains each kind of run (core.runs.record.Kind), imported on first use; every one takes
# (run, store, continue_training=...) and returns an Ending, recording its progress into the run.
TRAINERS_BY_KIND: dict[str, str] = {
    Kind.TRAINING: "core.runs.trainer:train_run",
    Kind.LR_FIND: "core.runs.jobs:lr_find_job",
    Kind.SPEED_PROBE: "core.runs.jobs:speed_probe_job",
}


class RunQueue:
    """Runs waiting for a slot, in order; a waiting run can see its position and be cancelled."""

    def __init__(self):
        self._items: collections.deque[tuple[Run, bool]] = collections.deque()
        self._ready = threading.Condition()

    def put(self, run: Run, continue_training: bool) -> None:
        with self._ready:
            self._items.append((run, continue_training))
            self._ready.notify()

    def take(self) -> tuple[Run, bool]:
        with self._ready:
            while not self._items:
                self._ready.wait()
            return self._items.popleft()

    def position(self, run_id: str) -> int | None:
        """1 for the next run to start; None when the run is not waiting."""
        with self._ready:
            for index, (run, _) in enumerate(self._items):
                if run.id == run_id:
                    return index + 1
        return None

    def drain(self) -> list[tuple[Run, bool]]:
        """Take every waiting run out, in order (to hand them to another runner)."""
        with self._ready:
            items = list(self._items)
            self._items.clear()
            return items

    def remove(self, run_id: str) -> Run | None:
        with self._ready:
            for item in self._items:
                if item[0].id == run_id:
                    self._items.remove(item)
                    return item[0]
        return None


class Runner:
    """The queue and the slot threads; a subclass says how one slot trains one run (``_train``).

    Subclasses keep this constructor (extra options as keyword arguments after it) and override
    ``_train``, and if they need to, ``_prepare_slot`` and ``shutdown``.

    Args:
        store: the run store; a runner uses it for its home folder and the model files, never to save runs.
        slots: how many runs train at once.
        end: the manager's ``end(run, ending)``: called exactly once for every run submitted.
        trainer: what trains one run (see ``Trainer``).
    """

    name = "runner"

    def __init__(self, store: RunStore, slots: int, end: Callable[[Run, Ending], None], trainer: Trainer):
        # Set by the manager: called, from any thread, with a plain reason when this runner can no longer
        # train (its cluster went away); the manager then moves the waiting runs to another runner.
        self.on_unavailable: Callable[[str], None] | None = None
        self.store = store
        self.slots = max(1, slots)
        self.end = end
        self.trainer = trainer
        self.queue = RunQueue()
        self._threads = [
            threading.Thread(target=self._slot_loop, args=(i,), name=f"{self.name}-slot-{i}", daemon=True)
            for i in range(self.slots)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, run: Run, continue_training: bool = False) -> None:
        self.queue.put(run, continue_training)

    def cancel(self, run_id: str) -> bool:
        """End a run that is still waiting; False when it already started (stop it instead)."""
        run = self.queue.remove(run_id)
        if run is None:
            return False
        self.end(run, CANCELLED)
        return True

    def start_workers(self) -> None:
        """Start ahead of the first run what trains beside the slot threads (the process runner's worker
        processes, when it was made without them); nothing here."""

    def prepare_next(self, preparation) -> None:
        """A hint that a run of this model (core.runs.relay.Preparation) is likely next: the process runner's
        idle workers build and trace it ahead; nothing here (a thread shares the server's process, a
        cluster's actors do not keep models)."""

    def shutdown(self) -> None:
        """Release what the runner holds beyond its threads (worker processes, a cluster)."""

    def recover(self, admit: Callable[[Run], None]) -> None:
        """Follow again the runs still training elsewhere since before this server started (a cluster's
        actors outlive a restart): ``admit`` each (the manager takes it as live), then train it on to its
        ``end``. Other runners have none: their runs ended with the process that trained them."""

    def _slot_loop(self, slot: int) -> None:
        while True:
            self._prepare_slot(slot)
            run, continue_training = self.queue.take()
            self.end(run, self._run_one(slot, run, continue_training))

    def _run_one(self, slot: int, run: Run, continue_training: bool) -> Ending:
        if run.stop_requested:  # stopped in the moment between leaving the queue and starting
            return CANCELLED
        try:
            return self._train(slot, run, continue_training)
        except Exception:  # a slot must survive anything one run does
            log.exception("slot %s failed on run %s", slot, run.id)
            return UNEXPECTED_FAILURE

    def _prepare_slot(self, slot: int) -> None:
        """Runs in each slot's thread before each run: wait until the slot can train one (the Ray runner
        waits for its actor to be placed on a node with free CPUs)."""

    def _train(self, slot: int, run: Run, continue_training: bool) -> Ending:
        """Train ``run`` in ``slot`` to its end and say how it ended; never end or save the run here.

        ``continue_training``: the run trains on from its saved model (``RunManager.continue_run``).
        The run's ``stop_requested``, ``pause_requested`` are the user's controls; a run trained
        elsewhere (another process, a cluster) sends its progress back into this ``run`` object.
        """
        raise NotImplementedError
