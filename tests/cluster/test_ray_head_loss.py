"""The cluster's head node going away while the app runs: the app stays up and falls back to this server.

A web server joined to a cluster is a driver attached to a Ray node; when the head goes away (here every
process of the head node is killed, the node the server is attached to), Ray would end the server's
process within a minute (RAY_gcs_rpc_server_reconnect_timeout_s, 60 s; a few seconds here, so that the test
need not wait a minute past it). The server runs in a subprocess of its own with its own cluster, so that the
test process is never attached to a cluster that went away. What is tested is where the runs go and that the
server outlives Ray's wait, not what they learn: they train with tests/training/paced_trainer.py's PacedTrainer (no
TensorFlow to import, on the cluster's node nor in the worker process the server falls back to).
"""

import json
import os
import signal
from pathlib import Path

import pytest
from helpers import server_process

pytest.importorskip("ray")

RAY_GIVES_UP_SECONDS = 5  # Ray's own minute, shortened: it ends a process whose head has been gone this long

PACED_TRAINER_FOLDER = Path(__file__).resolve().parents[1] / "training"

SERVER = """
import json, os, sys, tempfile, time
import ray
from ray.cluster_utils import Cluster
import paced_trainer
from core.runs.ray import cluster as health
from core.training.presets import PRESETS
from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters

ray.cloudpickle.register_pickle_by_value(paced_trainer)  # to the actor by value: the node has only `core`

MB = 1024 * 1024
health.HEAD_CHECK_SECONDS, health.HEAD_LOST_SECONDS = 0.5, 3.0  # the app's own wait (2 s, 10 s), shortened
cluster = Cluster(
    initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False, "object_store_memory": 80 * MB}
)
try:
    cluster.add_node(num_cpus=1, object_store_memory=80 * MB)
    cluster.wait_for_nodes()
    os.environ["RAY_ADDRESS"] = cluster.address
    # A batch every 50 ms, 5 an epoch: the long run is still under way well after the head went away.
    trainer = paced_trainer.PacedTrainer(seconds_per_batch=0.05, batches_per_epoch=5)
    manager = RunManager(
        RunStore(sys.argv[1]), max_concurrent=1, runner="ray", cpus_per_run=1, warm_datasets=(), trainer=trainer
    )
    spec = PRESETS["model1"].spec((28, 28, 1), 5)
    quick = Hyperparameters(epochs=1, batch_size=16, limit_train=100, limit_test=50)
    long_run = manager.start(spec, "shapes", Hyperparameters(epochs=200, batch_size=16, limit_train=100, limit_test=50))
    waiting = manager.start(spec, "shapes", quick)  # one slot: this one waits in the queue
    while long_run.epoch < 2:
        time.sleep(0.1)
    cluster.head_node.kill_all_processes(check_alive=False, allow_graceful=False)
    head_gone = time.time()
    assert long_run.wait(120) and waiting.wait(120)
    after = manager.start(spec, "shapes", quick)
    assert after.wait(120)
    while time.time() - head_gone < 2 * float(sys.argv[2]):  # twice the time Ray would end this process in
        time.sleep(1)
    stored = manager.store.load(long_run.id)
    print(json.dumps({
        "notice": manager.notice,
        "long": [long_run.status, long_run.message, long_run.epoch, stored.status, len(stored.epoch_history())],
        "waiting": [waiting.status, waiting.message],
        "after": [after.status, after.message],
        "runner": type(manager.runner).__name__,
    }), flush=True)
finally:
    cluster.shutdown()
    os._exit(0)  # Ray's exit handlers would wait for the head that went away
"""


def test_losing_the_head_node_fails_the_run_under_way_and_the_class_trains_on_this_server(tmp_path):
    env = {
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # the server's own cluster, on 127.0.0.1
        "RAY_ADDRESS": "",
        # Every process of the cluster (the worker node's raylet and the actor on it too) gives up on the head
        # after this; the app sets it for the web server's own process.
        "RAY_gcs_rpc_server_reconnect_timeout_s": str(RAY_GIVES_UP_SECONDS),
        "PYTHONPATH": os.pathsep.join([os.getcwd(), str(PACED_TRAINER_FOLDER)]),  # paced_trainer, in its workers too
    }
    server = server_process(SERVER, str(tmp_path), str(RAY_GIVES_UP_SECONDS), env=env, own_session=True)
    try:
        output, _ = server.communicate(timeout=300)
    finally:
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # Ray's own processes share the server's standard output and may write a log line after the report.
    reports = [line for line in output.splitlines() if line.startswith('{"notice": ')]
    assert reports, f"the server ended without a report (Ray ended it?):\n{output[-3000:]}"
    report = json.loads(reports[-1])

    assert report["notice"].startswith("The training cluster went away")
    assert "Training runs on this server instead" in report["notice"]
    status, message, epochs, stored_status, stored_epochs = report["long"]
    assert status == stored_status == "failed"
    assert message.startswith("The training cluster went away while this run trained — train again")
    assert epochs >= 2 and stored_epochs == epochs  # its history up to then is kept
    assert report["waiting"] == ["finished", ""]  # moved from the cluster's queue to this server
    assert report["after"] == ["finished", ""]
    assert report["runner"] == "ProcessRunner"
