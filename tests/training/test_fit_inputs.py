"""A worker hands fit its training inputs as a TensorFlow tensor (core.training.fitting.fit_input) instead
of NumPy arrays: the same seed must give exactly the same run either way."""

import numpy as np
import pytest
import tensorflow as tf

from core.data.dataset import Dataset
from core.data.datasets import load_dataset
from core.runs.record import Run, Status
from core.runs.trainer import train_run
from core.training import fitting
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
HP = Hyperparameters(optimizer="adam", epochs=2, batch_size=32, limit_train=400, limit_test=100, seed=7)


def _trained(hp=HP):
    run = Run(SPEC, "shapes", hp)
    ending = train_run(run, None)
    assert ending.status == Status.FINISHED, ending.message
    epochs = [{k: v for k, v in e.items() if "seconds" not in k} for e in run.epoch_history()]
    return [b["loss"] for b in run.batch_history()], epochs, ending.results


@pytest.fixture
def tensors_held(monkeypatch):
    monkeypatch.setattr(fitting._TensorInputs, "held", True)
    monkeypatch.setattr(fitting._TensorInputs, "tensors", {})


def test_inputs_as_tensors_train_exactly_as_numpy_inputs(monkeypatch):
    as_numpy = _trained()
    monkeypatch.setattr(fitting._TensorInputs, "held", True)
    monkeypatch.setattr(fitting._TensorInputs, "tensors", {})
    shapes = load_dataset("shapes")
    held = fitting.fit_input(shapes)
    assert tf.is_tensor(held) and fitting.fit_input(shapes) is held  # made once
    np.testing.assert_array_equal(held.numpy(), shapes.as_float("x_train"))
    as_tensors = _trained()
    assert as_tensors[0] == as_numpy[0]  # every batch's loss
    assert as_tensors[1] == as_numpy[1]  # every epoch's metrics, validation included
    assert as_tensors[2]["test_accuracy"] == as_numpy[2]["test_accuracy"]
    assert as_tensors[2]["train_examples"] == 400


def _small(name):
    images = np.zeros((8, 4, 4, 1), np.uint8)
    return Dataset(name, name, ("a", "b"), images, np.zeros(8, np.uint8), images, np.zeros(8, np.uint8), "test")


def test_a_worker_keeps_tensors_of_two_data_sets_at_most(tensors_held):
    first, second, third = _small("first"), _small("second"), _small("third")
    fitting.fit_input(first)
    fitting.fit_input(second)
    fitting.fit_input(first)  # used again: now the most recent
    fitting.fit_input(third)
    assert {key[0] for key in fitting._TensorInputs.tensors} == {id(first), id(third)}


def test_without_tensors_fit_gets_the_shared_numpy_copy():
    shapes = load_dataset("shapes")
    assert fitting.fit_input(shapes) is shapes.as_float("x_train")
