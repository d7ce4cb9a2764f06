"""Unit tests are pure Python: none of them may load TensorFlow (or Keras, which loads it), neither when
its module is imported nor while it runs. Tests that need it belong in tests/training."""

import sys
from pathlib import Path

import pytest

HEAVY = ("tensorflow", "keras")
UNIT = Path(__file__).parent


def _loaded() -> set[str]:
    return {name for name in HEAVY if name in sys.modules}


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    before = _loaded()
    outcome = yield
    path = getattr(collector, "path", None)
    new = _loaded() - before
    if new and isinstance(collector, pytest.Module) and path is not None and path.parent == UNIT:
        raise pytest.UsageError(f"{path.name} imports {', '.join(sorted(new))}: move it to tests/training")
    return outcome


@pytest.fixture(autouse=True)
def _no_tensorflow():
    before = _loaded()
    yield
    new = _loaded() - before
    assert not new, f"this unit test loaded {', '.join(sorted(new))}: move it to tests/training"
