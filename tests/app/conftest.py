"""Fixtures of the AppTest tests: each test's app runs on its own run store, with a manager built for it."""

import functools

import pytest
from helpers import APP, TIMEOUT, restart_app_server
from streamlit.components.v2 import manifest_scanner
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import app_test, local_script_runner
from streamlit.testing.v1.app_test import AppTest

from core.training import speed

# The Teacher page's speed measurement trains 2,048 images three times; 320 give the same answer's shape (its
# batches, its progress, an expected time) in a sixth of the time (tests/training/test_jobs_training.py's size).
# A page test's measurement also trains on after its test in the thread runner, beside the next tests.
MEASURE_EXAMPLES = 320


def _script_ended(runner, timeout: float = 3) -> None:
    """AppTest's wait for a script run (local_script_runner.require_widgets_deltas), on the script's thread
    instead of polling it every millisecond (each poll took the interpreter from the page being run): the
    thread ends once the run has (SHUTDOWN is its last event); the same error after the same timeout."""
    runner._script_thread.join(timeout)
    if runner.script_stopped():
        return
    runner.request_stop()
    runner.join()
    raise RuntimeError(f"AppTest script run timed out after {timeout}(s)")


@pytest.fixture(autouse=True, scope="session")
def apptest_as_one_server():
    """AppTest's own costs, paid once as a served app pays them, not once per script run or per session:
    the pages' compiled scripts (a server keeps one script cache; AppTest compiled app.py and the page,
    with Streamlit's magic, on every run) and the installed packages' component manifests (a server reads
    them at start; AppTest read the metadata of every installed package for each new session). The pages
    run as before: nothing here changes what a script does or what a test sees."""
    scripts = ScriptCache()
    manifests = manifest_scanner.scan_component_manifests()
    patch = pytest.MonkeyPatch()
    patch.setattr(app_test, "ScriptCache", lambda: scripts)
    patch.setattr(local_script_runner, "ScriptCache", lambda: scripts)
    patch.setattr(manifest_scanner, "scan_component_manifests", lambda *_, **__: list(manifests))
    patch.setattr(local_script_runner, "require_widgets_deltas", _script_ended)
    patch.setattr(speed, "job_settings", functools.partial(speed.job_settings, examples=MEASURE_EXAMPLES))
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def fresh_app_server():
    """The process-wide run manager is rebuilt on this test's store folder (see the root conftest)."""
    restart_app_server()


@pytest.fixture
def app():
    """A fresh app session on its own run store."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at
