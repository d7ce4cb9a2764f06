"""A job's progress (the learning-rate finder, the speed measurement): waiting for a slot, or its batches
done, with a Stop button. Jobs train in the runner's slots like runs; a page polls one like a run."""

from __future__ import annotations

import streamlit as st

from core.runs.record import Run, Status
from dashboard import session
from dashboard.components.user_text import markdown_literal


def job_progress(job: Run, doing: str, key: str) -> None:
    """Its place in the queue, or a progress bar of its batches; Stop cancels or stops it.

    Args:
        doing: what it does, for the progress line ("Trying learning rates").
        key: the Stop button's key.
    """
    p = job.progress()
    if job.status == Status.QUEUED:
        position = session.manager().queue_position(job.id)
        where = f": number {position} in the queue" if position else ""
        text = f"Waiting for a free training slot{where}. Other trainings are running."
    elif job.status == Status.STOPPING:
        text = "Stopping…"
    else:
        done = p.epoch * p.batches_per_epoch + p.batch
        total = p.epochs * p.batches_per_epoch
        paused = ", paused" if job.status == Status.PAUSED else ""
        if done and total:
            text = f"{doing}: batch {done} of {total}{paused}"
        else:  # building the model and its first step
            text = f"{doing}: getting the model ready…"
    bar, stop = st.columns([5, 1], vertical_alignment="bottom")
    bar.progress(p.fraction, text=text)
    stop.button(
        "Stop",
        key=key,
        icon=":material/stop:",
        disabled=job.status == Status.STOPPING,
        on_click=session.stop_run,
        args=(job.id,),
        help="Stop it: nothing of yours changes.",
    )


def job_failure(job: Run) -> None:
    """Why an ended job gave no answer (failed, stopped, or interrupted by a restart)."""
    reason = job.message or "It ended without an answer."
    if job.status == Status.FAILED:
        st.error(markdown_literal(reason), icon=":material/error:")
    else:
        st.info(markdown_literal(reason), icon=":material/info:")
