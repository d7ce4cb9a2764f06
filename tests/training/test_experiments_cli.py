"""Experiments end to end: the engine on a real RunManager (tagged runs, stopped as a group), and the CLI's
`experiment` and `lr-find` commands as a user runs them."""

import csv
import time

import pytest
from helpers import REAL_FASHION_MNIST
from paced_trainer import PacedTrainer

from core.experiments.engine import ExperimentStore, start_experiment, stop_experiment, wait_for_experiment
from core.experiments.factors import parse_factor
from core.experiments.plan import manager_check, plan_experiment
from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SHAPES_SPEC = PRESETS["model1"].spec(num_classes=5)
QUICK = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=100, seed=3)


def test_an_experiment_runs_its_variants_as_tagged_runs_and_collects_them(tmp_path):
    # What the engine does with the runs (fed as slots free up, tagged, collected); the CLI's tests below train
    # each variant for real.
    manager = RunManager(RunStore(tmp_path), max_concurrent=2, trainer=PacedTrainer())
    factors = [parse_factor("layer1.filters=4,8", SHAPES_SPEC), parse_factor("layer6=keep,remove", SHAPES_SPEC)]
    plan = plan_experiment(SHAPES_SPEC, QUICK, "shapes", factors, check=manager_check(manager, "shapes"))
    experiment = start_experiment(manager, plan, owner="me")
    most_active, most_waiting = 0, 0
    while True:  # fed as slots free up: never more active than slots, never more than one waiting
        saved = ExperimentStore(manager.store).get(experiment.id)
        runs = [manager.get(i, "me") for i in saved.run_ids]
        most_active = max(most_active, sum(r.active for r in runs))
        most_waiting = max(most_waiting, sum(r.status == "queued" for r in runs))
        if len(runs) == 4 and not any(r.active for r in runs):
            break
        time.sleep(0.05)
    assert most_active <= 2 and most_waiting <= 1
    table = wait_for_experiment(manager, experiment)
    assert list(table["status"]) == ["finished"] * 4
    assert table["test_accuracy"].between(0, 1).all() and (table["train_seconds"] > 0).all()
    assert list(table["layer6"]) == ["keep", "remove", "keep", "remove"]
    removed = table[table["layer6"] == "remove"]["params"]
    kept = table[table["layer6"] == "keep"]["params"]
    assert (removed.to_numpy() < kept.to_numpy()).all()
    for run_id in table["run_id"]:
        run = manager.get(run_id, "me")
        assert run.experiment == experiment.id and run.owner == "me"
    assert ExperimentStore(manager.store).get(experiment.id).run_ids == list(table["run_id"])


def test_an_experiment_is_stopped_as_a_group(tmp_path):
    manager = RunManager(RunStore(tmp_path), max_concurrent=2, trainer=PacedTrainer())
    hp = Hyperparameters(epochs=50, batch_size=16, seed=3)
    plan = plan_experiment(
        SHAPES_SPEC,
        hp,
        "shapes",
        [parse_factor("optimizer=adam,sgd,rmsprop", SHAPES_SPEC)],
        check=manager_check(manager, "shapes"),
    )
    experiment = start_experiment(manager, plan, owner="me")
    first = manager.get(experiment.run_ids[0], "me")
    while not first.batch_history():
        first.wait(0.05)
    assert stop_experiment(manager, experiment) == 2  # two slots: the third variant was not queued yet
    table = wait_for_experiment(manager, experiment)
    assert list(table["status"]) == ["stopped", "stopped", "not started"]
    assert len(ExperimentStore(manager.store).get(experiment.id).run_ids) == 2


def test_cli_experiment_writes_one_row_per_variant(cli, tmp_path):
    done = cli(
        "experiment", "--preset", "model1", "--dataset", "shapes",
        "--vary", "layer3.filters=8,16", "--vary", "optimizer=adam,sgd",
        "--epochs", "1", "--limit-train", "300", "--limit-test", "100",
        "--home", tmp_path / "home", "--out", "results.csv",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "4/4 runs done" in done.stderr and "4 runs; estimated time: unknown" in done.stderr
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert [(r["layer3.filters"], r["optimizer"]) for r in rows] == [
        ("8", "adam"), ("8", "sgd"), ("16", "adam"), ("16", "sgd")
    ]  # fmt: skip
    for row in rows:
        assert row["status"] == "finished" and 0 <= float(row["test_accuracy"]) <= 1
        assert int(row["params"]) > 0 and float(row["train_seconds"]) > 0 and len(row["run_id"]) == 12
    runs = cli("runs", "--home", tmp_path / "home").stdout
    assert all(row["run_id"] in runs for row in rows)
    again = cli(
        "experiment", "--preset", "model1", "--dataset", "shapes", "--vary", "epochs=1,2",
        "--limit-train", "300", "--limit-test", "100", "--home", tmp_path / "home", "--out", "again.csv",
    )  # fmt: skip
    assert "2 runs; estimated time: about" in again.stderr and "from the speed of 4 past runs" in again.stderr


@pytest.mark.skipif(not REAL_FASHION_MNIST.exists(), reason="needs Debian's dataset-fashion-mnist")
def test_cli_experiment_exactly_as_documented(cli, tmp_path):
    done = cli(
        "experiment", "--preset", "model1", "--vary", "layer3.filters=16,32", "--vary", "optimizer=adam,sgd",
        "--epochs", "1", "--limit-train", "3000", "--limit-test", "1000", "--home", tmp_path / "home",
        "--out", "results.csv",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert len(rows) == 4 and {r["params"] for r in rows} == {"55098", "108618"}


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        ("layer3.filters", "write KEY=VALUE1,VALUE2"),
        ("layer12.filters=16,32", "there is no layer 12"),
        ("layer3.units=16,32", "layer 3 is a Conv2D"),
        ("optimizer=adam,fast", "'fast' is not one of adam"),
    ],
)
def test_cli_experiment_bad_vary_exits_2_with_a_plain_message(cli, tmp_path, vary, message):
    done = cli("experiment", "--preset", "model1", "--dataset", "shapes", "--vary", vary, "--out", "x.csv")
    assert done.returncode == 2 and message in done.stderr
    assert not (tmp_path / "x.csv").exists()


def test_cli_lr_find_suggests_a_learning_rate(cli):
    done = cli("lr-find", "--preset", "model1", "--dataset", "shapes", "--steps", "120")
    assert done.returncode == 0, done.stderr
    assert "The loss fell fastest at a learning rate of" in done.stdout
    suggestion = float(done.stdout.strip().splitlines()[-1].removeprefix("Suggested learning rate: "))
    assert 1e-5 <= suggestion <= 1


def test_an_experiment_on_worker_processes_keeps_its_tag_in_the_store(tmp_path):
    # The worker trains nothing (tests/training/paced_trainer.py): what is tested is the tag that goes with each
    # run to the worker and back, not TensorFlow's import in a worker (tests/training/test_runners.py trains there).
    manager = RunManager(
        RunStore(tmp_path), runner="process", max_concurrent=1, max_runs_per_worker=5, trainer=PacedTrainer()
    )
    try:
        plan = plan_experiment(
            SHAPES_SPEC,
            QUICK,
            "shapes",
            [parse_factor("layer1.filters=4,8", SHAPES_SPEC)],
            check=manager_check(manager, "shapes"),
        )
        experiment = start_experiment(manager, plan, owner="me")
        table = wait_for_experiment(manager, experiment)
        assert list(table["status"]) == ["finished", "finished"]
        assert {manager.store.load(i).experiment for i in table["run_id"]} == {experiment.id}
    finally:
        manager.runner.shutdown()
