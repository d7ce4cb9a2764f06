"""Server settings, from environment variables (documented in docs/configuration.md, whose table settings_markdown() writes)."""

from __future__ import annotations

import os
from dataclasses import dataclass

PREFIX = "CNN_PLAYGROUND_"
# Where trainings run, by name (core.runs.runners imports core.runs.<name>_runner for the one chosen).
RUNNER_NAMES = ("thread", "process", "ray")
DEFAULT_PARAM_BUDGET = 5_000_000  # most parameters a model may have, unless the server sets another budget
# The web server's limits in .streamlit/config.toml must equal these (a test checks): the app's own
# checks then reject, in plain words, anything the server would cut off without a message.
MAX_UPLOAD_MB = 50
MAX_MESSAGE_MB = 100


class SettingsError(ValueError):
    """A setting has a value the app cannot use; the message says which and what is allowed."""


@dataclass(frozen=True)
class EnvNumber:
    """A whole-number setting read from CNN_PLAYGROUND_<name>, with its default and allowed range."""

    name: str
    default: int
    low: int
    high: int
    meaning: str


# Every whole-number setting the environment can give, server and image import alike (docs/configuration.md's
# table lists them): Settings and core.data.image_import.ImportLimits both read this table.
ENV_NUMBERS: dict[str, EnvNumber] = {
    s.name: s
    for s in [
        EnvNumber("MAX_TRAININGS", 0, 0, 64, "trainings at once; 0 means one per two cores"),
        EnvNumber("WORKER_MAX_RUNS", 20, 1, 10_000, "with the process or ray runner: runs before a worker is replaced"),
        EnvNumber("RAY_CPUS_PER_RUN", 2, 1, 256, "with the ray runner: CPUs each training asks the cluster for"),
        EnvNumber("RAY_LOCAL_CPUS", 0, 0, 1024, "with the ray runner and no RAY_ADDRESS: CPUs of the local Ray"),
        EnvNumber("PARAM_BUDGET", DEFAULT_PARAM_BUDGET, 1_000, 10**9, "most parameters a model may have"),
        EnvNumber(
            "MEMORY_BUDGET_MB", 0, 0, 10**7, "most MB one training may need (estimated); 0: sized for the machine"
        ),
        EnvNumber("MAX_WAITING_PER_USER", 2, 1, 1_000, "runs one user may have waiting in the queue"),
        EnvNumber("IMPORT_MAX_FILES", 10_000, 1, 10**7, "image import: most entries in a zip"),
        EnvNumber("IMPORT_MAX_TOTAL_MB", 1_000, 1, 10**7, "image import: most MB a zip may unpack to"),
        EnvNumber("IMPORT_MAX_FILE_MB", 50, 1, 10**7, "image import: most MB one file may unpack to"),
        EnvNumber("IMPORT_MAX_RATIO", 100, 1, 10**7, "image import: most a file over 1 MB may be compressed"),
        # At most PIL's own bomb limit: above it PIL would refuse the image before our check could say why.
        EnvNumber("IMPORT_MAX_PIXELS", 40_000_000, 1, 89_478_485, "image import: most pixels of one image"),
        EnvNumber("IMPORT_MAX_PER_CLASS", 2_000, 1, 10**7, "image import: most images used per class"),
    ]
}


@dataclass(frozen=True)
class EnvSetting:
    """One environment variable as docs/configuration.md lists it."""

    variable: str
    meaning: str
    default: str


# The settings that are not whole numbers; with ENV_NUMBERS they are every variable the app reads.
_OTHER_SETTINGS = [
    EnvSetting(PREFIX + "HOME", "where runs, models, data sets and challenges are stored", "the user data folder"),
    EnvSetting(
        PREFIX + "RUNNER",
        "`process`, `thread` or `ray`: where trainings run (see *Which runner* below and docs/cluster.md)",
        "`process`",
    ),
    EnvSetting(PREFIX + "RAY_GPU", "with the ray runner: `1` lets each training ask for a GPU the cluster has", "`0`"),
    EnvSetting(PREFIX + "TEACHER_PASSWORD", "turns on classroom mode (the Teacher page)", "off"),
    EnvSetting(
        PREFIX + "SECRET",
        "the key that signs teachers' login cookies",
        "a random key kept in `secret.key` in the home folder",
    ),
    EnvSetting(PREFIX + "OFFLINE", "set to anything: never try Keras' downloads of MNIST/Fashion-MNIST", "unset"),
    EnvSetting("FASHION_MNIST_DIR", "a folder with Fashion-MNIST's four `.gz` files", "Debian's package folder"),
    EnvSetting("MNIST_DIR", "a folder with MNIST's `mnist.npz` or its four `.gz` files", "unset"),
]

