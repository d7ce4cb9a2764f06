"""A model prepared ahead (core.runs.trainer.prepare_ahead: built, compiled and its training step traced
before Train) trains exactly as the same run would unprepared: same seed, same losses, same results."""

import pytest

from core.runs import trainer
from core.runs.record import Run, Status
from core.runs.relay import Preparation
from core.runs.trainer import prepare_ahead, train_run
from core.training import fitting
from core.training.hyperparams import Hyperparameters

# Dropout and BatchNormalization: seeds and moving averages that the traced batch moves, then set back.
SPEC = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "activation": "relu"},
        {"type": "BatchNormalization"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Flatten"},
        {"type": "Dropout", "rate": 0.3},
        {"type": "Dense", "units": 5, "activation": "softmax"},
    ],
}
# 450 examples, 45 validate: 405 fit, batches of 32 with a partial last one; a one-cycle schedule.
HP = Hyperparameters(
    optimizer="adam",
    epochs=2,
    batch_size=32,
    limit_train=450,
    limit_test=100,
    seed=9,
    learning_rate_schedule="one_cycle",
)


@pytest.fixture(autouse=True)
def worker(monkeypatch):
    """As in a worker process: inputs held as tensors, nothing prepared yet."""
    monkeypatch.setattr(fitting._TensorInputs, "held", True)
    monkeypatch.setattr(fitting._TensorInputs, "tensors", {})
    monkeypatch.setattr(trainer._Prepared, "models", {})


def _trained(hp=HP, run=None):
    run = run or Run(SPEC, "shapes", hp)
    ending = train_run(run, None)
    assert ending.status == Status.FINISHED, ending.message
    epochs = [{k: v for k, v in e.items() if "seconds" not in k} for e in run.epoch_history()]
    return [b["loss"] for b in run.batch_history()], epochs, ending.results["test_accuracy"]


@pytest.fixture(scope="module")
def unprepared():
    """One run of SPEC with HP as in a worker with nothing prepared (trained once for the module), and what it
    gave: its losses, epochs' metrics and test accuracy."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fitting._TensorInputs, "held", True)
        patch.setattr(fitting._TensorInputs, "tensors", {})
        patch.setattr(trainer._Prepared, "models", {})
        run = Run(SPEC, "shapes", HP)
        return run, _trained(run=run)


def test_a_prepared_model_trains_exactly_as_an_unprepared_one(unprepared):
    _, unprepared = unprepared
    assert prepare_ahead(SPEC, "shapes", HP)
    assert len(trainer._Prepared.models) == 1
    prepared = _trained()
    assert not trainer._Prepared.models  # the run took it: one run per preparation
    assert prepared[0] == unprepared[0]  # every batch's loss
    assert prepared[1] == unprepared[1]  # every epoch's metrics, validation included
    assert prepared[2] == unprepared[2]


def test_a_run_of_other_settings_does_not_take_the_prepared_model():
    assert prepare_ahead(SPEC, "shapes", HP)
    _trained(Hyperparameters.from_dict({**HP.to_dict(), "seed": 10}))
    assert len(trainer._Prepared.models) == 1  # still there for the run it was prepared for
    _trained()
    assert not trainer._Prepared.models


def test_nothing_is_prepared_for_a_model_that_cannot_train():
    too_small = {**SPEC, "layers": [{"type": "Conv2D", "filters": 8, "kernel_size": 40}, *SPEC["layers"][1:]]}
    assert not prepare_ahead(too_small, "shapes", HP)
    assert not trainer._Prepared.models


def test_after_a_run_its_model_is_prepared_again_for_the_next_run_of_it(unprepared):
    run, (first, _, _) = unprepared  # a run of SPEC with HP that has ended
    trainer.prepare_for(Preparation.of(run))  # what a worker does once a run has ended
    assert list(trainer._Prepared.models) == [trainer._Prepared.key(SPEC, "shapes", HP)]
    again = _trained()
    assert not trainer._Prepared.models  # the second run took it
    assert again[0] == first  # and trained exactly as the first


def test_the_train_pages_hint_prepares_that_model_and_its_run_takes_it():
    trainer.prepare_for(Preparation(SPEC, "shapes", HP.to_dict()))
    assert list(trainer._Prepared.models) == [trainer._Prepared.key(SPEC, "shapes", HP)]
    kept = trainer._Prepared.models[trainer._Prepared.key(SPEC, "shapes", HP)]
    trainer.prepare_for(Preparation(SPEC, "shapes", HP.to_dict()))  # the same hint again: the same model kept
    assert list(trainer._Prepared.models.values()) == [kept]
    _trained()
    assert not trainer._Prepared.models
