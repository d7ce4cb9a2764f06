"""The suite's own scheduling (tests/conftest.py): which tests pytest-xdist keeps together in one worker."""

from pathlib import Path

import pytest

SUITE_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


@pytest.fixture
def suite(pytestconfig):
    """tests/conftest.py as pytest loaded it."""
    (plugin,) = [
        p for p in pytestconfig.pluginmanager.get_plugins() if getattr(p, "__file__", None) == str(SUITE_CONFTEST)
    ]
    return plugin


def test_browser_and_ray_tests_are_one_group_each_and_every_other_module_its_own(suite):
    group_of = suite.group_of
    assert group_of("tests/browser/test_browser.py::test_x") == group_of("tests/browser/test_browser_camera.py::t")
    assert group_of("tests/browser/test_browser.py::test_x") == "browser"
    assert group_of("tests/cluster/test_ray_runner.py::test_y[2]") == "cluster"
    assert group_of("tests/unit/test_spec.py::test_a") == group_of("tests/unit/test_spec.py::Test::test_b[x-1]")
    assert group_of("tests/unit/test_spec.py::test_a") != group_of("tests/unit/test_store.py::test_a")
    assert group_of("tests/training/test_export.py::test_a") != group_of("tests/app/test_export.py::test_a")


def test_loadgroup_is_scheduled_by_these_groups(suite, pytestconfig, monkeypatch):
    pytest.importorskip("xdist")
    monkeypatch.setattr(pytestconfig.option, "dist", "loadgroup", raising=False)
    monkeypatch.setattr(pytestconfig.option, "tx", ["popen"], raising=False)  # one worker (none is started)
    scheduler = suite.pytest_xdist_make_scheduler(pytestconfig, None)
    assert scheduler._split_scope("tests/browser/test_browser_camera.py::test_take") == "browser"
    assert scheduler._split_scope("tests/app/test_app.py::test_build@app/test_app.py") == "app/test_app.py"
    monkeypatch.setattr(pytestconfig.option, "dist", "load", raising=False)
    assert suite.pytest_xdist_make_scheduler(pytestconfig, None) is None  # other modes: xdist's own