_NUMBER_DEFAULT_TEXT = {
    "MAX_TRAININGS": "one per two cores; with ray: as many as the cluster's CPUs hold",
    "MEMORY_BUDGET_MB": "half the machine's memory ÷ trainings at once",
    "RAY_LOCAL_CPUS": "all",
}


def environment_settings() -> list[EnvSetting]:
    """Every environment variable the app reads, in the order docs/configuration.md lists them."""
    numbers = [
        EnvSetting(PREFIX + s.name, s.meaning, _NUMBER_DEFAULT_TEXT.get(s.name, f"{s.default:,}"))
        for s in ENV_NUMBERS.values()
    ]
    return _OTHER_SETTINGS[:2] + numbers + _OTHER_SETTINGS[2:]


def settings_markdown() -> str:
    """The table of settings for docs/configuration.md (a test checks the file holds exactly this)."""
    rows = ["| variable | meaning | default |", "| --- | --- | --- |"]
    rows += [f"| `{s.variable}` | {s.meaning} | {s.default} |" for s in environment_settings()]
    return "\n".join(rows) + "\n"


def env_number(env, name: str) -> int:
    """The setting CNN_PLAYGROUND_<name> (an entry of ENV_NUMBERS) from ``env``, checked against its range."""
    setting = ENV_NUMBERS[name]
    return env_whole_number(env, name, setting.default, setting.low, setting.high)


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


DEFAULT_MAX_WAITING_PER_USER = ENV_NUMBERS["MAX_WAITING_PER_USER"].default


@dataclass(frozen=True)
class Settings:
    # A name in RUNNER_NAMES: "process" (pre-started worker processes, the app's default, so
    # one run can never take the server down), "thread" (this process: the CLI and the tests), "ray"
    runner: str = "process"
    max_trainings: int = ENV_NUMBERS["MAX_TRAININGS"].default  # 0 means one per two cores
    worker_max_runs: int = ENV_NUMBERS["WORKER_MAX_RUNS"].default  # a worker process is replaced after this many
    param_budget: int = ENV_NUMBERS["PARAM_BUDGET"].default
    memory_budget_mb: int = ENV_NUMBERS["MEMORY_BUDGET_MB"].default  # 0: sized for the machine and the slots
    max_waiting_per_user: int = DEFAULT_MAX_WAITING_PER_USER  # runs one user may have waiting in the queue
    teacher_password: str = ""  # empty: classroom teacher actions are disabled
    ray_cpus_per_run: int = ENV_NUMBERS["RAY_CPUS_PER_RUN"].default  # with "ray": CPUs each run's actor asks for
    ray_gpu: bool = False  # with "ray": each run asks for a GPU when the cluster has one
    ray_local_cpus: int = ENV_NUMBERS["RAY_LOCAL_CPUS"].default  # with "ray", no RAY_ADDRESS: 0 means all CPUs

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
        if runner not in RUNNER_NAMES:
            choices = " or ".join(f"'{name}'" for name in RUNNER_NAMES)
            raise SettingsError(f"{PREFIX}RUNNER must be {choices} (got {runner!r}).")
        gpu = env.get(PREFIX + "RAY_GPU", "0").strip().lower()
        if gpu not in ("0", "1", "yes", "no", "true", "false", ""):
            raise SettingsError(f"{PREFIX}RAY_GPU must be 1 (use a GPU where the cluster has one) or 0 (got {gpu!r}).")
        return cls(
            runner=runner,
            max_trainings=env_number(env, "MAX_TRAININGS"),
            worker_max_runs=env_number(env, "WORKER_MAX_RUNS"),
            param_budget=env_number(env, "PARAM_BUDGET"),
            memory_budget_mb=env_number(env, "MEMORY_BUDGET_MB"),
            max_waiting_per_user=env_number(env, "MAX_WAITING_PER_USER"),
            teacher_password=env.get(PREFIX + "TEACHER_PASSWORD", ""),
            ray_cpus_per_run=env_number(env, "RAY_CPUS_PER_RUN"),
            ray_gpu=gpu in ("1", "yes", "true"),
            ray_local_cpus=env_number(env, "RAY_LOCAL_CPUS"),
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


DOCS_BEGIN = "<!-- settings table: generated by `python -m core.config docs/configuration.md` -->"
DOCS_END = "<!-- end of settings table -->"


def write_settings_docs(path) -> None:
    """Replace the settings table between DOCS_BEGIN and DOCS_END in ``path`` with settings_markdown()."""
    from pathlib import Path

    text = Path(path).read_text()
    head, rest = text.split(DOCS_BEGIN, 1)
    _, tail = rest.split(DOCS_END, 1)
    Path(path).write_text(f"{head}{DOCS_BEGIN}\n{settings_markdown()}{DOCS_END}{tail}")


if __name__ == "__main__":
    import sys

    write_settings_docs(sys.argv[1] if len(sys.argv) > 1 else "docs/configuration.md")
