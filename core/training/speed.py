"""This server's training speed, measured: the expected time of a run before it starts.

A short fit and predict of the actual model on this machine give seconds per training example per epoch
and per evaluated example; a run's time is then its epochs × examples, plus validation and the test set.
In the app the measurement is a job (a run of kind ``speed_probe``, core.runs.record.Kind) that a runner's
slot trains like any run (core.runs.jobs.speed_probe_job); its results are a :class:`Speed`. Only the
measurement imports Keras: the page reads a Speed without TensorFlow.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.timing import format_duration
from core.training.hyperparams import Hyperparameters

log = logging.getLogger(__name__)

MEASURE_EXAMPLES = 2048  # enough batches to time steady steps, few enough to take a few seconds
VALIDATION_SPLIT = 0.1
KEPT_SECONDS = 3600  # a finished measurement answers anyone's question for an hour (the server's load changes)
MEASURE_EPOCHS = 3  # the first builds the graphs; the others are timed at a steady pace


@dataclass(frozen=True)
class Speed:
    train_seconds_per_example: float  # one example, one epoch, forward and backward, at a steady pace
    predict_seconds_per_example: float  # validation and test: forward only
    epoch_overhead_seconds: float  # each epoch's own start and its validation's, beyond the examples
    setup_seconds: float  # building the model and its graphs, once per run

    def run_seconds(self, hp: Hyperparameters, train_available: int, test_examples: int) -> float:
        """Expected seconds of a run with these settings: training, validation each epoch, the test set."""
        examples = min(hp.limit_train or train_available, train_available)
        validation = int(examples * hp.validation_split)
        fit = examples - validation
        test = min(hp.limit_test or test_examples, test_examples)
        per_epoch = (
            fit * self.train_seconds_per_example
            + validation * self.predict_seconds_per_example
            + self.epoch_overhead_seconds
        )
        return self.setup_seconds + hp.epochs * per_epoch + test * self.predict_seconds_per_example

    def to_results(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_results(cls, results: dict | None) -> Speed | None:
        """The speed a job measured (its results); None when it has none."""
        names = [f.name for f in dataclasses.fields(cls)]
        if not results or not all(isinstance(results.get(n), (int, float)) for n in names):
            return None
        return cls(**{n: float(results[n]) for n in names})


def _timer(on_batch: Callable[[int, int, float], None] | None):
    """A Keras callback that times each epoch, its validation, and its training batches after the first
    (made here: this module imports Keras only to measure)."""
    import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs: list[float] = []
            self.validations: list[float] = []
            self.batch_spans: list[tuple[int, float]] = []  # per epoch: (batches after the first, their seconds)
            self._began = self._validation_began = self._first_batch_done = 0.0
            self._batches = 0
            self._epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self._began = time.perf_counter()
            self._batches = 0
            self._epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            self._batches += 1
            if self._batches == 1:
                self._first_batch_done = time.perf_counter()
            self._last_batch_done = time.perf_counter()
            if on_batch is not None:
                on_batch(self._epoch, batch, float((logs or {}).get("loss", math.nan)))

        def on_test_begin(self, logs=None):
            self._validation_began = time.perf_counter()

        def on_test_end(self, logs=None):
            self.validations.append(time.perf_counter() - self._validation_began)

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(time.perf_counter() - self._began)
            self.batch_spans.append((self._batches - 1, self._last_batch_done - self._first_batch_done))

    return Timer()


def measure_speed(
    spec: dict,
    dataset: str,
    batch_size: int,
    examples: int = MEASURE_EXAMPLES,
    on_batch: Callable[[int, int, float], None] | None = None,
) -> Speed:
    """Time the model on this machine as a run trains it: a first epoch (building its graphs), then
    steady epochs with their validation, and a predict as the test set gets.

    ``on_batch(epoch, batch, loss)`` is called after each training batch (a job records its progress).
    """
    from core.data.datasets import load_dataset
    from core.model.keras_build import build_model
    from core.training.fitting import PREDICT_BATCH, make_optimizer
    from core.training.tasks import TASKS

    data = load_dataset(dataset)
    task = TASKS[data.task]
    n = min(examples, len(data.x_train))
    x, y = data.as_float("x_train")[:n], data.y_train[:n]
    fit = fitted_examples(len(data.x_train), examples)
    began = time.perf_counter()
    model = build_model(spec)
    model.compile(
        optimizer=make_optimizer(Hyperparameters()), loss=task.keras_loss(Hyperparameters()), metrics=[task.metric]
    )
    timer = _timer(on_batch)
    model.fit(
        x,
        task.scaling(y, model).standardise(y),
        epochs=MEASURE_EPOCHS,
        batch_size=batch_size,
        validation_split=VALIDATION_SPLIT,
        callbacks=[timer],
        verbose=0,
    )
    built = time.perf_counter() - began - sum(timer.epochs)
    predicts = []
    for _ in range(2):  # the first predict builds its graph
        started = time.perf_counter()
        model.predict(x, batch_size=PREDICT_BATCH, verbose=0)
        predicts.append(time.perf_counter() - started)
    per_predict = predicts[1] / n
    per_batch = min(seconds / max(count, 1) for count, seconds in timer.batch_spans[1:])
    per_train = per_batch / batch_size
    steady_epoch = min(timer.epochs[1:])
    overhead = max(steady_epoch - per_train * fit - per_predict * (n - fit), 0.0)
    setup = built + (timer.epochs[0] - steady_epoch) + (predicts[0] - predicts[1])
    return Speed(per_train, per_predict, overhead, max(setup, 0.0))


def fitted_examples(train_available: int, examples: int = MEASURE_EXAMPLES) -> int:
    """The examples a measurement trains on each epoch (its others validate), from a data set of
    ``train_available``."""
    n = min(examples, train_available)
    return n - int(n * VALIDATION_SPLIT)


def job_settings(batch_size: int, examples: int = MEASURE_EXAMPLES) -> tuple[Hyperparameters, dict]:
    """The settings and options of a speed-measurement job at ``batch_size``: its epochs are the
    measurement's, so that the job's progress reads as its batches done."""
    return Hyperparameters(epochs=MEASURE_EPOCHS, batch_size=batch_size), {"examples": int(examples)}


def describe_seconds(seconds: float) -> str:
    """A run's expected time in words ("about 45 s", "about 3 min"): measured on a few batches, its seconds
    are rounded up to fives."""
    return format_duration(seconds, about=True, second_step=5)
