"""The experiment record and its runs: start every variant through the RunManager (the same queue as
single runs), stop them as a group, and collect their results as one table.

An experiment is saved in the run store's database (beside runs and challenges) and can be reopened;
its runs are normal runs tagged with the experiment's id.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field

import pandas as pd

from core.experiments.factors import Factor, format_value, short_label
from core.experiments.plan import Plan
from core.runs.record import Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, created REAL NOT NULL, record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS experiments_owner ON experiments (owner, created);
"""

# The result columns of a run, for each task: the first is the one analysis ranks by.
CLASSIFICATION_METRICS = ("test_accuracy", "test_loss")
REGRESSION_METRICS = ("test_mae", "test_rmse", "test_r2")


@dataclass
class Experiment:
    id: str
    owner: str
    name: str
    dataset: str
    base_spec: dict
    base_hyperparameters: Hyperparameters
    factors: list[Factor]
    mode: str
    seeds: tuple[int, ...]
    variants: list[dict]  # index, values, seed, params, problems, run_id (None when it broke a limit)
    created: float = field(default_factory=time.time)
    challenge: str | None = None
    estimate_seconds: float | None = None  # the estimate shown before it started

    @property
    def run_ids(self) -> list[str]:
        return [v["run_id"] for v in self.variants if v.get("run_id")]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "owner": self.owner,
            "name": self.name,
            "dataset": self.dataset,
            "base_spec": self.base_spec,
            "base_hyperparameters": self.base_hyperparameters.to_dict(),
            "factors": [f.to_dict() for f in self.factors],
            "mode": self.mode,
            "seeds": list(self.seeds),
            "variants": self.variants,
            "created": self.created,
            "challenge": self.challenge,
            "estimate_seconds": self.estimate_seconds,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Experiment:
        return cls(
            **{
                **data,
                "base_hyperparameters": Hyperparameters.from_dict(data["base_hyperparameters"]),
                "factors": [Factor.from_dict(f) for f in data["factors"]],
                "seeds": tuple(data["seeds"]),
                "variants": [
                    {**v, "values": {k: tuple(x) if isinstance(x, list) else x for k, x in v["values"].items()}}
                    for v in data["variants"]
                ],
            }
        )


