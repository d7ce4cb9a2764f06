"""Jobs (the learning-rate finder, the speed measurement) go through the run queue like runs, and experiments
are saved groups of runs that a restarted server goes on feeding. A fake trainer: milliseconds."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from helpers import FakeTrainer, model1_challenge, wait_for

from core.classroom.leaderboard import leaderboard
from core.experiments.engine import (
    ExperimentStore,
    resume_experiments,
    start_experiment,
    wait_for_experiment,
)
from core.experiments.factors import parse_factor
from core.experiments.plan import manager_check, plan_experiment
from core.runs.challenges import ChallengeStore
from core.runs.manager import RunManager, RunRejected
from core.runs.record import Kind, Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.lr_finder import LrFinding
from core.training.presets import PRESETS
from core.training.speed import Speed

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
QUICK = Hyperparameters(epochs=1, batch_size=32)
LONG = Hyperparameters(epochs=30, batch_size=16)


def test_a_job_waits_in_the_queue_behind_runs_and_then_trains(manager, fake_trainer):
    fake_trainer.gate.clear()  # the first run holds the only slot
    run = manager.start(SPEC, "shapes", LONG, owner="ann")
    job = manager.start_job(Kind.LR_FIND, SPEC, "shapes", QUICK, owner="ann", options={"steps": 20})
    wait_for(lambda: run.status == Status.RUNNING)
    assert job.status == Status.QUEUED and manager.queue_position(job.id) == 1
    assert fake_trainer.started == [run.id]  # the finder no longer trains beside a run, past the slots
    manager.stop(run.id, "ann")
    fake_trainer.gate.set()
    assert job.wait(5) and job.status == Status.FINISHED
    assert fake_trainer.started == [run.id, job.id]
    assert job.progress().fraction == 1.0  # its progress was recorded as batches, like a run's
    assert manager.store.load(job.id).kind == Kind.LR_FIND  # saved, kind and options kept
    assert manager.store.load(job.id).options == {"steps": 20}


def test_jobs_count_against_the_owners_waiting_limit(tmp_path):
    trainer = FakeTrainer(open=False)
    manager = RunManager(RunStore(tmp_path), max_concurrent=1, trainer=trainer, max_waiting_per_user=1)
    first = manager.start(SPEC, "shapes", LONG, owner="ann")
    wait_for(lambda: first.status == Status.RUNNING)
    manager.start_job(Kind.SPEED_PROBE, SPEC, "shapes", QUICK, owner="ann")  # the one run she may have waiting
    with pytest.raises(RunRejected, match="already have 1 run"):
        manager.start_job(Kind.LR_FIND, SPEC, "shapes", QUICK, owner="ann")
    with pytest.raises(RunRejected, match="already have 1 run"):
        manager.start(SPEC, "shapes", QUICK, owner="ann")
    manager.start_job(Kind.LR_FIND, SPEC, "shapes", QUICK, owner="bob")  # another user's limit is his own
    manager.stop(first.id, "ann")
    trainer.gate.set()


def test_a_job_with_a_broken_model_is_refused_before_it_queues(manager):
    broken = {"input_shape": [28, 28, 1], "layers": [{"type": "Dense", "units": 5, "activation": "softmax"}]}
    with pytest.raises(RunRejected) as rejected:
        manager.start_job(Kind.LR_FIND, broken, "shapes", QUICK, owner="ann")
    assert rejected.value.problems
    with pytest.raises(RunRejected, match="Batch size must be"):
        manager.start_job(Kind.LR_FIND, SPEC, "shapes", Hyperparameters(batch_size=0), owner="ann")
    assert manager.jobs(Kind.LR_FIND, "ann") == []


def test_jobs_are_never_runs_of_the_learner(manager, fake_trainer):
    run = wait_for(manager.start(SPEC, "shapes", QUICK, owner="ann", name="my run"))
    finder = wait_for(manager.start_job(Kind.LR_FIND, SPEC, "shapes", QUICK, owner="ann"))
    probe = wait_for(manager.start_job(Kind.SPEED_PROBE, SPEC, "shapes", QUICK, owner="ann"))
    assert [r.id for r in manager.list("ann")] == [run.id]  # the run list, compare, history, your work
    assert [r.id for r in manager.store.list()] == [run.id]
    assert manager.get(finder.id, "ann") is None and manager.get(probe.id, "ann") is None  # ?run=, results
    assert manager.shared_model(finder.id) is None
    with pytest.raises(RunRejected):
        manager.continue_run(finder.id, 1, "ann")
    assert manager.delete(finder.id, "ann") is False
    # Its page finds it through the job door, and only its owner does.
    assert manager.job(finder.id, "ann").status == Status.FINISHED
    assert manager.job(finder.id, "bob") is None and manager.job(run.id, "ann") is None
    assert [j.id for j in manager.jobs(Kind.SPEED_PROBE, "ann")] == [probe.id]


def test_jobs_are_not_on_the_leaderboard(manager):
    challenge = ChallengeStore(manager.store).save(model1_challenge(hyperparameters=QUICK))
    run = wait_for(manager.start(SPEC, "shapes", challenge.hyperparameters, owner="ann", challenge=challenge))
    wait_for(manager.start_job(Kind.LR_FIND, SPEC, "shapes", QUICK, owner="ann", challenge=challenge))
    assert [r.id for r in manager.classroom_runs(challenge.code)] == [run.id]
    assert len(leaderboard(manager.classroom_runs(challenge.code), challenge)) == 1


def test_a_stopped_job_ends_stopped(manager, fake_trainer):
    fake_trainer.gate.clear()
    job = manager.start_job(Kind.LR_FIND, SPEC, "shapes", QUICK, owner="ann")
    wait_for(lambda: job.status == Status.RUNNING)
    assert manager.stop(job.id, "ann")
    assert job.wait(5) and job.status == Status.STOPPED


def test_a_jobs_results_read_back_as_its_answer():
    finding = LrFinding([1e-4, 1e-3], [2.0, 1.5], [2.0, 1.7], 0.001, "why", lowest=0.001, seconds=3.0)
    assert LrFinding.from_results(finding.to_results()) == finding
    assert LrFinding.from_results(None) is None and LrFinding.from_results({"test_accuracy": 0.5}) is None
    speed = Speed(0.001, 0.0002, 0.1, 2.0)
    assert Speed.from_results(speed.to_results()) == speed
    assert Speed.from_results({"train_seconds_per_example": "fast"}) is None


# --- experiments: a saved group of runs, fed again after a restart -----------------------------------


def _plan(manager):
    factors = [parse_factor("optimizer=adam,sgd,rmsprop", SPEC)]
    return plan_experiment(SPEC, QUICK, "shapes", factors, check=manager_check(manager, "shapes"))


# A server that starts an experiment of three variants on one slot and is then killed while the first one
# trains: its other two are still waiting to be queued.
SERVER = textwrap.dedent(
    """
    import sys, threading
    from core.experiments.engine import start_experiment
    from core.experiments.factors import parse_factor
    from core.experiments.plan import manager_check, plan_experiment
    from core.training.presets import PRESETS
    from core.runs.manager import RunManager
    from core.runs.store import RunStore
    from core.training.hyperparams import Hyperparameters

    said = threading.Lock()

    def say(*words):  # one whole line at a time: the trainer's thread and this one both write
        with said:
            sys.stdout.write(" ".join(words) + "\\n")
            sys.stdout.flush()

    class HoldingTrainer:
        def prepare(self, threads):
            pass

        def train(self, run, store, continue_training=False):
            run.begin(3)
            say("training", run.id)
            threading.Event().wait()

    spec = PRESETS["model1"].spec((28, 28, 1), 5)
    manager = RunManager(RunStore(sys.argv[1]), max_concurrent=1, trainer=HoldingTrainer())
    factors = [parse_factor("optimizer=adam,sgd,rmsprop", spec)]
    plan = plan_experiment(spec, Hyperparameters(epochs=1, batch_size=32), "shapes", factors,
                           check=manager_check(manager, "shapes"))
    experiment = start_experiment(manager, plan, owner="ann", learner="Ann")
    say("experiment", experiment.id)
    threading.Event().wait()
    """
)


def test_an_experiment_goes_on_after_the_server_restarts(tmp_path):
    home = tmp_path / "home"
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(home)],
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = {}
        while len(lines) < 2:
            word, value = server.stdout.readline().split()
            lines[word] = value
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    experiment = ExperimentStore(RunStore(home)).get(lines["experiment"])
    assert [bool(v.get("pending")) for v in experiment.variants] == [False, True, True]

    trainer = FakeTrainer()
    manager = RunManager(RunStore(home), max_concurrent=1, trainer=trainer)  # the restarted server
    assert resume_experiments(manager) == 1
    table = wait_for_experiment(manager, experiment, poll=0.01)
    assert list(table["status"]) == [Status.INTERRUPTED, Status.FINISHED, Status.FINISHED]
    assert list(table["optimizer"]) == ["adam", "sgd", "rmsprop"]
    assert len(trainer.started) == 2  # each waiting variant trained once
    saved = ExperimentStore(manager.store).get(experiment.id)
    assert not any(v.get("pending") for v in saved.variants) and saved.learner == "Ann"
    started = [manager.get(v["run_id"], "ann") for v in saved.variants[1:]]
    assert [r.hyperparameters.optimizer for r in started] == ["sgd", "rmsprop"]
    assert started[0].name.startswith("Experiment #2:")
    assert resume_experiments(manager) == 0  # nothing is left to feed


def test_an_experiment_fed_by_a_live_server_is_not_taken_over(tmp_path):
    trainer = FakeTrainer(open=False)
    first = RunManager(RunStore(tmp_path), max_concurrent=1, trainer=trainer)
    experiment = start_experiment(first, _plan(first), owner="ann")
    second = RunManager(RunStore(tmp_path), max_concurrent=1, trainer=FakeTrainer())
    store = ExperimentStore(second.store)
    # Another process (alive: this test's parent) feeds it: nothing is queued twice.
    record = store.get(experiment.id)
    record.feeder_pid = os.getppid()
    store.save(record)
    assert resume_experiments(second) == 0
    assert sum(1 for v in store.get(experiment.id).variants if v.get("pending")) == 2
    for run_id in experiment.run_ids:
        first.stop(run_id, "ann")
    trainer.gate.set()


def test_a_stopped_experiment_is_not_fed_again_after_a_restart(tmp_path):
    from core.experiments.engine import stop_experiment

    trainer = FakeTrainer(open=False)
    manager = RunManager(RunStore(tmp_path), max_concurrent=1, trainer=trainer)
    experiment = start_experiment(manager, _plan(manager), owner="ann")
    assert stop_experiment(manager, experiment) == 1
    trainer.gate.set()
    wait_for(manager.get(experiment.run_ids[0], "ann"))  # ended before the restart
    again = RunManager(RunStore(tmp_path), max_concurrent=1, trainer=FakeTrainer())
    assert resume_experiments(again) == 0
    table = wait_for_experiment(again, experiment, poll=0.01)
    assert list(table["status"]) == [Status.STOPPED, "not started", "not started"]
