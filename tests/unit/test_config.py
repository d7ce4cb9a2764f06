"""The server configuration is hardened and agrees with the app's own limits."""

import tomllib
from pathlib import Path

import pytest

from core.config import MAX_MESSAGE_MB, MAX_UPLOAD_MB

CONFIG = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())


def test_protections_are_on_and_error_details_hidden():
    assert CONFIG["server"]["enableXsrfProtection"] is True
    assert CONFIG["server"]["enableCORS"] is True
    assert CONFIG["server"]["headless"] is True
    assert CONFIG["client"]["showErrorDetails"] == "none"  # the app shows its own plain messages


def test_size_limits_match_the_apps_checks():
    assert CONFIG["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    assert CONFIG["server"]["maxMessageSize"] == MAX_MESSAGE_MB


def test_streamlit_does_not_collect_garbage_after_every_rerun():
    # With TensorFlow loaded, gc.collect(2) after each poll holds the GIL ~0.4 s and starves training.
    assert CONFIG["runner"]["postScriptGC"] is False


def test_the_server_settings_for_runs_and_their_defaults():
    from core.config import Settings, SettingsError, default_memory_budget_mb

    default = Settings.from_env({})
    assert default.runner == "process"  # the app's default: one run can never take the server down
    assert default.max_waiting_per_user == 2
    assert default.memory_budget == default_memory_budget_mb(default.concurrency) >= 256
    chosen = Settings.from_env({"CNN_PLAYGROUND_MEMORY_BUDGET_MB": "800", "CNN_PLAYGROUND_MAX_WAITING_PER_USER": "5"})
    assert (chosen.memory_budget, chosen.max_waiting_per_user) == (800, 5)
    with pytest.raises(SettingsError, match="MAX_WAITING_PER_USER must be between 1 and 1,000"):
        Settings.from_env({"CNN_PLAYGROUND_MAX_WAITING_PER_USER": "0"})


def test_one_table_of_environment_numbers_is_documented_and_within_pils_limit():
    from PIL import Image

    from core.config import DOCS_BEGIN, DOCS_END, ENV_NUMBERS, settings_markdown

    docs = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    # The table in the docs is the one the config's own tables write (python -m core.config rewrites it).
    assert docs.split(DOCS_BEGIN, 1)[1].split(DOCS_END, 1)[0] == "\n" + settings_markdown()
    assert [name for name in ENV_NUMBERS if f"`CNN_PLAYGROUND_{name}`" not in docs] == []
    assert ENV_NUMBERS["IMPORT_MAX_PIXELS"].high <= Image.MAX_IMAGE_PIXELS
    assert all(s.low <= s.default <= s.high for s in ENV_NUMBERS.values())


def test_ray_runner_settings_from_the_environment():
    from core.config import Settings, SettingsError

    settings = Settings.from_env(
        {
            "CNN_PLAYGROUND_RUNNER": "ray",
            "CNN_PLAYGROUND_RAY_CPUS_PER_RUN": "4",
            "CNN_PLAYGROUND_RAY_GPU": "1",
            "CNN_PLAYGROUND_RAY_LOCAL_CPUS": "6",
        }
    )
    assert (settings.runner, settings.ray_cpus_per_run, settings.ray_gpu, settings.ray_local_cpus) == (
        "ray",
        4,
        True,
        6,
    )
    defaults = Settings.from_env({"CNN_PLAYGROUND_RUNNER": "ray"})
    assert (defaults.ray_cpus_per_run, defaults.ray_gpu, defaults.ray_local_cpus, defaults.max_trainings) == (
        2,
        False,
        0,
        0,
    )
    with pytest.raises(SettingsError, match="RAY_GPU must be 1"):
        Settings.from_env({"CNN_PLAYGROUND_RAY_GPU": "maybe"})
    with pytest.raises(SettingsError, match="RAY_CPUS_PER_RUN must be between 1 and 256"):
        Settings.from_env({"CNN_PLAYGROUND_RAY_CPUS_PER_RUN": "0"})


def test_every_environment_variable_the_code_reads_is_in_the_settings_table():
    import re

    from core.config import environment_settings

    root = Path(__file__).resolve().parents[2]
    documented = {s.variable for s in environment_settings()}
    read = set()
    for path in [*root.glob("core/**/*.py"), *root.glob("dashboard/**/*.py")]:
        read |= set(re.findall(r"CNN_PLAYGROUND_[A-Z][A-Z_]*[A-Z]", path.read_text()))
    assert read - documented == set()
