"""What the run manager refuses before training: models over the memory budget, too many waiting runs
per user, malformed arguments — each with a plain message, nothing stored."""

import pytest
from helpers import wait_for

from core.runs.manager import RunManager, RunRejected
from core.runs.record import Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
WIDE = {  # issue 10: 12,298 parameters, hundreds of MB per training step
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Conv2D", "filters": 1024, "kernel_size": 1, "padding": "same"},
        {"type": "GlobalAveragePooling2D"},
        {"type": "Dense", "units": 5, "activation": "softmax"},
    ],
}


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "store")


def test_a_model_over_the_memory_budget_is_refused_naming_its_costliest_layer(store):
    manager = RunManager(store, memory_budget_mb=500)
    with pytest.raises(RunRejected) as refused:
        manager.start(WIDE, "shapes", Hyperparameters(batch_size=256), owner="ada")
    (message,) = refused.value.problems
    assert message.startswith("Layer 1: training this model at batch size 256 needs about 1,571 MB of memory, ")
    assert "more than the 500 MB each training may use; layer 1 (Conv2D, output 28×28×1024) alone takes" in message
    assert "use a smaller batch size, fewer filters or units in that layer" in message
    assert store.list() == []
    # The same model at a small batch size fits.
    run = manager.start(WIDE, "shapes", Hyperparameters(batch_size=32, epochs=1, limit_train=64, limit_test=16))
    assert run.wait(120) and run.status == "finished", run.message


def test_the_default_memory_budget_comes_from_the_machine_and_the_slots(store):
    from core.config import default_memory_budget_mb, machine_memory_mb

    manager = RunManager(store, max_concurrent=2)
    assert manager.memory_budget_mb == default_memory_budget_mb(2) == max(256, machine_memory_mb() // 4)


def test_one_user_can_have_only_so_many_runs_waiting(store):
    manager = RunManager(store, max_concurrent=1, max_waiting_per_user=2)
    long = Hyperparameters(epochs=50, batch_size=16, limit_train=400, limit_test=16)
    runs = [manager.start(SPEC, "shapes", long, owner="ada")]
    try:
        wait_for(lambda: runs[0].status == Status.RUNNING)
        runs += [manager.start(SPEC, "shapes", long, owner="ada") for _ in range(2)]  # these two wait
        with pytest.raises(RunRejected) as refused:
            manager.start(SPEC, "shapes", long, owner="ada")
        assert refused.value.problems == [
            "You already have 2 run(s) waiting for a free training slot, the most one person may have: "
            "wait for one of them to start, or stop one, then train again."
        ]
        assert len(store.list("ada")) == 3
        runs.append(manager.start(SPEC, "shapes", long, owner="bob"))  # someone else still can
    finally:
        for run in reversed(runs):
            run.request_stop()
            manager.runner.cancel(run.id)
        for run in runs:
            assert run.wait(120)


@pytest.mark.parametrize(
    ("spec", "dataset", "hp", "expected"),
    [
        (SPEC, ["shapes"], Hyperparameters(), "The data set must be given by its name."),
        (SPEC, "shapes", {"epochs": 1}, "The training settings are not in the expected form."),
        ({"layers": [1]}, "shapes", Hyperparameters(), "Layer 1: this layer has no type"),
        (SPEC, "shapes", Hyperparameters(seed=2**40), "The seed must be a whole number from 0 to 2,147,483,647"),
        (SPEC, "shapes", Hyperparameters(learning_rate=True), "The learning rate must be a number"),
    ],
)
def test_malformed_arguments_are_refused_plainly(store, spec, dataset, hp, expected):
    manager = RunManager(store)
    with pytest.raises(RunRejected) as refused:
        manager.start(spec, dataset, hp, owner="ada")
    assert any(p.startswith(expected) for p in refused.value.problems), refused.value.problems
    assert store.list() == []
