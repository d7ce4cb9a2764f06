"""Fixtures of the training tests."""

import subprocess
import sys

import pytest


@pytest.fixture
def cli(subprocess_env, tmp_path):
    """`python -m core ARGS...` in a subprocess on its own store; fails the test on any traceback."""

    def run(*args, timeout=300):
        done = subprocess.run(
            [sys.executable, "-m", "core", *map(str, args)],
            capture_output=True,
            text=True,
            env=subprocess_env,
            cwd=tmp_path,
            timeout=timeout,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    return run
