"""How runs and their results are named in text: status words, the headline result, one label per run
for every run picker. Plain functions: no Streamlit."""

from __future__ import annotations

import time

from core.runs.record import Status

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
    return "—" if value is None else f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def percent(value, decimals: int = 1) -> str:
    """A share (0..1) as a percentage, '91.2 %'; '—' when there is none."""
    return "—" if value is None else f"{100 * value:.{decimals}f} %"


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def headline(run, decimals: int = 1, emphasis: str = "") -> str:
    """The run's test result in words: 'test accuracy 91.2 %', or a regression's 'test MAE 12.3'; ''
    before it has one. ``emphasis`` (e.g. '**') goes around the figure."""
    results = run.results or {}
    if results.get("test_accuracy") is not None:
        return f"test accuracy {emphasis}{percent(results['test_accuracy'], decimals)}{emphasis}"
    if results.get("test_mae") is not None:
        return f"test MAE {emphasis}{number(results['test_mae'])}{emphasis}"
    return ""


def run_label(run, dataset_title: str | None = None) -> str:
    """One line naming a run in a picker: when it started, its id, the learner, its name, the data set
    (when given), its status and its test result."""
    parts = [time.strftime("%H:%M", time.localtime(run.created)), run.id, run.learner, run.name, dataset_title]
    parts += [status_label(run.status).lower(), headline(run)]
    return " · ".join(p for p in parts if p)
