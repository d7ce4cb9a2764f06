"""Fixtures of the AppTest tests: a fresh app session on its own run store."""

import pytest
from helpers import APP, TIMEOUT
from streamlit.testing.v1 import AppTest

import core.runs.manager
from dashboard import session


@pytest.fixture
def app():
    """A fresh app session on its own run store."""
    core.runs.manager._default = None  # the process-wide manager is rebuilt on this test's store folder
    session.manager.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at
