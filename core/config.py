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


RUNNER_NAMES = ("thread", "process", "ray")


class SettingsError(ValueError):
    """A setting has a value the app cannot use; the message says which and what is allowed."""


def default_concurrency() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


@dataclass(frozen=True)
class Settings:
    runner: str = "thread"  # "thread" (in this process), "process" (worker processes) or "ray" (a cluster)
    max_trainings: int = 0  # trainings at once; 0 means one per two cores
    worker_max_runs: int = 20  # a worker process is replaced after this many runs
    param_budget: int = DEFAULT_PARAM_BUDGET
    teacher_password: str = ""  # empty: classroom teacher actions are disabled
    ray_cpus_per_run: int = 2  # with "ray": CPUs each run's actor asks the cluster for
    ray_gpu: bool = False  # with "ray": each run asks for a GPU when the cluster has one
    ray_local_cpus: int = 0  # with "ray" and no RAY_ADDRESS: CPUs of the local Ray; 0 means all

    @property
    def concurrency(self) -> int:
        return self.max_trainings or default_concurrency()

    @classmethod
    def from_env(cls, environ=None) -> Settings:
        env = os.environ if environ is None else environ
        runner = env.get(PREFIX + "RUNNER", "thread").strip().lower()
        if runner not in RUNNER_NAMES:
            raise SettingsError(f"{PREFIX}RUNNER must be 'thread', 'process' or 'ray' (got {runner!r}).")
        gpu = env.get(PREFIX + "RAY_GPU", "0").strip().lower()
        if gpu not in ("0", "1", "yes", "no", "true", "false", ""):
            raise SettingsError(f"{PREFIX}RAY_GPU must be 1 (use a GPU where the cluster has one) or 0 (got {gpu!r}).")
        return cls(
            runner=runner,
            max_trainings=env_whole_number(env, "MAX_TRAININGS", 0, 0, 64),
            worker_max_runs=env_whole_number(env, "WORKER_MAX_RUNS", 20, 1, 10_000),
            param_budget=env_whole_number(env, "PARAM_BUDGET", DEFAULT_PARAM_BUDGET, 1_000, 10**9),
            teacher_password=env.get(PREFIX + "TEACHER_PASSWORD", ""),
            ray_cpus_per_run=env_whole_number(env, "RAY_CPUS_PER_RUN", 2, 1, 256),
            ray_gpu=gpu in ("1", "yes", "true"),
            ray_local_cpus=env_whole_number(env, "RAY_LOCAL_CPUS", 0, 0, 1024),
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
