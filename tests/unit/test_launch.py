"""The `cnn-playground` command serves the app with the project's Streamlit settings from any folder."""

import os
import subprocess
import sys

from dashboard import launch


def test_the_command_serves_the_app_from_the_project_folder(monkeypatch, tmp_path):
    seen = {}

    def fake_streamlit_main():
        seen["argv"], seen["cwd"] = list(sys.argv), os.getcwd()
        return 0

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("streamlit.web.cli.main", fake_streamlit_main)
    monkeypatch.setattr(sys, "argv", ["cnn-playground", "--server.port", "8600"])
    assert launch.main() == 0
    assert seen["argv"] == ["streamlit", "run", str(launch.APP), "--server.port", "8600"]
    assert (launch.PROJECT / ".streamlit" / "config.toml").exists()
    assert seen["cwd"] == str(launch.PROJECT)


def test_the_command_is_installed_with_the_project():
    script = os.path.join(os.path.dirname(sys.executable), "cnn-playground")
    assert os.path.exists(script), "pip install -e . puts the cnn-playground command beside python"
    assert "dashboard.launch" in open(script).read()
    assert subprocess.run([sys.executable, "-m", "core", "--help"], capture_output=True).returncode == 0
