"""The `cnn-playground` command: serve the app with Streamlit (extra arguments go to `streamlit run`)."""

from __future__ import annotations

import os
import sys
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


if __name__ == "__main__":
    sys.exit(main())
