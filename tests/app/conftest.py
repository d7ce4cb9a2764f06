"""Fixtures of the AppTest tests: each test's app runs on its own run store, with a manager built for it."""

import pytest
from helpers import APP, TIMEOUT, restart_app_server
from streamlit.testing.v1 import AppTest


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
