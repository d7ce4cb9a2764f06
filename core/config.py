"""Server settings, from environment variables (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.model.spec import DEFAULT_PARAM_BUDGET

PREFIX = "CNN_PLAYGROUND_"
# The web server's limits in .streamlit/config.toml must equal these (a test checks): the app's own
# checks then reject, in plain words, anything the server would cut off without a message.
MAX_UPLOAD_MB = 50
MAX_MESSAGE_MB = 100


class SettingsError(ValueError):
    """A setting has a value the app cannot use; the message says which and what is allowed."""


def default_concurrency() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


def machine_memory_mb() -> int:
    """The machine's physical memory in MB (4,096 when the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 1024**2
    except (ValueError, OSError, AttributeError):
        return 4_096


def default_memory_budget_mb(slots: int) -> int:
    """Half the machine's memory shared by the training slots (the app, its data sets and TensorFlow's
    own runtime need the rest), at least 256 MB each."""
    return max(256, machine_memory_mb() // 2 // max(1, slots))


DEFAULT_MAX_WAITING_PER_USER = 2


@dataclass(frozen=True)
class Settings:
    runner: str = "process"  # "process" (pre-started worker processes) or "thread" (in this process)
    max_trainings: int = 0  # trainings at once; 0 means one per two cores
    worker_max_runs: int = 20  # a worker process is replaced after this many runs
    param_budget: int = DEFAULT_PARAM_BUDGET
    memory_budget_mb: int = 0  # most memory one training may need (estimated); 0: sized for the machine
    max_waiting_per_user: int = DEFAULT_MAX_WAITING_PER_USER  # runs one user may have waiting in the queue
    teacher_password: str = ""  # empty: classroom teacher actions are disabled

    @property
    def concurrency(self) -> int:
        return self.max_trainings or default_concurrency()

    @property
    def memory_budget(self) -> int:
        """MB one training may need: the setting, or half the machine's memory shared by the slots."""
        return self.memory_budget_mb or default_memory_budget_mb(self.concurrency)

    @classmethod
    def from_env(cls, environ=None) -> Settings:
        env = os.environ if environ is None else environ
        runner = env.get(PREFIX + "RUNNER", "process").strip().lower()
        if runner not in ("thread", "process"):
            raise SettingsError(f"{PREFIX}RUNNER must be 'thread' or 'process' (got {runner!r}).")
        return cls(
            runner=runner,
            max_trainings=env_whole_number(env, "MAX_TRAININGS", 0, 0, 64),
            worker_max_runs=env_whole_number(env, "WORKER_MAX_RUNS", 20, 1, 10_000),
            param_budget=env_whole_number(env, "PARAM_BUDGET", DEFAULT_PARAM_BUDGET, 1_000, 10**9),
            memory_budget_mb=env_whole_number(env, "MEMORY_BUDGET_MB", 0, 0, 10**7),
            max_waiting_per_user=env_whole_number(env, "MAX_WAITING_PER_USER", DEFAULT_MAX_WAITING_PER_USER, 1, 1_000),
            teacher_password=env.get(PREFIX + "TEACHER_PASSWORD", ""),
        )


def env_whole_number(env, name: str, default: int, low: int, high: int) -> int:
    """The whole-number setting CNN_PLAYGROUND_<name> from ``env``, checked against its range."""
    raw = env.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a whole number (got {raw!r}).") from None
    if not low <= value <= high:
        raise SettingsError(f"{PREFIX}{name} must be between {low:,} and {high:,} (got {value:,}).")
    return value
