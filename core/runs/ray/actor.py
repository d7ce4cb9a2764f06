"""The training actor: one warm trainer on a cluster node, training one run at a time.

It trains with the same trainer as the other runners, on the worker's copy of the run (core.runs.relay:
``WorkerSide``), whose events wait here in order (``EventLog``) until the server polls them. Nothing the
server needs stays on the node's disk: the model is saved to a scratch folder, read back as bytes and
deleted, and the bytes go back through Ray to the server's store.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from core.runs.record import Event
from core.runs.relay import WorkerSide
from core.runs.runners import KerasTrainer, Trainer
from core.runs.store import RunStore


class EventLog:
    """What the worker's copy of a run sends, kept in order in the actor until the server has polled it."""

    def __init__(self):
        self._events: list[Event] = []
        self._changed = threading.Condition()
        self.finished = False

    def send(self, event: Event) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def finish(self) -> None:
        with self._changed:
            self.finished = True
            self._changed.notify_all()

    def since(self, index: int, wait: float) -> tuple[list[Event], bool]:
        """The events after the first ``index``, waiting up to ``wait`` seconds for one to come."""
        with self._changed:
            if len(self._events) <= index and not self.finished:
                self._changed.wait(wait)
            return self._events[index:], self.finished

    def __len__(self) -> int:
        with self._changed:
            return len(self._events)


def _read_bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


def _warm_tensorflow() -> None:
    """Import TensorFlow and run one tiny convolutional fit, so a learner's first batch does not pay for
    loading the kernels (each run sets its own seeds)."""
    import keras
    import numpy as np

    import core.runs.trainer  # noqa: F401  (what execute_run needs, imported before the first Train)

    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(2, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(np.zeros((4, 8, 8, 1), "float32"), np.zeros(4, "int64"), batch_size=2, verbose=0)
    keras.backend.clear_session()


class TrainingActor:
    """One warm trainer on a cluster node: TensorFlow imported, data sets cached; trains one run at a time.

    Wrapped with ``ray.remote`` by the runner (so this module imports without Ray).
    """

    def __init__(self, threads: int, datasets: dict, trainer: Trainer):
        """Args:
        threads: TensorFlow's threads (the CPUs this actor asked for).
        datasets: name -> object ref of the data sets to have ready before the first run.
        trainer: what trains a run (core.runs.runners.Trainer), the same as the other runners use.
        """
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        self._trainer = trainer
        trainer.prepare(threads)
        if isinstance(trainer, KerasTrainer):
            _warm_tensorflow()
        self._lock = threading.Lock()
        self._datasets: dict[str, str] = {}  # name -> object id of the copy installed here
        self._side = WorkerSide()  # the run under way (or whose outcome waits), and its controls
        self._events: EventLog | None = None
        self._outcome: tuple | None = None
        self.warm(datasets)  # in the constructor: the actor answers `ready` only once it is warm

    def ready(self) -> str:
        """The id of the node this actor lives on (answered once the actor has started)."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def warm(self, datasets: dict) -> None:
        """Pull data sets from the object store (once per node; actors on a node share the copy)."""
        import ray

        from core.data.datasets import provide_dataset

        for name, ref in datasets.items():
            with self._lock:
                if self._datasets.get(name) == ref.hex():
                    continue
            dataset = ray.get(ref)
            provide_dataset(dataset)
            for part in ("x_train", "x_test"):
                dataset.as_float(part)  # the trainer's float copy, made now rather than at Train
            with self._lock:
                self._datasets[name] = ref.hex()

    def train(self, job: dict) -> None:
        """Train one run to its end; its events and outcome wait here until the server collects them.

        ``job``: a core.runs.relay.Job as a dict, with its data set's object ref (``data``) and, to train on,
        its saved model's bytes (``model``).
        """
        self.warm(job["data"])
        events = EventLog()
        with self._lock:
            self._events, self._outcome = events, None
            run, taken = self._side.take(job, events.send)
        # A scratch store, deleted below: the model and predictions go back to the server as bytes.
        scratch = tempfile.mkdtemp(prefix="cnn-playground-")
        try:
            store = RunStore(scratch)
            if taken.model is not None:
                store.model_path(run.id).write_bytes(taken.model)
            ending = self._trainer.train(run, store, continue_training=taken.continue_training)
            outcome = (
                Event.done(run, ending),
                _read_bytes(store.model_path(run.id)),
                _read_bytes(store.predictions_path(run.id)),
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        with self._lock:
            self._outcome = outcome
        events.finish()

    def updates(self, since: int, wait: float) -> tuple[list[Event], bool]:
        """The run's events after the first ``since``, and whether its outcome is ready to collect."""
        with self._lock:
            events = self._events
        if events is None:
            time.sleep(min(wait, 0.05))
            return [], False
        return events.since(since, wait)

    def control(self, command: str) -> bool:
        """Pass the user's Stop, Pause or Resume to the run; False when no run is training yet."""
        return self._side.command(command)

    def holding(self) -> str | None:
        """The id of the run this actor trains or holds the outcome of, if any."""
        run = self._side.run
        return run.id if run is not None else None

    def snapshot(self) -> tuple[dict, list, list, int]:
        """The run as it is now, and how many events it has sent (for a restarted server to follow it)."""
        with self._lock:
            run, events = self._side.run, self._events
        return run.summary_record(), run.batch_history(), run.epoch_history(), len(events)

    def collect(self) -> tuple:
        """The final ``Event.DONE``, the model's and predictions' bytes; the actor is then free."""
        with self._lock:
            outcome = self._outcome
            self._events = self._outcome = None
            self._side.release()
        return outcome
