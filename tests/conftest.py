"""Shared test set-up: quiet TensorFlow, no downloads, no writes outside tmp dirs, markers by folder.

The folders say what a test needs: unit (no TensorFlow), training (TensorFlow, small trainings), app
(Streamlit's AppTest), browser (the served app in headless Chromium), cluster (the Ray runner on a real
local Ray cluster). Each test gets its folder's marker, so `-m unit` or `-m "not browser"` picks a layer.
"""

import os
import sys
from pathlib import Path

import pytest
from helpers import FakeTrainer

from core.runs.manager import RunManager
from core.runs.store import RunStore

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("unit", "training", "app", "browser", "cluster")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Test clusters (tests/cluster) run every Ray service on 127.0.0.1, never on this machine's network address.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
# Never try Keras' download during tests (no internet here; it would only be slow).
os.environ["CNN_PLAYGROUND_OFFLINE"] = "1"
# The app's default runner is worker processes; the page tests (AppTest, and the served app of the
# browser tests, which inherits this environment) train in threads: quicker to start, same pages.
# Tests of the process runner choose it explicitly.
os.environ.setdefault("CNN_PLAYGROUND_RUNNER", "thread")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Runs and the Keras cache go to temporary folders, never the user's data dir."""
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def fake_trainer():
    """A trainer that trains nothing (tests/helpers.py): runs end in milliseconds."""
    return FakeTrainer()


@pytest.fixture
def manager(tmp_path, fake_trainer):
    """A run manager on its own store, one slot, with the fake trainer: for queue, pause, stop and
    ownership tests. Tests of training itself build a manager with the real trainer."""
    return RunManager(RunStore(tmp_path / "store"), max_concurrent=1, trainer=fake_trainer)


@pytest.fixture
def subprocess_env(tmp_path):
    """Environment for `python -m core` and exported scripts run as subprocesses (own store folder)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["CNN_PLAYGROUND_OFFLINE"] = "1"
    env["CNN_PLAYGROUND_HOME"] = str(tmp_path / "home")
    return env


# With pytest-xdist (`-n 2 --dist loadgroup`, as scripts/run_tests.sh runs the suite) a group's tests run in
# one worker, one after another: a module's tests share its module fixtures (one training, not one per
# worker); the browser tests share that worker's one app server and one Chromium; the Ray tests never run two
# local clusters at once. (Two browser groups at once, one per worker, were tried on 2026-12-04: the machine
# was then CPU-bound, the wall time did not drop, and a page's rerun lagged enough to fail a test.)
SERIAL_LAYERS = ("browser", "cluster")
# The order the groups are handed out in (xdist gives a free worker the next group): the longest first, so
# that the browser tests (one worker, several minutes) start at once while the other worker takes the Ray
# tests and then the rest, and the many short unit modules at the end fill up whichever worker is free first.
LAYER_ORDER = ("browser", "cluster", "app", "training", "unit")


def group_of(nodeid: str) -> str:
    """The xdist group of a test: its layer for the browser and Ray tests, else its layer and module."""
    path = Path(nodeid.split("::", 1)[0])
    layer = path.parent.name
    return layer if layer in SERIAL_LAYERS else f"{layer}/{path.name}"


def pytest_collection_modifyitems(items):
    for item in items:
        layer = Path(str(item.fspath)).parent.name
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, layer))
        item.add_marker(pytest.mark.xdist_group(group_of(item.nodeid)))
    rank = {layer: i for i, layer in enumerate(LAYER_ORDER)}
    # A stable sort: the files of a layer, and the tests of a file, keep their order.
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).parent.name, len(rank)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup` by `group_of`. xdist's own loadgroup reads the groups from test ids it rewrites, which
    pytest 9.2's structured node ids no longer allow (pytest-xdist issue 1386): every test was scheduled on
    its own, module fixtures were made once per worker and both workers ran browser and Ray tests at once."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid.split("@", 1)[0])  # (an older pytest: xdist's own suffix)

    return ByGroup(config, log)


def pytest_sessionfinish(session, exitstatus):
    session.config.suite_exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """The main pytest process ends at once, with pytest's own exit status, once everything is run and
    reported: TensorFlow's threads sometimes abort the interpreter's own exit afterwards ("terminate called
    without an active exception", then "Aborted"), which made a run whose every test passed exit non-zero.
    (Not in xdist's workers: they still hand their last reports to the main process.)"""
    status = getattr(config, "suite_exit_status", None)
    if status is None or hasattr(config, "workerinput") or "tensorflow" not in sys.modules:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
