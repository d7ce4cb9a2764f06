"""Fixtures of the training tests: the command line, called in this process or run as `python -m core`."""

import subprocess
import sys

import pytest

from core.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """`python -m core ARGS...` as a user types it, called in this process (``core.cli.main``): no
    interpreter and TensorFlow start-up per command. Same folder (tmp_path), store (tmp_path/home) and
    result (a CompletedProcess: returncode, stdout, stderr) as `cli_process`; fails on any traceback.

    ``timeout`` is accepted for `cli_process`'s signature; pytest-timeout bounds the test instead.
    """
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)

    def run(*args, timeout=300):
        argv = list(map(str, args))
        capsys.readouterr()  # only this command's output
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse: --help exits 0, a usage error 2
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return subprocess.CompletedProcess(["python", "-m", "core", *argv], code, out, err)

    return run


@pytest.fixture
def cli_process(subprocess_env, tmp_path):
    """`python -m core ARGS...` in a subprocess on its own store, for the tests of the entry point itself
    (its exit code and streams end to end); fails the test on any traceback."""

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
