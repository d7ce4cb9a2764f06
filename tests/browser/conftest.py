"""Fixtures of the browser tests: the app served by `streamlit run`, and a headless Chromium page.

One server is shared by the tests of a session (starting one, and its first page load importing TensorFlow,
costs seconds): each test still sees a fresh app, because each browser context has its own cookies, so
its own anonymous user, who sees none of the others' runs, data sets or settings. A test that needs the
server to start differently gets one of its own (see `app_url`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from kit import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    SERVER_LOG,
    STARTUP_SECONDS,
    free_port,
    log_tail,
    new_tab,
    python,
    sync_api,
)

# Set for every test, never changing how the served app starts (its home is given to it).
PER_TEST_VARIABLES = {"CNN_PLAYGROUND_HOME", "PYTEST_CURRENT_TEST"}


class AppServer:
    """`streamlit run dashboard/app.py` on a free port of 127.0.0.1, on the store folder ``home``, its
    output in ``log``; started by `start`, ended (with every process it started) by `stop`."""

    def __init__(self, home: Path, environment: dict, log: Path):
        self.home, self.environment, self.log = home, environment, log
        self.process: subprocess.Popen | None = None
        self.url = ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> str:
        ARTIFACTS.mkdir(exist_ok=True)
        port = free_port()
        env = dict(
            self.environment,
            CNN_PLAYGROUND_HOME=str(self.home),
            CNN_PLAYGROUND_OFFLINE="1",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONUNBUFFERED="1",
        )
        with self.log.open("w") as log:  # the server keeps its own copy of the file open
            self.process = subprocess.Popen(
                [
                    python(),
                    "-m",
                    "streamlit",
                    "run",
                    "dashboard/app.py",
                    "--server.port",
                    str(port),
                    "--server.headless",
                    "true",
                    "--server.address",
                    "127.0.0.1",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if self.process.poll() is not None:
                pytest.fail(
                    f"the Streamlit server exited with code {self.process.returncode}:\n{log_tail(path=self.log)}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        return self.url
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(
                    f"the Streamlit server did not answer on {self.url} within {STARTUP_SECONDS} s:\n"
                    f"{log_tail(path=self.log)}"
                )
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: this server and nothing else
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self.process = None


class SharedAppServer:
    """The session's server, started when a test first asks for it, on a fresh store folder; after a test
    that failed it is stopped, so that whatever that test left training never reaches the next test."""

    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.server: AppServer | None = None

    def ensure_running(self, environment: dict) -> AppServer:
        """The running server, else a new one started with ``environment``."""
        if self.server is None or not self.server.running:
            self.stop()
            home = self.tmp_path_factory.mktemp("served-app") / "home"
            home.mkdir()
            self.server = AppServer(home, environment, SERVER_LOG)
            self.server.start()
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """The environment before this test's fixtures ran: what `app_url` compares with to see whether the
    test changed how the server must start (imports such as TensorFlow's set variables of their own
    for good, so the environment of the session's start would not do)."""
    item.environment_before_setup = dict(os.environ)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report on the test item (``item.report_call``...), for fixtures that act on a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request) -> bool:
    return any(getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call"))


def _changed_variables(before: dict) -> list[str]:
    """Environment variables this test's fixtures set, changed or removed (monkeypatch) since ``before``."""
    names = (set(os.environ) | set(before)) - PER_TEST_VARIABLES
    return sorted(name for name in names if os.environ.get(name) != before.get(name))


@pytest.fixture(scope="session")
def shared_app_server(tmp_path_factory):
    shared = SharedAppServer(tmp_path_factory)
    yield shared
    shared.stop()


@pytest.fixture
def app_url(tmp_path, request):
    """The address of the app served by `streamlit run`; its store folder is ``tmp_path / "home"``.

    Usually the session's shared server (tmp_path/home is then a link to its store folder). A test gets a
    server of its own, started for it and stopped after it, when its fixtures changed the environment the
    server starts with (a setting monkeypatched before asking for this fixture, such as classroom mode) or
    put something in tmp_path/home first (runs the served app must find).
    """
    home = tmp_path / "home"
    before = getattr(request.node, "environment_before_setup", dict(os.environ))
    changed = _changed_variables(before)
    if changed or home.exists():
        name = re.sub(r"[^\w.-]+", "-", request.node.name)[:80]
        server = AppServer(home, dict(os.environ), ARTIFACTS / f"browser-streamlit-{name}.log")
        print(f"own server for this test ({'changed: ' + ', '.join(changed) if changed else 'prepared home'})")

        def stop_own() -> None:
            server.stop()
            if _failed(request):
                print(f"\n--- streamlit server log (full log: {server.log}) ---\n{log_tail(path=server.log)}")

        request.addfinalizer(stop_own)
        return server.start()

    shared = request.getfixturevalue("shared_app_server")
    server = shared.ensure_running(before)
    home.symlink_to(server.home, target_is_directory=True)

    def after_shared() -> None:
        if _failed(request):
            print(f"\n--- streamlit server log (full log: {server.log}) ---\n{log_tail(path=server.log)}")
            shared.stop()

    request.addfinalizer(after_shared)
    return server.url


@pytest.fixture
def page():
    """A tab of a fresh headless Chromium, in a context of its own (a new anonymous user)."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield new_tab(browser, {"width": 1400, "height": 1000})
        finally:
            browser.close()
