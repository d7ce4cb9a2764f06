"""Shared test set-up: the repo root on sys.path, quiet TensorFlow, and no writes outside tmp dirs."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Never try Keras' download during tests (no internet here; it would only be slow).
os.environ["CNN_PLAYGROUND_OFFLINE"] = "1"

REAL_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Runs and the Keras cache go to temporary folders, never the user's data dir."""
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def subprocess_env(tmp_path):
    """Environment for `python -m core` and exported scripts run as subprocesses (own store folder)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["CNN_PLAYGROUND_OFFLINE"] = "1"
    env["CNN_PLAYGROUND_HOME"] = str(tmp_path / "home")
    return env
