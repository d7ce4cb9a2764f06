"""A run's status line: its progress bar while it trains or waits, its outcome and message once it ended."""

from __future__ import annotations

import streamlit as st

from core.messages import counted
from core.runs.record import Run, Status
from core.timing import format_duration
from dashboard import session
from dashboard.components.labels import status_label
from dashboard.components.user_text import markdown_literal


def run_status(run: Run) -> None:
    """Status line, progress bar and any message of a run."""
    p = run.progress()
    label = status_label(run.status)
    if run.active:
        if run.status == Status.QUEUED:
            position = session.manager().queue_position(run.id)
            text = (
                f"{label}: number {position} in the queue. Other trainings are running; press Stop to cancel."
                if position
                else f"{label}…"
            )
        elif run.status == Status.PAUSED:
            text = (
                f"Paused in epoch {min(p.epoch + 1, p.epochs)} of {p.epochs}, after batch {p.batch}: "
                "press Resume to go on."
            )
        elif p.phase == "testing":
            tested = (run.eval_sizes or {}).get("test")
            text = (
                f"{label}: training done; now measuring the test set"
                + (f" ({tested:,} examples)" if tested else "")
                + f"… · elapsed {format_duration(p.elapsed)}"
            )
        else:
            doing = (
                "checking the validation set"
                if p.phase == "validating"
                else f"batch {p.batch} of {p.batches_per_epoch}"
            )
            left = (
                f"about {format_duration(p.eta)} left" if p.eta is not None else "time left known after a few batches"
            )
            text = (
                f"{label}: epoch {min(p.epoch + 1, p.epochs)} of {p.epochs}, {doing} · "
                f"elapsed {format_duration(p.elapsed)} · {left} (test set included)"
            )
        st.progress(p.fraction, text=text)
    else:
        # The same training time as Results shows (the run's clock: validation in, pauses and the test out).
        trained = run.training_seconds()
        text = f"{label} after {counted(p.epoch, 'epoch')} in {format_duration(trained if trained is not None else p.elapsed)}"
        if run.headline():
            text += f" — {run.headline(decimals=2, bold=True)}"
        {Status.FINISHED: st.success, Status.STOPPED: st.info}.get(run.status, st.error)(text)
    if run.message and not run.active:
        (st.error if run.status == Status.FAILED else st.caption)(markdown_literal(run.message))
