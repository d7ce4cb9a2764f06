"""Process-wide set-up for serving Keras from Streamlit, done once when the app is first imported.

Streamlit, after every script run (fragment reruns included), calls ``gc.collect(2)`` and
``_clean_problem_modules()``, which calls ``keras.backend.clear_session()``. With TensorFlow loaded
that is ~0.4 s of GIL-held work per rerun, and clearing the session while another thread trains slows
that training many times over. So: postScriptGC is off in .streamlit/config.toml, long-lived objects
are frozen out of the collector after the heavy imports, and the Keras part of the clean-up is removed.
"""

from __future__ import annotations

import gc
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Heavy imports happen here, eagerly, on the first script run: a lazy import inside a worker thread
# once raced plotly's lazy pandas import on the script thread ("partially initialized module 'pandas'").
import keras  # noqa: E402,F401
import pandas  # noqa: E402,F401
import plotly.graph_objects  # noqa: E402,F401
import tensorflow  # noqa: E402,F401
from streamlit.runtime.scriptrunner import script_runner  # noqa: E402

import core.runs.trainer  # noqa: E402,F401  (imports Keras callbacks: keep it out of worker threads)


def _clean_problem_modules_without_keras() -> None:
    """Streamlit's clean-up minus ``keras.backend.clear_session()``, which must never run mid-training."""
    if "matplotlib.pyplot" in sys.modules:
        try:
            sys.modules["matplotlib.pyplot"].close("all")
        except Exception:  # noqa: BLE001 - as in Streamlit: never break a rerun over this
            pass


if not hasattr(script_runner, "_clean_problem_modules"):
    raise RuntimeError(
        "streamlit.runtime.scriptrunner.script_runner._clean_problem_modules is gone: "
        "re-check how this Streamlit version clears Keras after each rerun."
    )
script_runner._clean_problem_modules = _clean_problem_modules_without_keras
gc.collect()
gc.freeze()
