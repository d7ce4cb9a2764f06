"""Shared test set-up: quiet TensorFlow, no downloads, no writes outside tmp dirs, markers by folder.

The folders say what a test needs: unit (no TensorFlow), training (TensorFlow, small trainings), app
(Streamlit's AppTest), browser (the served app in headless Chromium), cluster (the Ray runner on a real
local Ray cluster). Each test gets its folder's marker, so `-m unit` or `-m "not browser"` picks a layer.
"""

import os
from pathlib import Path

import pytest
from helpers import FakeTrainer

from core.runs.manager import RunManager
from core.runs.store import RunStore

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("unit", "training", "app", "browser", "cluster")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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


def pytest_collection_modifyitems(items):
    for item in items:
        layer = Path(str(item.fspath)).parent.name
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, layer))
