"""Real jobs, tiny: the learning-rate finder and the speed measurement trained as runs of their own kind by
the thread runner and by worker processes, giving what the finder computes when called directly."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers import wait_for

from core.runs.manager import RunManager
from core.runs.record import Kind, Status
from core.runs.store import RunStore
from core.training import lr_finder, speed
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec((28, 28, 1), 5)
SETTINGS = Hyperparameters(epochs=4, batch_size=32, limit_train=640, seed=3)
STEPS = 60  # enough for the loss to fall and a value to be suggested


@pytest.fixture(scope="module")
def direct():
    """The range test called directly, as the CLI does."""
    return lr_finder.lr_range_test(SPEC, "shapes", SETTINGS, steps=STEPS)


def _assert_same_finding(results: dict, direct: lr_finder.LrFinding) -> None:
    finding = lr_finder.LrFinding.from_results(results)
    assert finding.learning_rates == pytest.approx(direct.learning_rates)
    # Same seed, data and schedule; only TensorFlow's thread pools may differ between processes.
    np.testing.assert_allclose(finding.losses, direct.losses, rtol=1e-3, atol=1e-4)
    assert direct.suggestion is not None and finding.suggestion == pytest.approx(direct.suggestion, rel=0.3)


def test_a_learning_rate_job_on_the_thread_runner_finds_what_the_finder_finds(tmp_path, direct):
    manager = RunManager(RunStore(tmp_path), max_concurrent=1)
    hp, options = lr_finder.job_settings(SETTINGS, steps=STEPS)
    job = wait_for(manager.start_job(Kind.LR_FIND, SPEC, "shapes", hp, owner="ann", options=options), timeout=300)
    assert job.status == Status.FINISHED, job.message
    assert len(job.batch_history()) == len(direct.losses)  # its progress: each batch, as it trained
    assert [b["learning_rate"] for b in job.batch_history()] == pytest.approx(direct.learning_rates)
    _assert_same_finding(job.results, direct)
    saved = manager.store.load(job.id)  # the answer outlives the page that asked
    _assert_same_finding(saved.results, direct)
    assert manager.list("ann") == []


def test_a_speed_job_on_the_thread_runner_measures_this_server(tmp_path):
    manager = RunManager(RunStore(tmp_path), max_concurrent=1)
    hp, options = speed.job_settings(32, examples=320)
    job = wait_for(manager.start_job(Kind.SPEED_PROBE, SPEC, "shapes", hp, owner="ann", options=options), timeout=300)
    assert job.status == Status.FINISHED, job.message
    measured = speed.Speed.from_results(job.results)
    assert measured.train_seconds_per_example > 0 and measured.predict_seconds_per_example > 0
    per_epoch = speed.fitted_examples(10**6, 320) // 32  # 288 examples fitted: 9 batches an epoch
    assert len(job.batch_history()) == speed.MEASURE_EPOCHS * per_epoch and job.progress().fraction == 1.0


# A web server training in worker processes: it queues both jobs, reads their answers, and never imports
# TensorFlow itself.
SERVER = textwrap.dedent(
    """
    import json, sys
    from core.training.presets import PRESETS
    from core.runs.manager import RunManager
    from core.runs.record import Kind
    from core.runs.runners import KerasTrainer
    from core.runs.store import RunStore
    from core.training import lr_finder, speed
    from core.training.hyperparams import Hyperparameters

    spec = PRESETS["model1"].spec((28, 28, 1), 5)
    # (no warm-up: reading Fashion-MNIST and preparing the app's default model is not what is tested here)
    manager = RunManager(RunStore(sys.argv[1]), runner="process", max_concurrent=1, trainer=KerasTrainer(False))
    hp, options = lr_finder.job_settings(
        Hyperparameters(epochs=4, batch_size=32, limit_train=640, seed=3), steps=int(sys.argv[2])
    )
    finder = manager.start_job(Kind.LR_FIND, spec, "shapes", hp, owner="ann", options=options)
    hp, options = speed.job_settings(32, examples=320)
    probe = manager.start_job(Kind.SPEED_PROBE, spec, "shapes", hp, owner="ann", options=options)
    finder.wait(600), probe.wait(600)
    print(json.dumps({
        "finder": [finder.status, finder.results, len(finder.batch_history())],
        "probe": [probe.status, speed.Speed.from_results(probe.results) is not None],
        "tensorflow": "tensorflow" in sys.modules or "keras" in sys.modules,
    }))
    manager.runner.shutdown()
    """
)


def test_jobs_train_in_worker_processes_and_the_server_never_imports_tensorflow(tmp_path, direct):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = subprocess.run(
        [sys.executable, "-c", SERVER, str(tmp_path), str(STEPS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    status, results, batches = seen["finder"]
    assert status == Status.FINISHED and batches == len(direct.losses)  # each batch relayed back from the worker
    _assert_same_finding(results, direct)
    assert seen["probe"] == [Status.FINISHED, True]
    assert seen["tensorflow"] is False
