"""The time left shown during a run: measured epochs, validation and the test set; never 0 while testing."""

import time

from core.runs.record import Run
from core.training.hyperparams import Hyperparameters


def _run_after_one_epoch(epochs=3) -> Run:
    run = Run({"layers": []}, "shapes", Hyperparameters(epochs=epochs, batch_size=100))
    run.begin(batches_per_epoch=10, eval_sizes={"validation": 1000, "test": 2000})
    run.started = time.time() - 12
    for batch in range(10):
        run.record_batch(0, batch, 1.0, 0.5)
    run.record_epoch({"epoch": 1, "seconds": 12.0, "val_seconds": 2.0})
    return run


def test_time_left_counts_the_epochs_validation_and_test_set():
    run = _run_after_one_epoch()
    eta = run.progress().eta
    # two more epochs of 10 s training + 2 s validation, and a test set twice the validation's size
    assert abs(eta - (2 * 12 + 2 * 2000 / 1000)) < 0.5


def test_time_left_drops_while_an_epoch_runs():
    run = _run_after_one_epoch()
    run.epoch_started = time.time() - 6  # halfway through the second epoch
    assert abs(run.progress().eta - (12 + 6 + 4)) < 0.5


def test_later_epochs_set_the_pace_not_the_first_with_its_set_up():
    run = _run_after_one_epoch(epochs=4)
    run.record_epoch({"epoch": 2, "seconds": 6.0, "val_seconds": 1.0})  # the first one built the graph
    assert abs(run.progress().eta - (2 * 6 + 1 * 2000 / 1000)) < 0.5


def test_while_the_test_set_is_evaluated_no_time_is_claimed_but_the_phase_is_said():
    run = _run_after_one_epoch(epochs=1)
    run.set_phase("testing")
    progress = run.progress()
    assert progress.eta is None and progress.phase == "testing"


def test_in_the_first_epoch_the_estimate_includes_evaluation():
    run = Run({"layers": []}, "shapes", Hyperparameters(epochs=2, batch_size=100))
    run.begin(batches_per_epoch=10, eval_sizes={"validation": 300, "test": 900})
    run.started = time.time() - 5
    for batch in range(5):
        run.record_batch(0, batch, 1.0, 0.5)
    eta = run.progress().eta
    training_left = 15 * 1.0  # 15 batches at 1 s each
    assert eta > training_left
