"""Training on tables (regression): learning a formula, the MAE loss, targets of any size, training on."""

import numpy as np
import pandas as pd
import pytest
from helpers import wait_for

from core.data.datasets import load_dataset
from core.data.tabular import prepare, save_table
from core.insight.mistakes import PredictionsUnavailable
from core.runs.manager import RunManager
from core.runs.store import RunStore, load_regression_predictions
from core.training.evaluation import regression_metrics
from core.training.hyperparams import Hyperparameters
from core.training.presets import TABLE_PRESETS


def keras_manager(tmp_path) -> RunManager:
    return RunManager(RunStore(tmp_path / "home"), max_concurrent=1)


def test_a_small_dense_network_learns_a_linear_table(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-2, 2, 600), rng.uniform(-2, 2, 600)
    frame = pd.DataFrame({"a": a, "b": b, "y": 3 * a - 2 * b + 1 + rng.normal(0, 0.1, 600)})
    name = save_table(prepare(frame, "y"), owner="u1", title="linear")
    spec = TABLE_PRESETS["tabular"].spec(input_shape=(2,), num_classes=1)
    manager = keras_manager(tmp_path)
    store = manager.store
    run = wait_for(
        manager.start(
            spec, name, Hyperparameters(optimizer="adam", learning_rate=0.01, epochs=25, batch_size=32), owner="u1"
        )
    )
    assert run.status == "finished", run.message
    results = run.results
    std = float(np.std(load_dataset(name).y_test))
    assert results["test_mae"] < 0.1 * std and results["test_r2"] > 0.98
    assert results["test_rmse"] >= results["test_mae"] and results["target_name"] == "y"
    assert "test_accuracy" not in results and run.test_accuracy is None
    batch = run.batch_history()[-1]
    assert set(batch) == {"step", "epoch", "loss", "mae"} and batch["mae"] < 0.5
    assert {"loss", "mae", "val_loss", "val_mae"} <= set(run.epoch_history()[-1])
    predicted, y_true = load_regression_predictions(store, run.id)
    assert predicted.shape == y_true.shape == (120,)
    assert regression_metrics(predicted, y_true)["mae"] == pytest.approx(results["test_mae"])
    with pytest.raises(PredictionsUnavailable, match="no saved test predictions"):
        load_regression_predictions(store, "0123456789ab")


def test_mae_loss_is_used_when_chosen(tmp_path):
    frame = pd.DataFrame({"a": np.arange(40.0), "y": 2 * np.arange(40.0)})
    name = save_table(prepare(frame, "y"), owner="u1", title="line")
    run = wait_for(
        keras_manager(tmp_path).start(
            TABLE_PRESETS["linear"].spec(input_shape=(1,), num_classes=1),
            name,
            Hyperparameters(learning_rate=0.05, epochs=2, batch_size=8, loss="mae"),
            owner="u1",
        )
    )
    assert run.status == "finished", run.message
    epoch = run.epoch_history()[-1]
    assert epoch["loss"] == pytest.approx(epoch["mae"], rel=1e-4)  # the loss is the mean absolute error
    assert run.results["loss"] == "mae" and run.results["test_loss"] == pytest.approx(run.results["test_mae"])


def test_targets_of_any_size_train_alike_and_the_model_predicts_real_units(tmp_path):
    """Targets are standardised while training and folded back: prices in millions train like small numbers."""
    import keras

    rng = np.random.default_rng(1)
    a = rng.uniform(-2, 2, 300)
    frame = pd.DataFrame({"a": a, "y": 2e6 * a + 5e6 + rng.normal(0, 1e4, 300)})
    name = save_table(prepare(frame, "y"), owner="u1", title="millions")
    manager = keras_manager(tmp_path)
    store = manager.store
    run = wait_for(
        manager.start(
            TABLE_PRESETS["linear"].spec(input_shape=(1,), num_classes=1),
            name,
            Hyperparameters(learning_rate=0.05, epochs=15, batch_size=16),
            owner="u1",
        )
    )
    assert run.status == "finished", run.message
    assert run.results["test_r2"] > 0.99 and run.results["test_mae"] < 5e4
    assert run.epoch_history()[-1]["mae"] < 5e4  # the live values are in the target's units too
    model = keras.models.load_model(store.model_path(run.id))
    data = load_dataset(name)
    predicted = model.predict(data.x_test, verbose=0).reshape(-1)
    assert regression_metrics(predicted, data.y_test)["mae"] == pytest.approx(run.results["test_mae"], rel=1e-4)
    kernel, bias = model.layers[-1].get_weights()
    assert 4e6 < float(bias[0]) < 6e6  # the saved model's own numbers are in real units

    # Training on continues from the same point: the scaling is undone and redone around the new epochs.
    before = run.results["test_mae"]
    run = wait_for(manager.continue_run(run.id, 2, "u1"))
    assert run.status == "finished" and [e["epoch"] for e in run.epoch_history()][-3:] == [15, 16, 17]
    assert run.results["test_mae"] < 2 * before
