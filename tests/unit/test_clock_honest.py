"""The time left in the first epoch, the clocks across a pause, and the training time of a stopped run."""

import threading
import time

from core.runs.record import Run
from core.training.hyperparams import Hyperparameters


def _first_epoch_run(first_batch: float, per_batch: float, batches: int) -> Run:
    """A run at batch ``batches`` of its first of 2 epochs (100 batches each): the first batch took
    ``first_batch`` seconds (building the graphs), every later one ``per_batch``."""
    run = Run({"layers": []}, "shapes", Hyperparameters(epochs=2, batch_size=100))
    run.begin(batches_per_epoch=100, eval_sizes={})
    now = time.time()
    for batch in range(batches):
        run.record_batch(0, batch, 1.0, 0.5)
    run.started = now - first_batch - per_batch * (batches - 1)
    run.pace_started = now - per_batch * (batches - 1)
    return run


def test_in_the_first_epoch_the_graph_building_batch_is_paid_once_not_per_batch():
    # 6 s for the first batch, then 0.1 s a batch; 20 of 200 batches done: about 18 s of training left
    eta = _first_epoch_run(first_batch=6.0, per_batch=0.1, batches=20).progress().eta
    assert 17.0 < eta < 19.5, eta  # the whole elapsed time per batch would have said about 71 s


def _paused(run: Run, seconds: float) -> float:
    """Pause the run for ``seconds`` as its worker would between batches; returns what the worker was told."""
    run.request_pause()
    told = []
    worker = threading.Thread(target=lambda: told.append(run.wait_while_paused()))
    worker.start()
    deadline = time.monotonic() + 10  # from when the worker really waits: a busy machine starts it late
    while run.paused_since is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(seconds)
    run.resume()
    worker.join(5)
    return told[0]


def test_the_clocks_stand_still_while_paused_and_go_on_from_there_after_resume():
    run = _first_epoch_run(first_batch=1.0, per_batch=0.1, batches=20)
    run.request_pause()
    worker = threading.Thread(target=run.wait_while_paused)
    worker.start()
    deadline = time.monotonic() + 10  # the worker reaches its pause when the machine lets it (no fixed sleep)
    while run.paused_since is None and time.monotonic() < deadline:
        time.sleep(0.01)
    at_pause = run.progress()
    time.sleep(1.0)
    during = run.progress()
    assert during.status == "paused"
    assert during.elapsed == at_pause.elapsed and during.eta == at_pause.eta  # the pause is not training time
    run.resume()
    worker.join(5)
    after = run.progress()
    # A second of pause counted would show as 1 s more elapsed (and a jump in the time left); a busy machine
    # may take a moment between Resume and the reading, never a second.
    assert 0 <= after.elapsed - at_pause.elapsed < 0.5
    assert abs(after.eta - at_pause.eta) < 0.5  # no jump after Resume


def test_the_worker_is_told_how_long_it_was_paused():
    run = _first_epoch_run(first_batch=1.0, per_batch=0.1, batches=5)
    assert run.wait_while_paused() == 0.0
    assert 0.3 <= _paused(run, 0.4) < 2.0


def test_training_time_leaves_the_pause_out_and_a_run_stopped_in_its_first_epoch_took_time():
    run = Run({"layers": []}, "shapes", Hyperparameters(epochs=5, batch_size=100))
    run.begin(batches_per_epoch=100, eval_sizes={})
    run.record_batch(0, 0, 1.0, 0.5)
    time.sleep(0.3)
    _paused(run, 0.5)
    run.request_stop()
    run.set_phase("testing")  # stopped in its first epoch: the test set is measured next
    trained = run.training_seconds()
    assert 0.25 < trained < 0.75, trained  # about 0.3 s: not 0, and not with the 0.5 s pause (0.8 s)
    time.sleep(0.2)
    assert run.training_seconds() == trained  # the test set and saving are not training


def test_a_run_read_from_the_store_gives_its_recorded_training_time():
    record = Run({"layers": []}, "shapes", Hyperparameters(epochs=1)).summary_record()
    record.update(status="stopped", results={"train_seconds": 12.5})
    assert Run.from_record(record).training_seconds() == 12.5
