"""Fixtures of the browser tests: the app served by `streamlit run`, and a headless Chromium page."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

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


@pytest.fixture
def app_url(tmp_path, request):
    """`streamlit run dashboard/app.py` on a free port with its own run store; stopped at the end."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    env = dict(
        os.environ,
        CNN_PLAYGROUND_HOME=str(tmp_path / "home"),
        CNN_PLAYGROUND_OFFLINE="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
    )
    log = SERVER_LOG.open("w")
    server = subprocess.Popen(
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
    failed_before = request.session.testsfailed

    def stop() -> None:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # its own session: this server and nothing else
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=15)
        log.close()
        if request.session.testsfailed > failed_before:
            print(f"\n--- streamlit server log (full log: {SERVER_LOG}) ---\n{log_tail()}")

    request.addfinalizer(stop)

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if server.poll() is not None:
            pytest.fail(f"the Streamlit server exited with code {server.returncode}:\n{log_tail()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    break
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the Streamlit server did not answer on {url} within {STARTUP_SECONDS} s:\n{log_tail()}")
        time.sleep(0.5)
    return url


@pytest.fixture
def page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield new_tab(browser, {"width": 1400, "height": 1000})
        finally:
            browser.close()
