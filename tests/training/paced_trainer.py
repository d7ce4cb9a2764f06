"""A trainer for worker processes that trains nothing, at a steady pace: for the tests of what the process
runner does around a run (a worker killed mid-run, a worker that must not import the parent's __main__), where
a real training would only add TensorFlow's import (several CPU seconds) to every worker started.

Unlike tests/helpers.py's FakeTrainer it can be sent to a spawned worker (it pickles, and this module imports
only the run record), and it takes ``seconds_per_batch`` per batch, so that a run is still under way while a
test acts on it. It records batches and epochs into the run as the Keras trainer does, and honours Pause and
Stop between batches. It serves the experiment engine's tests too (tests/training/test_experiments_cli.py), where
a real training of each variant would only add TensorFlow's tracing of each model: the CLI's tests train for real.
"""

import time

from core.runs.record import Ending, Run, Status

RESULTS = {"test_accuracy": 0.5, "test_loss": 1.0, "test_examples": 2}


class PacedTrainer:
    def __init__(self, seconds_per_batch: float = 0.02, batches_per_epoch: int = 3):
        self.seconds_per_batch = seconds_per_batch
        self.batches_per_epoch = batches_per_epoch

    def prepare(self, threads: int) -> None:
        """Nothing to import: no TensorFlow in this worker."""

    def train(self, run: Run, store, *, continue_training: bool = False) -> Ending:
        started = time.monotonic()
        run.begin(self.batches_per_epoch)
        for epoch in range(run.epoch if continue_training else 0, run.hyperparameters.epochs):
            for batch in range(self.batches_per_epoch):
                time.sleep(self.seconds_per_batch)
                run.record_batch(epoch, batch, loss=1.0 / (epoch + batch + 1), accuracy=0.5)
                run.wait_while_paused()
                if run.stop_requested:
                    return Ending(Status.STOPPED, f"Stopped by you after {run.epoch} complete epoch(s).", RESULTS)
            run.record_epoch({"epoch": epoch + 1, "loss": 0.5, "accuracy": 0.5, "seconds": 0.001})
        # As the Keras trainer does, the results say how long the run trained (an experiment's table shows it).
        return Ending(Status.FINISHED, "", {**RESULTS, "train_seconds": time.monotonic() - started})
