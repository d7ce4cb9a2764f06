"""The Ray runner on a real local Ray cluster: a head (no CPUs for training) and two one-CPU worker nodes.

The cluster is shared by the tests of this module and shut down at its end; the last test removes a node. Its
head checks the nodes' health every second (QUICK_HEALTH_CHECKS), so that a lost node is known in seconds.
"""

import contextlib
import os
import signal
import socket
import time

import numpy as np
import pytest
from helpers import server_process, wait_for
from training import paced_trainer
from training.paced_trainer import PacedTrainer

from core.data.datasets import SHAPE_CLASSES, make_shapes
from core.data.user_datasets import UserDatasetStore
from core.runs.manager import RunManager
from core.runs.process_runner import ProcessRunner
from core.runs.ray import runner as ray_runner
from core.runs.ray.cluster import KEEP_WAITING_FOR_HEAD_SECONDS, RECONNECT_TIMEOUT_ENV, connect
from core.runs.ray.runner import MACHINE_GONE_MESSAGE, UNREACHABLE_MESSAGE
from core.runs.record import Status
from core.runs.runners import KerasTrainer, RunnerUnavailable
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
SHORT = Hyperparameters(epochs=2, batch_size=16, limit_train=400, limit_test=50, seed=7)
QUICK = Hyperparameters(epochs=1, batch_size=16, limit_train=100, limit_test=50)  # where training is not tested
LONG = Hyperparameters(epochs=100, batch_size=16, limit_train=200, limit_test=50)  # ends only when stopped
OBJECT_STORE = 80 * 1024 * 1024  # the smallest Ray allows is 75 MB
# Ray's own health checks of the nodes, from its head (defaults: every 3 s, dead after 5 missed, which is 15 s
# or more): a node that went away is known to be gone within about 3 s.
QUICK_HEALTH_CHECKS = {
    "health_check_initial_delay_ms": 1000,
    "health_check_period_ms": 1000,
    "health_check_timeout_ms": 1000,
    "health_check_failure_threshold": 3,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_cluster_falls_back_to_worker_processes_with_a_plain_notice(tmp_path, monkeypatch):
    assert not ray.is_initialized()
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{free_port()}")  # nothing listens there
    began = time.time()
    manager = RunManager(RunStore(tmp_path), max_concurrent=1, runner="ray", max_runs_per_worker=3)
    try:
        assert time.time() - began < 30  # checked before Ray's own minutes-long wait
        assert isinstance(manager.runner, ProcessRunner)
        assert "cannot be reached" in manager.notice and "Training runs on this server instead" in manager.notice
        assert manager.runner.max_runs_per_worker == 3
    finally:
        manager.runner.shutdown()


def test_joining_a_cluster_keeps_ray_from_ending_the_app_whatever_its_environment_says(monkeypatch):
    """Ray ends a process whose head has been gone this long: any value would end the web server with the class
    in it (test_ray_head_loss.py shows the app outliving it)."""
    assert not ray.is_initialized()
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv(RECONNECT_TIMEOUT_ENV, "5")
    with pytest.raises(RunnerUnavailable):
        connect("cnn-playground-test")
    assert os.environ[RECONNECT_TIMEOUT_ENV] == str(KEEP_WAITING_FOR_HEAD_SECONDS)


@pytest.fixture(scope="module")
def cluster():
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 0,
            "include_dashboard": False,
            "object_store_memory": OBJECT_STORE,
            "_system_config": QUICK_HEALTH_CHECKS,
        },
    )
    workers = [cluster.add_node(num_cpus=1, object_store_memory=OBJECT_STORE) for _ in range(2)]
    cluster.wait_for_nodes()
    try:
        yield cluster, workers
    finally:
        ray.shutdown()  # this process leaves the cluster first: Ray refuses to remove the node it is attached to
        cluster.shutdown()


