"""Learning-rate finder: one short range test, the learning rate rising exponentially batch after batch on a
fresh copy of the model, and a suggestion read from how the loss responded, with why.

:func:`suggest_learning_rate` is pure NumPy (unit-tested on synthetic curves); :func:`lr_range_test`
trains with Keras. In the app the test is a job (a run of kind ``lr_find``, core.runs.record.Kind) that a
runner's slot trains like any run: :func:`lr_find_job` records each batch into the run and keeps the
finding as its results (:meth:`LrFinding.from_results` reads it back, without TensorFlow).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

MIN_LR = 1e-5
MAX_LR = 1.0
STEPS = 200
DIVERGED = 4.0  # the test ends when the smoothed loss exceeds this many times its lowest value
SMOOTHING = 0.9

log = logging.getLogger(__name__)


@dataclass
class LrFinding:
    learning_rates: list[float]
    losses: list[float]  # each batch's own loss
    smoothed: list[float]
    suggestion: float | None
    reason: str
    lowest: float | None = None  # the learning rate with the lowest smoothed loss
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_results(self) -> dict:
        """The finding as a run's results (JSON: lists and numbers)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_results(cls, results: dict | None) -> LrFinding | None:
        """The finding a job saved in its results; None when it has none (it failed, or was stopped early)."""
        names = {f.name for f in dataclasses.fields(cls)}
        if not results or not {"learning_rates", "losses", "reason"} <= set(results):
            return None
        return cls(**{k: v for k, v in results.items() if k in names})


def smooth(losses, beta: float = SMOOTHING) -> np.ndarray:
    """Exponential moving average with bias correction (the first values are not pulled towards 0)."""
    out, average = [], 0.0
    for i, loss in enumerate(losses, start=1):
        average = beta * average + (1 - beta) * float(loss)
        out.append(average / (1 - beta**i))
    return np.array(out)


def lr_schedule(steps: int = STEPS, min_lr: float = MIN_LR, max_lr: float = MAX_LR) -> np.ndarray:
    """The learning rate of each batch: from min_lr to max_lr, multiplied by the same factor each step."""
    return min_lr * (max_lr / min_lr) ** (np.arange(steps) / max(steps - 1, 1))


