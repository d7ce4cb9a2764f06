"""Fixtures of the browser tests: the app served by `streamlit run`, and a headless Chromium page.

One server is shared by the tests of a session (starting one, and its first page load importing TensorFlow,
costs seconds, tens of them on a busy machine): each test still sees a fresh app, because each browser context
has its own cookies, so its own anonymous user, who sees none of the others' runs, data sets or settings. It
starts in classroom mode (teacher's password `kit.TEACHER_PASSWORD`) with two training slots, so that the
classroom tests and the test of two learners training at once need no server of their own; a test that needs
the server to start otherwise gets one of its own (see `app_url`).

The browser tests are one pytest-xdist group (tests/conftest.py: two at once were tried and undone), but
nothing here assumes it: each worker that runs browser tests has its own server, Chromium, store and log
(`kit.SERVER_LOG` names the worker), and nothing waits on a fixed time.
"""

from __future__ import annotations

import os
import re

import pytest
from kit import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    SERVER_LOG,
    STARTUP_SECONDS,
    TEACHER_PASSWORD,
    new_tab,
    sync_api,
)

from dashboard.launch import AppServer, ServerDidNotStart, free_port

# Set for every test, never changing how the served app starts (its home is given to it).
PER_TEST_VARIABLES = {"CNN_PLAYGROUND_HOME", "PYTEST_CURRENT_TEST"}
# How the shared server starts, whatever the environment: classroom mode on (the Teacher page, the projector's
# challenges) and two trainings at once (two learners' runs train side by side, not one after the other).
SHARED_SETTINGS = {"CNN_PLAYGROUND_TEACHER_PASSWORD": TEACHER_PASSWORD, "CNN_PLAYGROUND_MAX_TRAININGS": "2"}


def start_server(server: AppServer) -> str:
    """Start one of the tests' servers (its log in test-artifacts); its address. A server that exits or does
    not answer in time fails the test with the end of its log. A port taken between its choice and the
    server's start (another worker's server, say) is replaced by another, once."""
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        try:
            return server.start(timeout=STARTUP_SECONDS).url
        except ServerDidNotStart as problem:
            if "already in use" not in str(problem):
                raise
            server.port = free_port()
            return server.start(timeout=STARTUP_SECONDS).url
    except ServerDidNotStart as problem:
        pytest.fail(f"the Streamlit server: {problem}")


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
            self.server = AppServer(home, SERVER_LOG, environment={**environment, **SHARED_SETTINGS})
            start_server(self.server)
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

    Usually the session's shared server (tmp_path/home is then a link to its store folder: what a test puts
    there after asking for this fixture, such as finished runs, the served app finds on its next page load).
    A test gets a server of its own, started for it and stopped after it, when its fixtures changed the
    environment the server starts with (a setting monkeypatched before asking for this fixture) or put
    something in tmp_path/home first.
    """
    home = tmp_path / "home"
    before = getattr(request.node, "environment_before_setup", dict(os.environ))
    changed = _changed_variables(before)
    if changed or home.exists():
        name = re.sub(r"[^\w.-]+", "-", request.node.name)[:80]
        server = AppServer(home, ARTIFACTS / f"browser-streamlit-{name}.log", environment=dict(os.environ))
        print(f"own server for this test ({'changed: ' + ', '.join(changed) if changed else 'prepared home'})")

        def stop_own() -> None:
            server.stop()
            if _failed(request):
                print(f"\n--- streamlit server log (full log: {server.log}) ---\n{server.log_tail()}")

        request.addfinalizer(stop_own)
        return start_server(server)

    shared = request.getfixturevalue("shared_app_server")
    server = shared.ensure_running(before)
    home.symlink_to(server.home, target_is_directory=True)

    def after_shared() -> None:
        if _failed(request):
            print(f"\n--- streamlit server log (full log: {server.log}) ---\n{server.log_tail()}")
            shared.stop()

    request.addfinalizer(after_shared)
    return server.url


@pytest.fixture
def classroom_url(app_url):
    """The served app with classroom mode on, the teacher's password `kit.TEACHER_PASSWORD`: the shared
    server (SHARED_SETTINGS). Its other tests' challenges are another teacher's (another browser's cookie)."""
    return app_url


@pytest.fixture(scope="session")
def playwright():
    """Playwright, started once for the session (each start runs its driver)."""
    with sync_api.sync_playwright() as started:
        yield started


class SharedChromium:
    """The session's one headless Chromium (a launch costs a second or two of a busy machine), launched
    again if it went away (crashed)."""

    def __init__(self, playwright):
        self.playwright, self.browser = playwright, None

    def get(self):
        if self.browser is None or not self.browser.is_connected():
            self.browser = self.playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        return self.browser

    def close(self) -> None:
        if self.browser is not None and self.browser.is_connected():
            self.browser.close()


@pytest.fixture(scope="session")
def _chromium(playwright):
    shared = SharedChromium(playwright)
    yield shared
    shared.close()


@pytest.fixture
def browser(_chromium):
    """The session's headless Chromium, for tabs made with ``kit.new_tab`` (each in a context of its own: its
    own cookies, so its own anonymous user); the contexts a test opened are closed after it."""
    chromium = _chromium.get()
    yield chromium
    if chromium.is_connected():
        for context in list(chromium.contexts):
            context.close()


@pytest.fixture
def page(browser):
    """A tab of headless Chromium, in a context of its own (a new anonymous user)."""
    return new_tab(browser, {"width": 1400, "height": 1000})
