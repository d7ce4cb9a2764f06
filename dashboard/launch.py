"""The `cnn-playground` command: serve the app with Streamlit (extra arguments go to `streamlit run`); and
`AppServer`, the app served in the background on a free loopback port, which the browser tests
(tests/browser) and the benchmarks (bench/) start and stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
PROJECT = APP.parent.parent


def main() -> int:
    from streamlit.web import cli

    # Streamlit reads .streamlit/config.toml from the working directory: serve from the project folder
    # so its settings (upload limits, XSRF, no garbage collection after each rerun) apply wherever the
    # command is typed.
    if (PROJECT / ".streamlit" / "config.toml").exists():
        os.chdir(PROJECT)
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    return cli.main()


# --- the app served in the background (the browser tests and the benchmarks) ----------------------------


class ServerDidNotStart(RuntimeError):
    """The background server exited, or did not answer its health check in time (the message has its log's end)."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AppServer:
    """The app served by `streamlit run dashboard/app.py` in the background, as the browser tests and the
    benchmarks use it: on a free port of 127.0.0.1 (``url``), on the store folder ``home``, offline, its output
    in the file ``log``; ``environment`` (default: this process's) with ``settings`` (environment variables,
    such as ``CNN_PLAYGROUND_RUNNER="thread"``) on top. ``project`` is the folder it is served from (another
    checkout, for a benchmark comparing two); ``streamlit`` the command's words (``("hello",)``: Streamlit's
    own demo).

    Each start is a process session of its own (``start_new_session``), so `stop` ends the server and every
    process it started (training workers included), and nothing else.
    """

    def __init__(
        self,
        home: Path,
        log: Path,
        *,
        environment: dict | None = None,
        port: int | None = None,
        project: Path = PROJECT,
        streamlit: tuple[str, ...] = ("run", "dashboard/app.py"),
        **settings,
    ):
        self.home, self.log, self.project, self.streamlit = Path(home), Path(log), Path(project), tuple(streamlit)
        self.port = port or free_port()
        self.env = dict(
            os.environ if environment is None else environment,
            CNN_PLAYGROUND_HOME=str(home),
            CNN_PLAYGROUND_OFFLINE="1",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONUNBUFFERED="1",
            **{name: str(value) for name, value in settings.items()},
        )
        self.process: subprocess.Popen | None = None
        self.groups: list[int] = []  # the process sessions started and not yet ended by stop()
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 120) -> AppServer:
        """Start the server and wait until its health check answers; `ServerDidNotStart` (the server
        stopped) if it exits first or does not answer within ``timeout`` seconds."""
        self.starts += 1
        with self.log.open("w" if self.starts == 1 else "a") as log:  # the server keeps its own copy open
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", *self.streamlit, "--server.port", str(self.port)]
                + ["--server.headless", "true", "--server.address", "127.0.0.1"],
                cwd=self.project,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.groups.append(self.process.pid)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise ServerDidNotStart(f"the server exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        return self
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ServerDidNotStart(
                    f"the server did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(0.5)

    def log_tail(self, limit: int = 6000) -> str:
        """The end of the server's output."""
        return self.log.read_text(errors="replace")[-limit:] if self.log.exists() else "(no log)"

    def kill9(self) -> None:
        """SIGKILL the server process alone, as `kill -9 PID` would (its children are left to themselves)."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """End every process session this object started (the server, its workers, orphans), TERM then KILL."""
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGTERM)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)  # whatever ignored TERM, orphaned workers included
        if self.process is not None and self.process.poll() is None:
            self.process.wait(timeout=15)
        self.groups.clear()


if __name__ == "__main__":
    sys.exit(main())
