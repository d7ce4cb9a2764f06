"""This server's training speed, measured: the expected time of a run before it starts.

A short fit and predict of the actual model on this machine give seconds per training example per epoch
and per evaluated example; a run's time is then its epochs × examples, plus validation and the test set.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from core.data.datasets import load_dataset
from core.model.spec import build_model
from core.training.hyperparams import Hyperparameters
from core.training.tasks import TASKS
from core.training.trainer import PREDICT_BATCH, make_optimizer

MEASURE_EXAMPLES = 1024  # enough batches to time steady steps, few enough to take a second or two


@dataclass(frozen=True)
class Speed:
    train_seconds_per_example: float  # one example, one epoch, forward and backward
    predict_seconds_per_example: float  # validation and test: forward only
    setup_seconds: float  # building the model and its graphs, once per run

    def run_seconds(self, hp: Hyperparameters, train_available: int, test_examples: int) -> float:
        """Expected seconds of a run with these settings: training, validation each epoch, the test set."""
        examples = min(hp.limit_train or train_available, train_available)
        validation = int(examples * hp.validation_split)
        fit = examples - validation
        test = min(hp.limit_test or test_examples, test_examples)
        per_epoch = fit * self.train_seconds_per_example + validation * self.predict_seconds_per_example
        return self.setup_seconds + hp.epochs * per_epoch + test * self.predict_seconds_per_example


def measure_speed(spec: dict, dataset: str, batch_size: int, examples: int = MEASURE_EXAMPLES) -> Speed:
    """Time the model on this machine: a first epoch (building its graphs), then steady epochs and a predict."""
    data = load_dataset(dataset)
    task = TASKS[data.task]
    n = min(examples, len(data.x_train))
    x, y = data.as_float("x_train")[:n], data.y_train[:n]
    began = time.perf_counter()
    model = build_model(spec)
    model.compile(
        optimizer=make_optimizer(Hyperparameters()), loss=task.keras_loss(Hyperparameters()), metrics=[task.metric]
    )
    targets = task.scaling(y, model).standardise(y)
    model.fit(x, targets, epochs=1, batch_size=batch_size, verbose=0)
    model.predict(x[:batch_size], batch_size=PREDICT_BATCH, verbose=0)
    first = time.perf_counter() - began
    steady = []
    for _ in range(2):
        started = time.perf_counter()
        model.fit(x, targets, epochs=1, batch_size=batch_size, verbose=0)
        steady.append((time.perf_counter() - started) / n)
    predicts = []
    for _ in range(2):  # the first predict of a new batch shape builds its graph
        started = time.perf_counter()
        model.predict(x, batch_size=PREDICT_BATCH, verbose=0)
        predicts.append((time.perf_counter() - started) / n)
    predict = min(predicts)
    train = min(steady)
    return Speed(train, predict, max(first - train * n, 0.0))


def describe_seconds(seconds: float) -> str:
    """About 40 s / about 3 min / about 1 h 10 min, rounded as a forecast should be."""
    if seconds < 60:
        return f"about {max(5, 5 * math.ceil(seconds / 5))} s"
    minutes = math.ceil(seconds / 60)
    return f"about {minutes} min" if minutes < 60 else f"about {minutes // 60} h {minutes % 60} min"
