"""The session's experiments: the one it has open, starting and stopping one, opening its best run."""

from __future__ import annotations

import streamlit as st

from core.data.datasets import load_dataset
from core.experiments import engine
from core.experiments.estimate import estimate_plan, measured_speeds
from core.experiments.factors import FactorOption
from core.experiments.factors import factor_options as model_factor_options
from core.experiments.plan import Plan, manager_check

from .identity import learner_name, user_id
from .memory import is_new_click
from .runs import own_run
from .services import manager
from .state import active_challenge, clone_run, follow_run, playground
from .teacher import is_teacher

_OPEN_KEY = "_experiment_id"


def store() -> engine.ExperimentStore:
    return engine.ExperimentStore(manager().store)


def own_experiments() -> list[engine.Experiment]:
    return store().list(owner=user_id())


def projectable_experiments() -> list[engine.Experiment]:
    """The user's own experiments; a logged-in teacher also sees every experiment run in a challenge."""
    mine = own_experiments()
    if is_teacher():
        ids = {e.id for e in mine}
        mine += [e for e in store().list() if e.challenge and e.id not in ids]
    return mine


def opened_experiment() -> engine.Experiment | None:
    experiment_id = st.session_state.get(_OPEN_KEY)
    return store().get(experiment_id, owner=user_id()) if experiment_id else None


def open_experiment(experiment_id: str | None) -> None:
    st.session_state[_OPEN_KEY] = experiment_id


def factor_options() -> list[FactorOption]:
    """The factors the current model offers (its layers' sizes, adding/removing layers, training settings)."""
    pg = playground()
    return model_factor_options(pg.spec, pg.hyperparameters)


def default_factors(options: dict) -> list[str]:
    """What the form starts with: the last convolution's filters (else the first layer size) and the optimizer."""
    filters = [k for k in options if k.endswith(".filters")]
    sizes = [k for k in options if k.endswith((".units", ".rate"))]
    return [(filters or sizes or ["learning_rate"])[-1 if filters else 0], "optimizer"]


def new_click(run_id: str | None) -> bool:
    """True once per new click on a point (a chart keeps its selection over reruns)."""
    return is_new_click("experiment_pareto", run_id)


def check():
    """The checks every variant gets before the start: what the run manager enforces and the challenge's rules."""
    pg = playground()
    return manager_check(manager(), pg.dataset, active_challenge())


def estimate(plan: Plan):
    """The time the plan's runs will take, from the speed of this server's past runs on the same data set."""
    size = len(load_dataset(plan.dataset).x_train)
    speeds = measured_speeds(manager().store, plan.dataset, size)
    return estimate_plan(plan.runnable, size, speeds, manager().runner.slots)


def start(plan: Plan, estimate_seconds: float | None) -> engine.Experiment:
    experiment = engine.start_experiment(
        manager(),
        plan,
        owner=user_id(),
        challenge=active_challenge(),
        learner=learner_name(),
        estimate_seconds=estimate_seconds,
    )
    open_experiment(experiment.id)
    return experiment


def stop(experiment: engine.Experiment) -> int:
    return engine.stop_experiment(manager(), experiment)


def progress(experiment: engine.Experiment) -> tuple[engine.Experiment, dict, bool]:
    """One of the user's experiments as saved now (opened_experiment() only gives the user's own), its runs,
    and whether anything is still to run."""
    return engine.refresh(manager(), experiment)


def projected_runs(experiment: engine.Experiment) -> dict:
    """The runs of an experiment on the Projector: the user's own, or (for the teacher) a challenge's runs."""
    if experiment.owner == user_id():
        return engine.experiment_runs(manager(), experiment)
    found = {i: manager().classroom_run(i) for i in experiment.run_ids}
    return {i: r for i, r in found.items() if r is not None}


def open_run(run_id: str) -> bool:
    """Follow one of the user's runs (the Results page shows it); False when it is not theirs."""
    if own_run(run_id) is None:
        return False
    follow_run(run_id)
    return True


def open_in_build(run_id: str) -> bool:
    """The run's model and settings go into the builder, as 'Clone and edit' does."""
    run = own_run(run_id)
    if run is None:
        return False
    clone_run(run)
    return True
