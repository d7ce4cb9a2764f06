"""Where the app keeps its files: the one home folder of runs, models, data sets and challenges."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "CNN_PLAYGROUND_HOME"


def default_home() -> Path:
    """Where runs live: $CNN_PLAYGROUND_HOME, else the user's data directory."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("cnn-playground", appauthor=False))