def suggest_learning_rate(learning_rates, losses, blew_up: bool = False) -> LrFinding:
    """The learning rate where the smoothed loss fell fastest (steepest slope against log10 of the rate),
    looked for before the loss's lowest point; the reason says why, with the numbers.

    ``blew_up``: the test ended early because the loss exploded at the last learning rate.
    """
    lrs = np.asarray(learning_rates, dtype=float)
    raw = np.asarray(losses, dtype=float)
    finite = np.isfinite(raw)
    if finite.sum() < 10:
        return LrFinding(lrs.tolist(), raw.tolist(), [], None, "Too few batches gave a usable loss to suggest a value.")
    cut = int(np.argmin(finite)) if not finite.all() else len(raw)  # stop at the first NaN/inf
    lrs, raw = lrs[:cut], raw[:cut]
    smoothed = smooth(raw)
    lowest_index = int(np.argmin(smoothed))
    above = np.nonzero(smoothed[lowest_index:] > DIVERGED * smoothed[lowest_index])[0]
    end = lowest_index + int(above[0]) if above.size else len(smoothed)
    finding = LrFinding(lrs.tolist(), raw.tolist(), smoothed.tolist(), None, "", lowest=float(lrs[lowest_index]))
    if lowest_index < 5 or smoothed[lowest_index] > 0.95 * smoothed[0]:
        finding.reason = (
            f"The loss hardly fell anywhere between {lrs[0]:.0e} and {lrs[end - 1]:.0e} "
            f"(lowest {smoothed[lowest_index]:.3g} against {smoothed[0]:.3g} at the start): no clear value to "
            "suggest. Check the model on Build, or keep the optimizer's default."
        )
        return finding
    slopes = np.gradient(smoothed[: lowest_index + 1], np.log10(lrs[: lowest_index + 1]))
    # Skip the first few noisy batches; the steepest fall lies between the start and the lowest point.
    start = min(len(slopes) - 1, max(1, len(slopes) // 10))
    steepest = start + int(np.argmin(slopes[start:]))
    suggestion = float(f"{lrs[steepest]:.2g}")
    finding.suggestion = suggestion
    if end < len(smoothed) or blew_up:
        diverged = f" and shot up after {lrs[end - 1]:.1e}"
    else:
        diverged = f", and had not yet blown up at {lrs[-1]:.1e}"
    finding.reason = (
        f"The loss fell fastest at a learning rate of {suggestion:g} (by {-slopes[steepest]:.2f} per tenfold step); "
        f"it was lowest at {lrs[lowest_index]:.1e} ({smoothed[lowest_index]:.3g}){diverged}. A value where the loss "
        "still falls steeply learns fast without the risk of the lowest point, which is close to where training "
        "becomes unstable."
    )
    return finding


def lr_range_test(
    spec: dict,
    dataset_name: str,
    hyperparameters,
    *,
    steps: int = STEPS,
    min_lr: float = MIN_LR,
    max_lr: float = MAX_LR,
    on_batch: Callable[[int, float, float], bool] | None = None,
) -> LrFinding:
    """Train a fresh copy of the model for up to ``steps`` batches, the learning rate rising from min_lr to
    max_lr; stop early once the loss blows up. Uses the settings' optimizer, batch size, seed and subset.

    ``on_batch(index, learning_rate, loss)`` is called after each batch; when it returns False the test
    ends there (the user pressed Stop), and the finding is read from the batches so far.
    """
    import time

    import keras

    from core.data.datasets import load_dataset
    from core.model.keras_build import build_model
    from core.training.fitting import fit_input, make_optimizer
    from core.training.tasks import TASKS

    hp = hyperparameters
    data = load_dataset(dataset_name)
    task = TASKS[data.task]
    x = fit_input(data, "x_train")  # a worker's: the tensor it holds, not a second copy
    y = data.y_train
    if hp.limit_train:
        x, y = x[: hp.limit_train], y[: hp.limit_train]
    schedule = lr_schedule(steps, min_lr, max_lr)
    began = time.perf_counter()
    keras.utils.set_random_seed(hp.seed)
    model = build_model(spec)
    model.compile(optimizer=make_optimizer(hp), loss=task.keras_loss(hp))
    scaling = task.scaling(y, model)  # a regression trains on standardised targets, as in a real run
    model.optimizer.learning_rate.assign(float(schedule[0]))
    recorded: list[float] = []

    class RangeTest(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.previous_mean = 0.0
            self.best = math.inf
            self.interrupted = False

        def on_epoch_begin(self, epoch, logs=None):
            self.previous_mean = 0.0

        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.learning_rate.assign(float(schedule[len(recorded)]))

        def on_train_batch_end(self, batch, logs=None):
            mean = float((logs or {}).get("loss", math.nan))
            k = batch + 1  # Keras reports the mean over the epoch so far: recover this batch's own loss
            own = mean if k == 1 else k * mean - (k - 1) * self.previous_mean
            self.previous_mean = mean
            recorded.append(own)
            if math.isfinite(own):
                self.best = min(self.best, own)
            if on_batch is not None and not on_batch(len(recorded) - 1, float(schedule[len(recorded) - 1]), own):
                self.interrupted = True
                self.model.stop_training = True
            if len(recorded) >= steps or not math.isfinite(own) or own > 2 * DIVERGED * self.best:
                self.model.stop_training = True

    batches_per_epoch = max(1, math.ceil(len(x) / hp.batch_size))
    range_test = RangeTest()
    model.fit(
        x,
        scaling.standardise(y),
        batch_size=hp.batch_size,
        epochs=math.ceil(steps / batches_per_epoch),
        shuffle=True,
        callbacks=[range_test],
        verbose=0,
    )
    blew_up = len(recorded) < steps and not range_test.interrupted
    finding = suggest_learning_rate(schedule[: len(recorded)], recorded, blew_up=blew_up)
    finding.seconds = time.perf_counter() - began
    if data.task != "classification":
        finding.notes.append("Losses are on standardised targets, as the model trains on them.")
    return finding


def job_settings(hyperparameters, steps: int = STEPS) -> tuple:
    """The settings and options of a range-test job for a model trained with ``hyperparameters``: one
    "epoch" of ``steps`` batches, so that the job's progress reads as batches done of the test's."""
    from core.training.hyperparams import Hyperparameters

    return Hyperparameters.from_dict({**hyperparameters.to_dict(), "epochs": 1}), {"steps": int(steps)}
