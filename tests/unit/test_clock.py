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


def _run_after_a_first_epoch_that_built_the_graphs(epochs: int) -> Run:
    run = Run({"layers": []}, "shapes", Hyperparameters(epochs=epochs, batch_size=100))
    run.begin(batches_per_epoch=10, eval_sizes={"validation": 1000, "test": 2000})
    for batch in range(10):
        run.record_batch(0, batch, 1.0, 0.5)
    # 10 s of training: a first batch of 1.5 s (building the graphs), then 0.5 s a batch
    run.record_epoch(
        {"epoch": 1, "seconds": 12.0, "val_seconds": 2.0, "first_batch_seconds": 1.5, "train_batch_seconds": 0.5}
    )
    return run


def later_epoch(epoch: int, seconds: float, first_batch: float = 0.5) -> dict:
    """1 s of validation; 0.5 s a batch, the first batch ``first_batch``."""
    return {
        "epoch": epoch,
        "seconds": seconds,
        "val_seconds": 1.0,
        "first_batch_seconds": first_batch,
        "train_batch_seconds": 0.5,
    }


def test_the_first_epochs_graph_building_counts_only_in_part_for_the_epochs_to_come():
    run = _run_after_a_first_epoch_that_built_the_graphs(epochs=3)
    # two more epochs of 9 s at the batches' pace + half the first batch's extra second, 2 s validation each;
    # the test set, twice the validation's size
    assert abs(run.progress().eta - (2 * (9 + 0.5 + 2) + 4)) < 0.5


def test_one_epoch_that_stalled_does_not_set_the_pace():
    run = _run_after_a_first_epoch_that_built_the_graphs(epochs=6)
    run.record_epoch(later_epoch(2, 6.0))
    run.record_epoch(later_epoch(3, 12.0, first_batch=6.5))  # stalled for 6 s before its first batch ended
    run.record_epoch(later_epoch(4, 6.0))
    # two more epochs at the usual 5 s + 1 s validation, and the test set timed like the validation
    assert abs(run.progress().eta - (2 * (5 + 1) + 2)) < 0.5


def test_a_server_that_got_busier_sets_the_pace_from_the_middle_of_the_epoch_under_way():
    run = _run_after_a_first_epoch_that_built_the_graphs(epochs=3)
    for batch in range(5):
        run.record_batch(1, batch, 1.0, 0.5)
    run.pace_started = time.time() - 8  # batches 2 to 5 of 10 took 8 s: 2 s a batch, 20 s an epoch
    # the half left of this epoch at that pace and its validation, one more epoch (and its first batch's
    # start-up), the test set
    assert abs(run.progress().eta - (10 + 2 + 20.5 + 2 + 4)) < 0.5


def test_early_in_an_epoch_its_pace_counts_only_in_part():
    run = _run_after_a_first_epoch_that_built_the_graphs(epochs=3)
    for batch in range(4):
        run.record_batch(1, batch, 1.0, 0.5)
    run.pace_started = time.time() - 6  # batches 2 to 4 took 6 s: 20 s an epoch at that pace
    pace = 0.2 * 9 + 0.8 * 20  # 4 of 10 batches done: 80 % of the way to trusting it alone
    assert abs(run.progress().eta - (pace * 0.6 + 2 + pace + 0.5 + 2 + 4)) < 0.5


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
    run.pace_started = time.time() - 4  # the four batches after the first, 1 s each
    eta = run.progress().eta
    training_left = 15 * 1.0  # 15 batches at 1 s each
    assert eta > training_left


def test_saving_the_model_after_the_test_set_counts_as_long_as_it_last_took():
    run = _run_after_one_epoch()
    without = run.progress().eta
    run.saving_seconds = 3.0  # what the worker measured when it saved its previous run
    assert abs(run.progress().eta - (without + 3.0)) < 0.1
