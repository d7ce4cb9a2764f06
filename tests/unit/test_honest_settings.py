"""What a learner sees is what trains: the optimizer's learning-rate rule (Train and Experiment alike),
numbers taken as typed and refused in words, an experiment's counts, and the learner's active run."""

import pytest
from helpers import wait_for

from core.experiments.engine import Experiment
from core.experiments.factors import apply_values, make_factor
from core.experiments.plan import plan_experiment
from core.messages import counted
from core.numbers import as_typed
from core.runs.challenges import Challenge
from core.runs.record import Status
from core.training.hyperparams import OPTIMIZERS, Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
FAST = Hyperparameters(optimizer="adam", learning_rate=0.002, epochs=1, batch_size=32)  # the fast preset's


def _ok(spec, hp):
    return 1000, hp.problems()


def test_a_new_optimizer_trains_at_its_own_rate_unless_the_learner_chose_one():
    to_sgd = FAST.with_optimizer("sgd", keep_learning_rate=False)
    assert to_sgd.optimizer == "sgd" and to_sgd.effective_learning_rate == OPTIMIZERS["sgd"].default_learning_rate
    assert FAST.with_optimizer("sgd", keep_learning_rate=True).effective_learning_rate == 0.002
    assert to_sgd.epochs == FAST.epochs and to_sgd.batch_size == FAST.batch_size  # nothing else changes


@pytest.mark.parametrize(
    "kept, expected", [(False, {"adam": 0.001, "sgd": 0.01}), (True, {"adam": 0.002, "sgd": 0.002})]
)
def test_an_experiments_optimizer_factor_follows_the_same_rule_and_says_the_rates_it_uses(kept, expected):
    factor = make_factor("optimizer", ["adam", "sgd"], SPEC)
    plan = plan_experiment(SPEC, FAST, "shapes", [factor], check=_ok, keep_learning_rate=kept)
    used = {v.hyperparameters.optimizer: v.hyperparameters.effective_learning_rate for v in plan.variants}
    assert used == expected
    assert plan.learning_rates() == ("adam 0.001, sgd 0.01" if not kept else "0.002")
    for optimizer, rate in expected.items():  # exactly what Train does when the optimizer changes
        assert FAST.with_optimizer(optimizer, keep_learning_rate=kept).effective_learning_rate == rate


def test_a_learning_rate_factor_wins_over_the_optimizers_own():
    _, hp = apply_values(SPEC, FAST, {"optimizer": "sgd", "learning_rate": 0.05})
    assert hp.effective_learning_rate == 0.05


def test_numbers_are_taken_as_typed_and_refused_in_words():
    assert as_typed(32.0) == 32 and isinstance(as_typed(32.0), int)
    assert as_typed(1e6) == 1_000_000  # "1e6" in a field is a million, not 1
    assert as_typed(2.5) == 2.5 and as_typed(None) is None
    problems = Hyperparameters(epochs=as_typed(99999.0), learning_rate=as_typed(1000.0)).problems()
    assert any("Epochs must be a whole number from 1 to 200 (got 99999)" in p for p in problems), problems
    assert any("learning rate must be a number above 0 and at most 10 (got 1000)" in p for p in problems), problems
    assert any("whole number" in p and "2.5" in p for p in Hyperparameters(epochs=as_typed(2.5)).problems())


def test_counts_say_one_epoch_and_two_epochs():
    assert (counted(1, "epoch"), counted(2, "epoch"), counted(1000, "training image")) == (
        "1 epoch",
        "2 epochs",
        "1,000 training images",
    )


def test_a_challenges_rules_name_the_training_images_per_run():
    challenge = Challenge(
        "abc123", "Sprint", "shapes", "model1", 20_000, 1, Hyperparameters(epochs=1, limit_train=300), ("optimizer",)
    )
    assert "at most 20,000 parameters and 1 epoch, 300 training images per run" in challenge.rules()


def _experiment(variants):
    return Experiment("x1", "alice", "e", "shapes", SPEC, FAST, [], "grid", (42,), variants)


def test_an_experiment_counts_waiting_variants_as_training_not_as_broken():
    experiment = _experiment(
        [
            {"index": 1, "values": {}, "seed": 42, "params": 1, "problems": [], "run_id": "r1", "pending": False},
            {"index": 2, "values": {}, "seed": 42, "params": 1, "problems": [], "run_id": None, "pending": True},
            {"index": 3, "values": {}, "seed": 42, "params": 1, "problems": [], "run_id": None, "pending": True},
            {"index": 4, "values": {}, "seed": 42, "params": 9, "problems": ["Too big."], "run_id": None},
        ]
    )
    assert len(experiment.training) == 3
    assert [v["index"] for v in experiment.rejected] == [4]


def test_the_manager_finds_the_owners_active_run_and_no_one_elses(manager, fake_trainer):
    assert manager.active_run("alice") is None
    fake_trainer.gate.clear()
    run = manager.start(SPEC, "shapes", Hyperparameters(epochs=3, batch_size=32), owner="alice")
    wait_for(lambda: run.status == Status.RUNNING)
    assert manager.active_run("alice") is run
    assert manager.active_run("bob") is None
    manager.stop(run.id, "alice")
    fake_trainer.gate.set()
    assert run.wait(5)
    wait_for(lambda: manager.active_run("alice") is None)
