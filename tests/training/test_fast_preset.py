"""The `fast` preset trains through the trainer with its cosine learning-rate schedule, and exports it."""

import math

import keras
import pytest

from core.model.spec import analyze
from core.runs.record import Run, Status
from core.runs.store import RunStore
from core.runs.trainer import train_run
from core.training.codegen import training_script
from core.training.hyperparams import COSINE_FLOOR, Hyperparameters
from core.training.presets import PRESETS

FAST = PRESETS["fast"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The fast preset on shapes with its own settings, shortened to 2 epochs of 600 images."""
    store = RunStore(tmp_path_factory.mktemp("runs"))
    hp = Hyperparameters(**{**FAST.app_hyperparameters.to_dict(), "epochs": 2, "limit_train": 600, "limit_test": 200})
    run = Run(FAST.spec(num_classes=5), "shapes", hp)
    ending = train_run(run, store)
    run.finish(ending.status, ending.message, ending.results)
    return run, store


def test_fast_preset_trains_to_the_end_with_the_analyzed_parameter_count(trained):
    run, _ = trained
    assert run.status == Status.FINISHED, run.message
    assert [e["epoch"] for e in run.epoch_history()] == [1, 2]
    assert run.params == analyze(FAST.spec(num_classes=5), (28, 28, 1), 5).total_params
    assert 0 <= run.test_accuracy <= 1 and math.isfinite(run.results["test_loss"])
    hp = run.hyperparameters
    assert run.batches_per_epoch == math.ceil((600 - int(600 * hp.validation_split)) / hp.batch_size)


def test_the_learning_rate_falls_along_the_cosine_to_its_floor_by_the_last_batch(trained):
    run, store = trained
    model = keras.models.load_model(store.model_path(run.id))
    hp = run.hyperparameters
    steps = int(model.optimizer.iterations.numpy())
    assert steps == hp.epochs * run.batches_per_epoch
    assert float(model.optimizer.learning_rate) == pytest.approx(hp.learning_rate * COSINE_FLOOR, rel=1e-3)
    schedule = model.optimizer._learning_rate
    assert float(schedule(steps // 2)) == pytest.approx(hp.learning_rate * (1 + COSINE_FLOOR) / 2, rel=0.05)


def test_a_constant_schedule_keeps_the_learning_rate(tmp_path):
    store = RunStore(tmp_path)
    hp = Hyperparameters(learning_rate=0.003, epochs=1, batch_size=64, limit_train=300, limit_test=100)
    run = Run(FAST.spec(num_classes=5), "shapes", hp)
    ending = train_run(run, store)
    run.finish(ending.status, ending.message, ending.results)
    assert run.status == Status.FINISHED, run.message
    model = keras.models.load_model(store.model_path(run.id))
    assert float(model.optimizer.learning_rate) == pytest.approx(0.003)


def test_the_exported_script_carries_the_schedule():
    script = training_script(FAST.spec(), "fashion_mnist", FAST.app_hyperparameters, FAST.title)
    compile(script, "exported.py", "exec")
    assert "keras.optimizers.schedules.CosineDecay(" in script
    assert f"alpha={COSINE_FLOOR!r}" in script
    assert f"batch_size={FAST.app_hyperparameters.batch_size}" in script