def both_slots_placed(manager) -> None:
    """Wait until each slot of the module's manager has a warm actor placed on a node."""
    wait_for(lambda: all(manager.runner.worker_nodes().get(s) for s in (0, 1)), timeout=120, interval=0.2)


@pytest.fixture(scope="module")
def manager(cluster, tmp_path_factory):
    """The app's manager joining the cluster through RAY_ADDRESS, as a server does: two slots of one CPU."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_ADDRESS", cluster[0].address)
        manager = RunManager(
            RunStore(tmp_path_factory.mktemp("ray")),
            max_concurrent=2,
            runner="ray",
            cpus_per_run=1,
            warm_datasets=("shapes",),
        )
        try:
            both_slots_placed(manager)
            yield manager
        finally:
            manager.runner.shutdown()


def node_ids(nodes) -> set[str]:
    return {node.node_id for node in nodes}


def test_a_run_trains_on_a_worker_node_and_streams_its_metrics(cluster, manager):
    run = manager.start(SPEC, "shapes", SHORT)
    wait_for(lambda: len(run.batch_history()) >= 2, timeout=60)
    assert run.active  # the chart gets points while the cluster trains
    assert run.wait(120)
    assert run.status == Status.FINISHED, run.message
    assert manager.runner.placements[run.id] in node_ids(cluster[1])
    batches = run.batch_history()
    assert [b["step"] for b in batches] == list(range(1, 2 * 23 + 1))  # every batch, in order
    assert [e["epoch"] for e in run.epoch_history()] == [1, 2]
    assert 0 <= run.test_accuracy <= 1
    stored = manager.store.load(run.id)
    assert (stored.status, len(stored.batch_history()), stored.test_accuracy) == (
        Status.FINISHED,
        46,
        run.test_accuracy,
    )
    # The trained model and predictions came back to this server's store as bytes.
    import keras  # here, not at the top: collecting the suite (every xdist worker) never imports TensorFlow

    model = keras.models.load_model(manager.store.model_path(run.id))
    assert model.count_params() == run.params
    assert manager.store.predictions_path(run.id).exists()


def test_a_learners_imported_data_set_reaches_the_node_through_the_object_store(manager, tmp_path, monkeypatch):
    """The data set is saved only in this test's fresh home, which the cluster's nodes never saw."""
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(tmp_path))
    x, y = make_shapes(300, seed=5)
    name = UserDatasetStore().save(
        owner="learner",
        title="My shapes",
        arrays={"x_train": x[:240], "y_train": y[:240], "x_test": x[240:], "y_test": y[240:]},
        class_names=SHAPE_CLASSES,
    )
    run = manager.start(SPEC, name, Hyperparameters(epochs=1, batch_size=16, limit_test=60), owner="learner")
    assert run.wait(120)
    assert run.status == Status.FINISHED, run.message
    assert sum(sum(row) for row in run.results["confusion_matrix"]) == 60


def test_pause_resume_and_stop_each_take_effect_within_a_batch(manager):
    run = manager.start(SPEC, "shapes", Hyperparameters(epochs=30, batch_size=64, limit_train=1500, limit_test=50))
    wait_for(lambda: len(run.batch_history()) >= 2, timeout=60)
    assert manager.pause(run.id, "")
    wait_for(lambda: run.status == Status.PAUSED, timeout=10)
    held = len(run.batch_history())
    time.sleep(1.0)
    assert len(run.batch_history()) <= held + 1  # at most the batch that was under way
    assert manager.resume(run.id, "")
    wait_for(lambda: len(run.batch_history()) > held + 2, timeout=20)
    assert run.status == Status.RUNNING
    assert manager.pause(run.id, "")
    wait_for(lambda: run.status == Status.PAUSED, timeout=10)
    held = len(run.batch_history())
    # Stop while paused: the actor's trainer wakes and ends without one more batch.
    assert manager.stop(run.id, "")
    assert run.wait(30)
    assert run.status == Status.STOPPED and run.message.startswith("Stopped by you")
    assert len(run.batch_history()) == held
    assert manager.store.load(run.id).status == Status.STOPPED


def test_an_actor_that_stops_answering_while_its_node_looks_alive_fails_its_run_with_a_plain_message(
    manager, monkeypatch
):
    """Its process frozen (as a machine that stops answering would leave it): the run fails, the app goes on."""
    monkeypatch.setattr(ray_runner, "CALL_TIMEOUT_SECONDS", 2.0)
    monkeypatch.setattr(ray_runner, "UNREACHABLE_GRACE_SECONDS", 4.0)
    run = manager.start(SPEC, "shapes", LONG)
    wait_for(lambda: run.epoch >= 1, timeout=120)
    actor = next(
        a
        for a in manager.runner._actors.values()
        if a.train_ref is not None and manager.runner.placements[run.id] == a.node_id
    )
    pid = ray.get(actor.handle.__ray_call__.remote(lambda _: os.getpid()))
    os.kill(pid, signal.SIGSTOP)
    try:
        assert run.wait(60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert run.status == Status.FAILED and run.message == UNREACHABLE_MESSAGE
    assert manager.store.load(run.id).epoch_history() == run.epoch_history() and run.epoch >= 1
    after = manager.start(SPEC, "shapes", QUICK)  # the app goes on training on the cluster
    assert after.wait(120) and after.status == Status.FINISHED, after.message
    # The frozen actor's slot starts a new one (TensorFlow imported on its node while the next test trains).


def test_results_have_the_same_shape_as_the_process_runners_for_the_same_seed(manager, tmp_path):
    on_cluster = manager.start(SPEC, "shapes", SHORT)
    # The worker process without its warm-up (Fashion-MNIST read, the default model prepared ahead:
    # tests/training/test_worker_start.py's), which only delays its run here.
    local = RunManager(RunStore(tmp_path), max_concurrent=1, runner="process", trainer=KerasTrainer(warm_up=False))
    try:
        in_process = local.start(SPEC, "shapes", SHORT)
        assert on_cluster.wait(120) and in_process.wait(180)
    finally:
        local.runner.shutdown()
    assert on_cluster.status == in_process.status == Status.FINISHED
    assert len(on_cluster.batch_history()) == len(in_process.batch_history())
    assert [sorted(e) for e in on_cluster.epoch_history()] == [sorted(e) for e in in_process.epoch_history()]
    assert sorted(on_cluster.results) == sorted(in_process.results)
    assert (
        np.array(on_cluster.results["confusion_matrix"]).shape == np.array(in_process.results["confusion_matrix"]).shape
    )
    with (
        np.load(manager.store.predictions_path(on_cluster.id)) as remote,
        np.load(local.store.predictions_path(in_process.id)) as here,
    ):
        assert {k: remote[k].shape for k in remote} == {k: here[k].shape for k in here}
    both_slots_placed(manager)  # the frozen actor's replacement too: the next tests need both nodes' CPUs held


def test_a_run_waits_in_the_apps_queue_until_the_cluster_has_free_cpus(cluster, manager, tmp_path):
    """The module's manager holds both worker CPUs: another app's slot waits, and so does its run. Where and when
    it trains is what is tested, not what it learns: the other app's actor trains with PacedTrainer (no TensorFlow
    to import on the machine that joins), sent to it by value (the nodes have only `core`)."""
    ray.cloudpickle.register_pickle_by_value(paced_trainer)
    other = RunManager(
        RunStore(tmp_path), max_concurrent=1, runner="ray", cpus_per_run=1, warm_datasets=(), trainer=PacedTrainer()
    )
    try:
        run = other.start(SPEC, "shapes", QUICK)
        time.sleep(3.0)
        assert run.status == Status.QUEUED and other.queue_position(run.id) == 1
        cluster[0].add_node(num_cpus=1, object_store_memory=OBJECT_STORE)  # a machine joins
        assert run.wait(120)
        assert run.status == Status.FINISHED, run.message
    finally:
        other.runner.shutdown()


SERVER = """
import sys, time
from core.data.datasets import SHAPE_CLASSES, make_shapes
from core.data.user_datasets import UserDatasetStore
from core.training.presets import PRESETS
from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters

