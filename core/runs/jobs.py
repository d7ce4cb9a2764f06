"""The jobs a runner's slot trains beside runs (core.runs.record.Kind): the learning-rate finder and the
speed measurement. Each is a run of its own kind: its progress goes into the run as it goes (the page
polls it), Pause and Stop are honoured between batches, and its answer is the run's results. The
measurements themselves are core.training.lr_finder's and core.training.speed's; this is their run.
"""

from __future__ import annotations

import logging
import math

from core.data.datasets import load_dataset
from core.runs.record import Ending, Status
from core.runs.trainer import plain_error
from core.training import lr_finder, speed

log = logging.getLogger(__name__)


def lr_find_job(run, store=None, *, continue_training: bool = False):
    """Train a range-test job (a run of kind ``lr_find``) in a runner's slot: each batch's loss and learning
    rate go into the run as it goes (the page polls it), Pause and Stop are honoured between batches, and
    the finding is the run's results. Never raises an Exception (like ``train_run``)."""
    steps = int(run.options.get("steps", lr_finder.STEPS))
    run.begin(batches_per_epoch=steps)

    def on_batch(index: int, rate: float, loss: float) -> bool:
        run.record_batch(0, index, loss, learning_rate=rate)
        run.wait_while_paused()
        return not run.stop_requested

    try:
        finding = lr_finder.lr_range_test(run.spec, run.dataset, run.hyperparameters, steps=steps, on_batch=on_batch)
    except Exception as error:  # a job must always end with a message, never silently
        log.exception("learning-rate finder %s failed", run.id)
        return Ending(Status.FAILED, plain_error(error))
    if run.stop_requested:
        return Ending(Status.STOPPED, f"Stopped by you after {len(finding.losses)} batches.", finding.to_results())
    return Ending(Status.FINISHED, "", finding.to_results())


def speed_probe_job(run, store=None, *, continue_training: bool = False):
    """Measure the speed of a job's model (a run of kind ``speed_probe``) in a runner's slot: each training
    batch goes into the run (the page polls it), Stop is honoured between batches, and the Speed is the
    run's results. Never raises an Exception."""
    examples = int(run.options.get("examples", speed.MEASURE_EXAMPLES))
    batch_size = run.hyperparameters.batch_size
    state = {"epoch": -1}

    class Stop(Exception):
        pass

    def on_batch(epoch: int, batch: int, loss: float) -> None:
        if epoch != state["epoch"]:
            if state["epoch"] >= 0:
                run.record_epoch({"epoch": epoch})  # the epoch before this one is done
            state["epoch"] = epoch
        run.record_batch(epoch, batch, loss)
        run.wait_while_paused()
        if run.stop_requested:
            raise Stop

    try:
        fit = speed.fitted_examples(len(load_dataset(run.dataset).x_train), examples)
        run.begin(batches_per_epoch=math.ceil(fit / batch_size))
        measured = speed.measure_speed(run.spec, run.dataset, batch_size, examples, on_batch=on_batch)
    except Stop:
        return Ending(Status.STOPPED, "Stopped by you before the speed was measured.")
    except Exception as error:  # a job must always end with a message, never silently
        log.exception("speed measurement %s failed", run.id)
        return Ending(Status.FAILED, plain_error(error))
    run.record_epoch({"epoch": speed.MEASURE_EPOCHS})
    return Ending(Status.FINISHED, "", measured.to_results())
