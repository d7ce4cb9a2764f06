"""How runs are named in text: status words, numbers (durations: core.timing.format_duration), one label per run for every run
picker (the run's headline result is the run's own: ``run.headline()``). Plain functions: no Streamlit."""

from __future__ import annotations

import time

from core.runs.record import Status
from core.training.tasks import format_number

STATUS_LABELS = {
    Status.QUEUED: "Waiting for a free training slot",
    Status.RUNNING: "Training",
    Status.STOPPING: "Stopping after this batch",
    Status.PAUSED: "Paused",
    Status.STOPPED: "Stopped",
    Status.FINISHED: "Finished",
    Status.FAILED: "Failed",
    Status.INTERRUPTED: "Interrupted",
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def number(value) -> str:
    """A measured value (an MAE, a target) with about four significant digits; '—' when there is none."""
    return "—" if value is None else format_number(value)


def percent(value, decimals: int = 1) -> str:
    """A share (0..1) as a percentage, '91.2 %'; '—' when there is none."""
    return "—" if value is None else f"{100 * value:.{decimals}f} %"


def run_label(run, dataset_title: str | None = None) -> str:
    """One line naming a run in a picker: when it started, its id, the learner, its name, the data set
    (when given), its status and its test result."""
    parts = [time.strftime("%H:%M", time.localtime(run.created)), run.id, run.learner, run.name, dataset_title]
    parts += [status_label(run.status).lower(), run.headline()]
    return " · ".join(p for p in parts if p)