manager = RunManager(RunStore(sys.argv[1]), max_concurrent=1, runner="ray", cpus_per_run=1, warm_datasets=("shapes",))
run = manager.start(
    PRESETS["model1"].spec((28, 28, 1), 5), "shapes", Hyperparameters(epochs=4, batch_size=16, limit_train=300, limit_test=50)
)
while run.epoch < 1:
    time.sleep(0.05)
print(run.id, flush=True)
time.sleep(600)
"""


def test_after_a_server_restart_a_run_still_training_is_followed_again_to_its_end(cluster, manager, tmp_path):
    """A first server starts a run and is killed mid-run; a second server on the same store finds it."""
    if ray.available_resources().get("CPU", 0) < 1:  # the module's manager holds the two first nodes' CPUs
        cluster[0].add_node(num_cpus=1, object_store_memory=OBJECT_STORE)
    first = server_process(SERVER, str(tmp_path), env={"RAY_ADDRESS": cluster[0].address})
    try:
        run_id = first.stdout.readline().strip()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert run_id, "the first server did not start its run"

    second = RunManager(RunStore(tmp_path), max_concurrent=1, runner="ray", cpus_per_run=1, warm_datasets=())
    try:
        run = second.get(run_id, "")
        assert run is not None and run.active  # followed again, not marked interrupted
        assert run.epoch >= 1  # with its history so far
        assert run.wait(120)
        assert run.status == Status.FINISHED, run.message
        assert [e["epoch"] for e in run.epoch_history()] == [1, 2, 3, 4]
        assert [b["step"] for b in run.batch_history()] == list(range(1, 4 * 17 + 1))  # no batch lost or doubled
        assert second.store.model_path(run_id).exists()
        assert second.store.load(run_id).status == Status.FINISHED
    finally:
        second.runner.shutdown()
        # The nodes that joined for this test and the last: gone, a new actor for a slot of the module's manager
        # (the next test's lost node) waits instead of importing TensorFlow on one for nothing.
        for node in set(cluster[0].worker_nodes) - set(cluster[1]):
            cluster[0].remove_node(node)


def test_two_runs_train_on_two_nodes_at_once_and_a_lost_node_fails_only_its_run(cluster, manager):
    head_and_workers, workers = cluster
    doomed = manager.start(SPEC, "shapes", LONG)
    survivor = manager.start(SPEC, "shapes", Hyperparameters(epochs=6, batch_size=16, limit_train=200, limit_test=50))
    wait_for(lambda: doomed.batch_history() and survivor.batch_history(), timeout=60)
    assert doomed.status == survivor.status == Status.RUNNING  # at the same moment
    placements = manager.runner.placements
    assert {placements[doomed.id], placements[survivor.id]} == node_ids(workers)  # one run on each node

    wait_for(lambda: doomed.epoch >= 1, timeout=120)
    node = next(n for n in workers if n.node_id == placements[doomed.id])
    head_and_workers.remove_node(node, allow_graceful=False)
    assert doomed.wait(90)
    assert doomed.status == Status.FAILED and doomed.message == MACHINE_GONE_MESSAGE
    assert doomed.epoch >= 1 and len(doomed.epoch_history()) == doomed.epoch
    stored = manager.store.load(doomed.id)
    assert stored.status == Status.FAILED and len(stored.epoch_history()) == doomed.epoch

    assert survivor.wait(120)
    assert survivor.status == Status.FINISHED
    assert [e["epoch"] for e in survivor.epoch_history()] == [1, 2, 3, 4, 5, 6]
