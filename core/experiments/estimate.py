"""How long an experiment will take, from the measured speed of past runs on this server.

Each ended run in the store tells how many seconds one training example took through one epoch at its
parameter count, and how long the rest of the run took (building, testing and saving the model). A
variant's time is its examples × epochs times the speed of the past runs nearest to it in parameters (on
a log scale) — scaled along the trend when the past runs span several sizes — plus the past runs' median
rest. The total wall time divides the sum by the training slots that run at once.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from core.timing import format_duration

NEIGHBOURS = 5


@dataclass(frozen=True)
class PastRunSpeed:
    params: int
    seconds_per_example: float  # one example through one epoch, while it trained
    overhead: float = 0.0  # the rest of the run: building the model, testing it, saving it


@dataclass(frozen=True)
class Estimate:
    total_seconds: float  # the sum of the runs' own times
    wall_seconds: float  # with ``slots`` runs training at once
    per_variant: list[float]
    basis: str  # what it was measured from, in words

    def text(self) -> str:
        return f"{format_duration(self.wall_seconds, about=True)} ({self.basis})"


def fit_examples(hp, train_size: int) -> int:
    """Examples one epoch of these settings trains on (the validation share is held out)."""
    n = min(hp.limit_train, train_size) if hp.limit_train else train_size
    return n - int(n * hp.validation_split)


def past_speeds(runs, train_size: Callable[[str], int | None]) -> list[PastRunSpeed]:
    """The speed of every ended run that trained at least one epoch; ``train_size(dataset)`` gives a data
    set's training examples (None when it is gone)."""
    speeds = []
    for run in runs:
        seconds = (run.results or {}).get("train_seconds")
        epochs = len(run.epoch_history()) or run.epoch
        if not seconds or not epochs or run.active or run.params <= 0:
            continue
        size = train_size(run.dataset)
        if not size:
            continue
        examples = fit_examples(run.hyperparameters, size) * epochs
        if examples > 0:
            speeds.append(PastRunSpeed(run.params, seconds / examples, _overhead(run, seconds)))
    return speeds


def _overhead(run, train_seconds: float) -> float:
    """The run's time from start to end beyond its training epochs (0 when not known)."""
    if not run.started or not run.ended:
        return 0.0
    return max(0.0, run.ended - run.started - (run.paused_seconds or 0.0) - train_seconds)


def measured_speeds(store, dataset: str, train_size: int) -> list[PastRunSpeed]:
    """The speed of every ended run on ``dataset`` in the store, whoever trained it: only their timings and
    sizes are read, and only this aggregate is ever shown."""
    return past_speeds(store.list(), lambda name: train_size if name == dataset else None)


def _trend(speeds: list[PastRunSpeed]) -> float:
    """Slope of log(seconds per example) against log(params), kept between 0 and 1 (bigger is not faster;
    time grows at most in proportion)."""
    xs = [math.log(s.params) for s in speeds]
    ys = [math.log(s.seconds_per_example) for s in speeds]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread < 0.25:  # all about one size: no trend to read
        return 0.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread
    return min(max(slope, 0.0), 1.0)


def seconds_per_example(params: int, speeds: list[PastRunSpeed]) -> float:
    nearest = sorted(speeds, key=lambda s: abs(math.log(s.params) - math.log(max(params, 1))))[:NEIGHBOURS]
    slope = _trend(speeds) if len(speeds) >= 3 else 0.0
    scaled = [s.seconds_per_example * (max(params, 1) / s.params) ** slope for s in nearest]
    return statistics.median(scaled)


def estimate_plan(variants, train_size: int, speeds: list[PastRunSpeed], slots: int = 1) -> Estimate | None:
    """The time of the variants that will run; None when no past run has been measured yet."""
    if not speeds:
        return None
    overhead = statistics.median(s.overhead for s in speeds)
    per_variant = [
        seconds_per_example(v.params, speeds) * fit_examples(v.hyperparameters, train_size) * v.hyperparameters.epochs
        + overhead
        for v in variants
    ]
    total = sum(per_variant)
    slots = max(1, min(slots, len(per_variant) or 1))
    basis = f"from the speed of {len(speeds)} past run{'s' if len(speeds) != 1 else ''} on this server"
    if slots > 1:
        basis += f", {slots} training at once"
    return Estimate(total, total / slots, per_variant, basis)
