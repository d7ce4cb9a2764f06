"""The session's jobs: the learning-rate finder for the model in the builder, and this server's speed with a
challenge's starting model. Each is a job of the run manager (core.runs.manager.RunManager.start_job):
queued, limited and trained like a run, in the runner's slots and worker processes, never in the web
server's own thread; pages poll it as they poll a run."""

from __future__ import annotations

import time

import streamlit as st

from core.runs.manager import RunRejected
from core.runs.record import Kind, Run, Status
from core.training import lr_finder, speed

from .identity import user_id
from .services import manager
from .state import active_challenge, playground

_LR_KEY = "_lr_job"  # ((data set, model), the finder's job id)
_LR_PROBLEMS_KEY = "_lr_problems"


def _model_key() -> tuple[str, str]:
    pg = playground()
    return pg.dataset, repr(pg.spec)


# --- the learning-rate finder ---------------------------------------------------------------------


def start_lr_finder() -> None:
    """Queue a range test of the model and settings now in the builder; the reasons are kept when refused."""
    pg = playground()
    hp, options = lr_finder.job_settings(pg.hyperparameters)
    try:
        job = manager().start_job(
            Kind.LR_FIND, pg.spec, pg.dataset, hp, owner=user_id(), options=options, challenge=active_challenge()
        )
    except RunRejected as rejected:
        st.session_state[_LR_PROBLEMS_KEY] = rejected.problems
        return
    st.session_state[_LR_PROBLEMS_KEY] = []
    st.session_state[_LR_KEY] = (_model_key(), job.id)


def lr_problems() -> list[str]:
    """Why the last press of the finder did not start it (empty when it did)."""
    return st.session_state.get(_LR_PROBLEMS_KEY, [])


def lr_job() -> Run | None:
    """The finder's job for the model and data set now in the builder (waiting, under way or ended), or None."""
    saved = st.session_state.get(_LR_KEY)
    if saved is None or saved[0] != _model_key():
        return None
    return manager().job(saved[1], user_id())


def lr_finding() -> lr_finder.LrFinding | None:
    """The finder's answer for the model now in the builder, once its job has ended with one."""
    job = lr_job()
    return None if job is None or job.active else lr_finder.LrFinding.from_results(job.results)


# --- this server's speed --------------------------------------------------------------------------


def speed_measurement(spec: dict, dataset: str, batch_size: int, again: bool = False) -> tuple[Run | None, list[str]]:
    """(job, problems): the user's measurement of this model at this batch size (the latest one that did
    not stop: under way, finished or failed), else one this server finished for anyone in the last hour (a
    second teacher, or the same one in a new browser, is answered at once), else a new one queued now;
    ``again`` queues a new one anyway. A measurement of other settings still under way is stopped: its
    answer is no longer asked for."""
    mine = manager().speed_measurements(spec, dataset, batch_size, user_id())
    wanted = {job.id for job in mine}
    for job in manager().jobs(Kind.SPEED_PROBE, user_id()):
        if job.active and job.id not in wanted:
            manager().stop(job.id, user_id())
    if not again:
        for job in mine:
            if job.status != Status.STOPPED:
                return job, []
        for job in manager().speed_measurements(spec, dataset, batch_size):
            if job.status == Status.FINISHED and time.time() - (job.created or 0) <= speed.KEPT_SECONDS:
                return job, []
    hp, options = speed.job_settings(batch_size)
    try:
        return manager().start_job(Kind.SPEED_PROBE, spec, dataset, hp, owner=user_id(), options=options), []
    except RunRejected as rejected:
        return None, rejected.problems


def measured_speed(job: Run) -> speed.Speed | None:
    return speed.Speed.from_results(job.results) if job.status == Status.FINISHED else None


def job(job_id: str) -> Run | None:
    """One of the user's jobs, or None."""
    return manager().job(job_id, user_id())
