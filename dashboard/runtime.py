"""Process-wide set-up for serving Keras from Streamlit: the Streamlit/Keras fixes, and TensorFlow imported
once per process, by one thread, mostly after the first page is served.

Streamlit, after every script run (fragment reruns included), calls ``gc.collect(2)`` and
``_clean_problem_modules()``, which calls ``keras.backend.clear_session()``. With TensorFlow loaded
that is ~0.4 s of GIL-held work per rerun, and clearing the session while another thread trains slows
that training many times over. So: postScriptGC is off in .streamlit/config.toml, long-lived objects
are frozen out of the collector after the heavy imports, and the Keras part of the clean-up is removed.

TensorFlow takes seconds to import (over half of a cold server's first page, bench/cold_start.py), and
the Build page, where a session starts, needs none of it: its checks are pure Python. So the first page
is served without it; then a background thread starts the training worker processes (whose own import
of TensorFlow competes for the cores too) and imports it (``import_in_background``). Two threads
importing TensorFlow and Keras at once can deadlock on each other's module locks (``import tensorflow``
imports parts of Keras) or see a partially initialised module, so every page but Build waits for that
one import before it runs (``wait_for_imports``, which starts it if no page has yet), and so does the
one part of Build that uses Keras (``dashboard.components.augmentation_preview``).
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Imported eagerly, on the first script run: a lazy import inside another thread once raced plotly's lazy
# pandas import on the script thread ("partially initialized module 'pandas'").
import pandas  # noqa: E402,F401
import plotly.graph_objects  # noqa: E402,F401
from streamlit.runtime.scriptrunner import script_runner  # noqa: E402

# core.runs.trainer imports Keras callbacks: kept out of the training threads.
HEAVY_MODULES = ("tensorflow", "keras", "core.runs.trainer")

# The import holds the GIL up to a second at a time (TensorFlow's libraries load in long C calls), which
# starves the server's event loop: it starts this long after the first page, time to send that page and its
# scripts, unless a page needs it sooner.
QUIET_SECONDS = 2.0

log = logging.getLogger(__name__)
_lock = threading.Lock()
_importer: threading.Thread | None = None
_needed = threading.Event()


def _import_heavy_modules(first: tuple[Callable[[], None], ...]) -> None:
    _needed.wait(QUIET_SECONDS)
    for job in first:
        try:
            job()
        except Exception:  # noqa: BLE001 - the imports go on: pages wait for them, not for this
            log.exception("could not run %s before the imports", job)
    for name in HEAVY_MODULES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()  # what the imports made lives as long as the process: out of every later collection


def import_in_background(*first: Callable[[], None]) -> threading.Thread:
    """Start importing TensorFlow, Keras and the trainer in a background thread, once per process,
    ``QUIET_SECONDS`` from now unless a page needs them sooner.

    Args:
        first: what that thread runs just before the imports (the app starts its training workers); run
            at once when the thread was started before (by a first page that needed TensorFlow).
    """
    global _importer
    with _lock:
        started = _importer is not None
        if not started:
            _importer = threading.Thread(
                target=_import_heavy_modules, args=(first,), name="import-tensorflow", daemon=True
            )
            _importer.start()
    if started:
        for job in first:
            job()
    return _importer


def wait_for_imports() -> None:
    """Return once TensorFlow, Keras and the trainer are imported (starting that import now if need be)."""
    _needed.set()
    import_in_background().join()


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
