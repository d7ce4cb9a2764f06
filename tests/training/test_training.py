"""Background training runs on the small `shapes` data set (and one on a slice of real Fashion-MNIST)."""

import math
import time

import numpy as np
import pytest
from helpers import REAL_FASHION_MNIST, wait_for

from core.runs.manager import RunManager
from core.runs.record import Status
from core.runs.store import RunStore
from core.runs.trainer import plain_error
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SHAPES_MODEL1 = PRESETS["model1"].spec(num_classes=5)
# A linear model that SGD with a huge step blows up within a few batches (ReLU nets just die instead).
LINEAR = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Flatten"},
        {"type": "Dense", "units": 64, "activation": "linear"},
        {"type": "Dense", "units": 5, "activation": "softmax"},
    ],
}
TIMEOUT = 120


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return RunStore(tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def manager(store):
    return RunManager(store, max_concurrent=1)


@pytest.fixture(scope="module")
def watched_run(manager):
    """A short run, polled while it trains as a page would: what each poll saw."""
    hp = Hyperparameters(optimizer="adam", epochs=2, batch_size=32, limit_train=800, limit_test=200, seed=3)
    run = manager.start(SHAPES_MODEL1, "shapes", hp)
    polls = []
    while run.active:
        polls.append((run.status, len(run.batch_history()), len(run.epoch_history()), run.progress()))
        time.sleep(0.002)
    wait_for(run, TIMEOUT)
    return run, polls


# --- a normal run ---------------------------------------------------------------------------------


def test_start_returns_at_once_and_metrics_stream_before_the_run_finishes(watched_run):
    run, polls = watched_run
    assert polls[0][0] in (Status.QUEUED, Status.RUNNING)
    batches_per_epoch = math.ceil(720 / 32)  # 800 examples, 10 % kept for validation
    total = 2 * batches_per_epoch
    streaming = [p for p in polls if p[0] == Status.RUNNING and 0 < p[1] < total]
    assert streaming, "no per-batch metrics were visible while the run was training"
    assert len({p[1] for p in streaming}) >= 3, "batch metrics should arrive a few at a time, not all at the end"
    # Mid-run progress is consistent with the batches seen.
    progress = streaming[len(streaming) // 2][3]
    assert progress.epochs == 2 and progress.batches_per_epoch == batches_per_epoch
    assert 0 < progress.fraction < 1 and progress.eta is not None and progress.eta >= 0
    assert len(run.batch_history()) == total


def test_batch_history_is_append_only_and_readable_from_any_position(watched_run):
    run, _ = watched_run
    batches = run.batch_history()
    assert [b["step"] for b in batches] == list(range(1, len(batches) + 1))
    assert {b["epoch"] for b in batches} == {1, 2}
    assert all(isinstance(b["loss"], float) and 0 <= b["accuracy"] <= 1 for b in batches)
    assert run.batch_history(10) == batches[10:]
    assert run.batch_history() == batches  # reading drains nothing
    assert run.batch_history(len(batches)) == []


def test_per_epoch_history(watched_run):
    run, _ = watched_run
    epochs = run.epoch_history()
    assert [e["epoch"] for e in epochs] == [1, 2]
    for e in epochs:
        assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(e)
        assert e["seconds"] > 0 and 0 <= e["accuracy"] <= 1 and 0 <= e["val_accuracy"] <= 1
        assert math.isfinite(e["loss"]) and math.isfinite(e["val_loss"])
    assert epochs[1]["loss"] < epochs[0]["loss"]
    # the epoch's running loss ends where the batch stream ends
    assert run.batch_history()[-1]["loss"] == pytest.approx(epochs[-1]["loss"], rel=1e-5)


def test_finished_run_has_test_results(watched_run, store):
    run, _ = watched_run
    assert run.status == Status.FINISHED and run.message == ""
    assert run.params == 107_973
    progress = run.progress()
    assert progress.fraction == 1 and progress.eta is None and progress.epoch == 2
    results = run.results
    assert results["test_examples"] == 200
    assert results["class_names"] == ["square", "circle", "triangle", "cross", "ring"]
    matrix = np.array(results["confusion_matrix"])
    assert matrix.shape == (5, 5) and matrix.sum() == 200
    assert results["test_accuracy"] == pytest.approx(np.trace(matrix) / 200)
    assert results["test_accuracy"] > 0.5  # far above the 0.2 of guessing
    per_class = results["per_class_accuracy"]
    assert len(per_class) == 5
    assert per_class == pytest.approx((np.diag(matrix) / matrix.sum(axis=1)).tolist())
    assert 0 < results["test_loss"] < 2
    # The run's training time (Run.training_seconds: from the first batch to the last, pauses left out) is its
    # epochs' time plus the moments between them.
    assert results["train_seconds"] == pytest.approx(sum(e["seconds"] for e in run.epoch_history()), rel=0.1, abs=0.5)
    # The model and the predictions are saved beside the store.
    assert store.model_path(run.id).stat().st_size > 100_000
    with np.load(store.predictions_path(run.id)) as saved:
        assert saved["probabilities"].shape == (200, 5)
        assert saved["probabilities"].sum(axis=1) == pytest.approx(np.ones(200), abs=1e-4)
        assert (saved["probabilities"].argmax(axis=1) == saved["y_true"]).mean() == pytest.approx(
            results["test_accuracy"]
        )


def test_saved_model_reloads_with_the_same_predictions(watched_run, store):
    import keras

    run, _ = watched_run
    model = keras.models.load_model(store.model_path(run.id))
    assert model.count_params() == 107_973
    from core.data.datasets import load_dataset

    x_test = load_dataset("shapes").as_float("x_test")[:200]
    with np.load(store.predictions_path(run.id)) as saved:
        np.testing.assert_allclose(model.predict(x_test, verbose=0), saved["probabilities"], atol=1e-5)


def test_finished_run_is_in_the_store(watched_run, store, manager):
    run, _ = watched_run
    stored = store.load(run.id)
    assert stored.status == Status.FINISHED
    assert stored.epoch_history() == run.epoch_history()
    assert len(stored.batch_history()) == len(run.batch_history())
    assert stored.results["confusion_matrix"] == run.results["confusion_matrix"]
    assert manager.get(run.id, "").test_accuracy == run.test_accuracy
    assert run.id in [r.id for r in manager.list("")]


# --- stop, failures, rejection -------------------------------------------------------------------


def test_stop_takes_effect_within_one_batch_and_skips_validation(manager):
    hp = Hyperparameters(optimizer="adam", epochs=3, batch_size=8, limit_train=2000, limit_test=100)
    run = manager.start(SHAPES_MODEL1, "shapes", hp)
    wait_for(lambda: len(run.batch_history()) >= 3 or not run.active, interval=0.005)
    seen = len(run.batch_history())
    assert manager.stop(run.id, "") is True
    assert run.status in (Status.STOPPING, Status.STOPPED)
    wait_for(run, TIMEOUT)
    extra = len(run.batch_history()) - seen
    assert extra <= 2, f"{extra} batches were trained after Stop"
    assert run.status == Status.STOPPED
    assert run.message.startswith("Stopped by you after 0 complete epochs")
    assert run.epoch_history() == []  # the interrupted epoch was neither finished nor validated
    assert run.progress().epoch == 0 and run.batch < run.batches_per_epoch
    assert run.results["test_examples"] == 100  # evaluated with the weights at that moment
    assert manager.stop(run.id, "") is False  # nothing left to stop


def test_diverging_loss_fails_with_a_plain_message(manager):
    hp = Hyperparameters(optimizer="sgd", learning_rate=10.0, epochs=3, batch_size=32, limit_train=600, limit_test=50)
    run = wait_for(manager.start(LINEAR, "shapes", hp), TIMEOUT)
    assert run.status == Status.FAILED
    assert run.message in (
        "The loss became NaN (not a number) — lower the learning rate and train again.",
        "The loss became infinite — lower the learning rate and train again.",
    )
    assert run.results is None
    batches = run.batch_history()
    assert batches and all(math.isfinite(b["loss"]) for b in batches)  # nothing non-finite recorded
    assert len(batches) < 3 * 17  # it stopped early
    assert manager.store.load(run.id).status == Status.FAILED


def test_a_larger_param_budget_of_the_manager_is_honoured_by_the_trainer(store):
    """A server configured for bigger models (CNN_PLAYGROUND_PARAM_BUDGET) must be able to train them."""
    big = {
        "input_shape": [28, 28, 1],
        "layers": [
            {"type": "Flatten"},
            {"type": "Dense", "units": 7000, "activation": "relu"},
            {"type": "Dense", "units": 5, "activation": "softmax"},
        ],
    }
    generous = RunManager(store, max_concurrent=1, param_budget=10_000_000)
    hp = Hyperparameters(optimizer="adam", epochs=1, batch_size=32, limit_train=64, limit_test=20)
    run = wait_for(generous.start(big, "shapes", hp), TIMEOUT)
    assert run.params == 5_530_005
    assert run.status == Status.FINISHED, run.message


def test_same_seed_gives_the_same_losses(manager):
    def losses(seed):
        hp = Hyperparameters(optimizer="adam", epochs=2, batch_size=32, limit_train=300, limit_test=50, seed=seed)
        run = wait_for(manager.start(SHAPES_MODEL1, "shapes", hp), TIMEOUT)
        assert run.status == Status.FINISHED
        return [e["loss"] for e in run.epoch_history()] + [e["val_loss"] for e in run.epoch_history()]

    first = losses(11)
    assert losses(11) == pytest.approx(first, rel=1e-5)
    assert losses(12) != pytest.approx(first, rel=1e-3)


def test_plain_error_messages():
    assert plain_error(ValueError("\x1b[31mInput 0\x1b[0m is incompatible\nTraceback details")) == (
        "Training failed: Input 0 is incompatible"
    )
    assert plain_error(MemoryError()).startswith("Training ran out of memory")
    assert plain_error(RuntimeError("")) == "Training failed: RuntimeError"


# --- the real data ----------------------------------------------------------------------------------


@pytest.mark.skipif(
    not (REAL_FASHION_MNIST / "train-images-idx3-ubyte.gz").exists(),
    reason="real Fashion-MNIST not installed (sudo apt-get install dataset-fashion-mnist)",
)
def test_model1_learns_real_fashion_mnist(manager, monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    hp = PRESETS["model1"].app_hyperparameters
    hp = Hyperparameters(**{**hp.to_dict(), "epochs": 2, "limit_train": 3000, "limit_test": 1000})
    run = wait_for(manager.start(PRESETS["model1"].spec(), "fashion_mnist", hp), TIMEOUT)
    assert run.status == Status.FINISHED, run.message
    assert run.params == 108_618
    assert run.results["test_examples"] == 1000
    assert np.array(run.results["confusion_matrix"]).shape == (10, 10)
    assert run.results["test_accuracy"] > 0.6
