"""Shared set-up for the benchmarks: the repo root, quiet TensorFlow, never a download, the machine's load."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CNN_PLAYGROUND_OFFLINE", "1")  # never wait on a download in a benchmark


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} CPU core(s), load average {load:.2f} at start"