class ExperimentStore:
    """Experiments live in the run store's database."""

    def __init__(self, store: RunStore):
        self.path = store.path
        with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self):
        return closing(sqlite3.connect(self.path, timeout=30))

    def save(self, experiment: Experiment) -> Experiment:
        with self._connect() as db, db:
            db.execute(
                "INSERT INTO experiments (id, owner, created, record) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET record = excluded.record",
                (experiment.id, experiment.owner, experiment.created, json.dumps(experiment.to_dict())),
            )
        return experiment

    def get(self, experiment_id: str, owner: str | None = None) -> Experiment | None:
        """The experiment; with ``owner``, only when it is theirs."""
        with self._connect() as db:
            row = db.execute("SELECT owner, record FROM experiments WHERE id = ?", (experiment_id,)).fetchone()
        if row is None or (owner is not None and row[0] != owner):
            return None
        return Experiment.from_dict(json.loads(row[1]))

    def list(self, owner: str | None = None) -> list[Experiment]:
        """Newest first; with ``owner``, only theirs."""
        query, args = "SELECT record FROM experiments", ()
        if owner is not None:
            query, args = query + " WHERE owner = ?", (owner,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY created DESC", args).fetchall()
        return [Experiment.from_dict(json.loads(r[0])) for r in rows]

    def list_for_challenge(self, code: str) -> list[Experiment]:
        return [e for e in self.list() if e.challenge == code]


def new_experiment_id() -> str:
    return "x" + secrets.token_hex(5)


def default_name(plan: Plan) -> str:
    return "Vary " + ", ".join(short_label(f.key) for f in plan.factors)


def start_experiment(
    manager,
    plan: Plan,
    *,
    owner: str,
    name: str = "",
    challenge=None,
    learner: str = "",
    estimate_seconds: float | None = None,
) -> Experiment:
    """Queue a run for every variant that passes its checks, save the experiment and return it.

    A variant the manager still refuses (something changed since the plan was made) is kept in the
    record with the manager's reasons and no run.
    """
    from core.runs.manager import RunRejected

    experiment = Experiment(
        new_experiment_id(),
        owner,
        name or default_name(plan),
        plan.dataset,
        plan.base_spec,
        plan.base_hyperparameters,
        plan.factors,
        plan.mode,
        plan.seeds,
        [],
        challenge=challenge.code if challenge is not None else None,
        estimate_seconds=estimate_seconds,
    )
    store = ExperimentStore(manager.store)
    store.save(experiment)  # first, so the runs' tag always points at a saved experiment
    for variant in plan.variants:
        entry = {
            "index": variant.index,
            "values": variant.values,
            "seed": variant.seed,
            "params": variant.params,
            "problems": list(variant.problems),
            "run_id": None,
        }
        if variant.ok:
            try:
                run = manager.start(
                    variant.spec,
                    plan.dataset,
                    variant.hyperparameters,
                    owner=owner,
                    name=f"Experiment #{variant.index}: {variant.short(plan.factors)}"
                    + (f" · seed {variant.seed}" if len(plan.seeds) > 1 else ""),
                    challenge=challenge,
                    learner=learner,
                    experiment=experiment.id,
                )
                entry["run_id"] = run.id
            except RunRejected as rejected:
                entry["problems"] = rejected.problems
        experiment.variants.append(entry)
    return store.save(experiment)


def experiment_runs(manager, experiment: Experiment) -> dict:
    """run id -> Run (the live object while it trains) for the experiment's runs that still exist.

    The runs are read in the experiment owner's name: whoever may open the experiment may see its runs.
    """
    runs = {}
    for run_id in experiment.run_ids:
        run = manager.get(run_id, experiment.owner)
        if run is not None:
            runs[run_id] = run
    return runs


def stop_experiment(manager, experiment: Experiment) -> int:
    """Stop every run of the experiment still training or waiting; returns how many were stopped."""
    return sum(1 for run_id in experiment.run_ids if manager.stop(run_id, experiment.owner))


def is_running(runs: dict) -> bool:
    return any(run.active for run in runs.values())


def results_table(experiment: Experiment, runs: dict) -> pd.DataFrame:
    """One row per variant: its factor values, seed, status, params, test metrics, train_seconds, run_id.

    Variants that broke a limit are rows with status 'rejected' and the reason in 'problem'.
    """
    rows = []
    for variant in experiment.variants:
        run = runs.get(variant.get("run_id"))
        results = (run.results or {}) if run is not None else {}
        row = {"variant": variant["index"]}
        row.update({f.key: format_value(variant["values"][f.key]) for f in experiment.factors})
        row.update(
            {
                "seed": variant["seed"],
                "status": run.status if run is not None else ("rejected" if variant["problems"] else "deleted"),
                "params": run.params if run is not None else variant["params"],
            }
        )
        metrics = REGRESSION_METRICS if results.get("test_mae") is not None else CLASSIFICATION_METRICS
        for name in metrics:
            row[name] = results.get(name)
        row["train_seconds"] = results.get("train_seconds")
        row["run_id"] = variant.get("run_id")
        row["problem"] = " ".join(variant["problems"])
        rows.append(row)
    frame = pd.DataFrame(rows)
    if "test_mae" in frame and frame["test_mae"].notna().any():  # a regression: no accuracy columns
        frame = frame.drop(columns=[c for c in CLASSIFICATION_METRICS if c in frame])
    elif len(frame):
        frame = frame.drop(columns=[c for c in REGRESSION_METRICS if c in frame])
    return frame


def wait_for_experiment(manager, experiment: Experiment, on_progress=None, poll: float = 0.5) -> pd.DataFrame:
    """Block until every run has ended and return the results table.

    ``on_progress(done, total, runs)`` is called after each poll (the CLI prints a progress line).
    """
    while True:
        runs = experiment_runs(manager, experiment)
        done = sum(1 for run in runs.values() if run.status in Status.ENDED)
        if on_progress is not None:
            on_progress(done, len(experiment.run_ids), runs)
        if not is_running(runs):
            return results_table(experiment, runs)
        next(iter(r for r in runs.values() if r.active)).wait(poll)
