"""The app's process runner starts its worker processes after its first page, not with the server."""

from core.runs.manager import RunManager
from core.runs.record import Status
from core.runs.runners import KerasTrainer
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
QUICK = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=50)


def test_workers_start_when_asked_once_and_train_the_runs(tmp_path):
    # The real trainer without its warm-up (reading Fashion-MNIST and preparing the app's default model on it,
    # before the worker takes a run): when the worker starts and that it trains the run is what is tested.
    trainer = KerasTrainer(warm_up=False)
    manager = RunManager(
        RunStore(tmp_path), runner="process", max_concurrent=1, workers_at_start=False, trainer=trainer
    )
    try:
        assert manager.runner.worker_pids() == []  # no TensorFlow import beside the first page
        manager.runner.start_workers()
        started = manager.runner.worker_pids()
        assert len(started) == 1
        manager.runner.start_workers()  # every later page asks again: nothing more starts
        assert manager.runner.worker_pids() == started
        run = manager.start(SPEC, "shapes", QUICK)
        assert run.wait(180) and run.status == Status.FINISHED, run.message
        assert manager.runner.worker_pids() == started  # the worker started ahead trained it
    finally:
        manager.runner.shutdown()
