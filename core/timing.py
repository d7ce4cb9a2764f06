"""Time, in one place: how long things take, said in words, and the time left of a training run.

At the bottom of the engine (nothing of core below it): a run (core.runs.record), the Experiment page
and the Teacher page's expected time all say durations through ``format_duration``.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

_ROUNDING = 1e-6  # 54.000000001 s is 54 s: a forecast is rounded up, but not for float dust


def format_duration(seconds: float | None, *, about: bool = False, second_step: int = 1, clock: bool = True) -> str:
    """A duration in words.

    Measured (``about=False``): "42 s", "2 min 05 s", "1 h 02 min"; "—" when there is none.
    A forecast (``about=True``) is rounded up as one should be: "about 45 s", "about 3 min",
    "about 1 h 10 min".

    Args:
        clock: a measured time as a clock shows it, the seconds in two digits so that a ticking figure
            keeps its width ("2 min 05 s"); False in a sentence ("reached 90 % in 2 min 5 s").
        second_step: a forecast under a minute is rounded up to a multiple of this many seconds (5 for a
            forecast from a few timed batches, whose last second is not known).
    """
    if seconds is None:
        return "—"
    if about:
        if seconds < 60:
            return f"about {max(second_step, second_step * math.ceil(seconds / second_step - _ROUNDING))} s"
        minutes = math.ceil(seconds / 60 - _ROUNDING)
        return f"about {minutes} min" if minutes < 60 else f"about {minutes // 60} h {minutes % 60} min"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    digits = "02d" if clock else "d"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:{digits}} s"
    return f"{whole // 3600} h {whole % 3600 // 60:{digits}} min"


@dataclass(frozen=True)
class TrainingClock:
    """What the clock of a training run reads (core.runs.record.Run fills it in, under its lock).

    Args:
        measured: the epochs trained in this session (since the latest "train more"), each with its
            ``seconds`` (and ``val_seconds``, ``train_batch_seconds``, ``first_batch_seconds`` when timed).
        eval_sizes: {"validation": n, "test": n}, examples evaluated each epoch and at the end.
        saving_seconds: saving the model and predictions after the test set, as last measured.
        pace_started: when the current epoch's first batch ended (its pace is taken from there on).
        epoch_started: when the current epoch began.
    """

    epochs: int
    batches_per_epoch: int
    batch_size: int
    epoch: int  # epochs done
    batch: int  # batches done in the epoch under way
    measured: list
    eval_sizes: dict
    saving_seconds: float = 0.0
    pace_started: float | None = None
    epoch_started: float | None = None

    def seconds_left(self, now: float, elapsed: float) -> float | None:
        """Training, validation and test evaluation still to come, in seconds; None before the first batch.

        From the end of the first epoch on it uses what was measured: the epochs trained so far (see
        ``epoch_pace``) blended with the pace of the epoch under way as it gets done, the
        latest validation, the test set timed like the validation, scaled by its size, and saving the
        model as long as it last took in this worker. Before that, the time per batch so far.
        """
        per_epoch = self.batches_per_epoch
        total = self.epochs * per_epoch
        done = self.epoch * per_epoch + self.batch
        if not total or not done:
            return None
        sizes = self.eval_sizes
        measured = self.measured
        if not measured:  # in the first epoch: batches so far, and validation guessed at 1/3 of training speed
            per_batch = elapsed / done
            if self.batch >= 3 and self.pace_started is not None:
                # The first batch builds the model's graphs (seconds, on a cold server): it is paid once, not
                # once per batch, so the pace is taken from the batches after it.
                per_batch = (now - self.pace_started) / (self.batch - 1)
            per_example = per_batch / max(self.batch_size, 1) / 3
            evaluation = sizes.get("validation", 0) * (self.epochs - self.epoch) + sizes.get("test", 0)
            return (total - done) * per_batch + per_example * evaluation + self.saving_seconds
        latest = measured[-1]
        batch_size = max(self.batch_size, 1)
        val_examples = sizes.get("validation", 0)
        first_of_session = len(measured) == 1  # its time includes building the model's graphs
        steady, start_up = epoch_pace(measured, per_epoch)
        if self.batch >= 4 and self.pace_started is not None:
            # The pace of the epoch under way counts more as more of it is done, and alone from its middle
            # on: it follows a server that got busier or quieter, while a few batches' jitter does not.
            weight = min(1.0, 2 * self.batch / per_epoch)
            current = (now - self.pace_started) / (self.batch - 1) * per_epoch
            steady = (1 - weight) * steady + weight * current
        train = steady + start_up
        validation = latest.get("val_seconds", 0.0)
        val_batches = math.ceil(val_examples / batch_size)
        first = measured[0]
        steady_first_validation = first.get("val_batch_seconds", 0.0) * val_batches
        # The first evaluation builds its graph; the test set's predict builds its own once too.
        eval_setup = (
            max(first.get("val_seconds", 0.0) - steady_first_validation, 0.0) if steady_first_validation else 0.0
        )
        if first_of_session and steady_first_validation:
            validation = min(validation, steady_first_validation)
        if val_examples and validation:
            test = eval_setup + validation / val_examples * sizes.get("test", 0)  # timed like the validation
        else:  # no validation to time: a forward pass costs about a third of a training step
            test = train / max(per_epoch * batch_size, 1) / 3 * sizes.get("test", 0)
        test += self.saving_seconds
        epochs_left = self.epochs - self.epoch
        if epochs_left <= 0:
            return test
        if self.batch:  # the rest of the epoch under way, by the batches still to train
            current_left = steady * (per_epoch - self.batch) / per_epoch + validation
        else:  # between epochs, or a worker that reports no batches: by the time since the epoch began
            in_epoch = max(now - self.epoch_started, 0.0) if self.epoch_started is not None else 0.0
            current_left = max(train + validation - in_epoch, 0.0)
        return current_left + (epochs_left - 1) * (train + validation) + test


def epoch_pace(measured: list[dict], per_epoch: int) -> tuple[float, float]:
    """(steady, start-up): an epoch's training time at its batches' pace, and what its first batch takes
    beyond that (a new pass over the data; in the session's first epoch, building the graphs too), for
    the epochs to come.

    Each is the median of the latest three epochs, so that one epoch that stalled for a second (it
    happens, now and then, on a busy server) does not set the pace. The start-up leaves out the first
    epoch once later ones were measured; until then it is half of the first's, about what later
    epochs' first batches took on average on the development machine (bench/clock.py --verbose).
    """

    def parts(epoch: dict) -> tuple[float, float | None]:
        training = epoch["seconds"] - epoch.get("val_seconds", 0.0)
        if "first_batch_seconds" in epoch:
            extra = max(epoch["first_batch_seconds"] - epoch["train_batch_seconds"], 0.0)
            return training - extra, extra
        if "train_batch_seconds" in epoch:  # recorded before first batches were timed
            return epoch["train_batch_seconds"] * per_epoch, None
        return training, None

    split = [parts(e) for e in measured]
    steady = statistics.median([pace for pace, _ in split][-3:])
    later = [extra for _, extra in split[1:] if extra is not None]
    if later:
        return steady, statistics.median(later[-3:])
    first_extra = split[0][1]
    return steady, (first_extra or 0.0) / 2
