"""A run stops at its target validation accuracy and records when; label smoothing and the one-cycle
schedule train through the trainer (tiny runs on Shapes)."""

import keras
import pytest

from core.runs.record import Run, Status
from core.runs.store import RunStore
from core.runs.trainer import train_run
from core.training.hyperparams import COSINE_FLOOR, ONE_CYCLE_START, Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["blank"].spec(num_classes=5)  # Flatten → Dense: a few milliseconds per epoch


def trained(hp: Hyperparameters, store=None) -> Run:
    run = Run(SPEC, "shapes", hp)
    ending = train_run(run, store)
    run.finish(ending.status, ending.message, ending.results)
    return run


def test_a_run_stops_after_the_first_epoch_that_reaches_its_target():
    run = trained(Hyperparameters(epochs=6, batch_size=64, limit_train=600, limit_test=100, target_accuracy=0.01))
    assert run.status == Status.FINISHED, run.message
    assert run.epoch == 1  # any accuracy reaches 1 %: the run ends after its first epoch, not six
    reached = run.results["target_reached"]
    assert reached["epoch"] == 1 and reached["target"] == 0.01
    assert reached["seconds"] == pytest.approx(run.epoch_history()[0]["seconds"], abs=0.01)
    assert run.message.startswith("Reached the target") and "after epoch 1" in run.message


def test_a_target_out_of_reach_trains_every_epoch_and_records_nothing():
    run = trained(Hyperparameters(epochs=2, batch_size=64, limit_train=600, limit_test=100, target_accuracy=1.0))
    assert run.status == Status.FINISHED and run.epoch == 2
    assert "target_reached" not in run.results and run.message == ""


def test_label_smoothing_and_the_one_cycle_schedule_train_and_save(tmp_path):
    store = RunStore(tmp_path)
    hp = Hyperparameters(
        learning_rate=0.01,
        epochs=2,
        batch_size=64,
        limit_train=600,
        limit_test=100,
        label_smoothing=0.1,
        learning_rate_schedule="one_cycle",
    )
    run = trained(hp, store)
    assert run.status == Status.FINISHED, run.message
    assert 0 <= run.test_accuracy <= 1 and run.results["per_class_accuracy"]
    model = keras.models.load_model(store.model_path(run.id))  # built-in loss and schedule: loads as saved
    assert model.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    schedule = model.optimizer._learning_rate
    steps = hp.epochs * run.batches_per_epoch
    assert float(schedule(0)) == pytest.approx(0.01 * ONE_CYCLE_START, rel=1e-3)  # starts low
    assert float(schedule(round(0.3 * steps))) == pytest.approx(0.01, rel=0.05)  # the peak after the warm-up
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01 * COSINE_FLOOR, rel=0.05)  # ends at the floor
