"""The experiment record and its runs: start every variant through the RunManager (the same queue as
single runs), stop them as a group, and collect their results as one table.

An experiment is saved in the run store's database (beside runs and challenges) and can be reopened;
its runs are normal runs tagged with the experiment's id.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
import weakref
from dataclasses import dataclass, field

import pandas as pd

from core.experiments.factors import Factor, apply_values, format_value, short_label
from core.experiments.plan import Plan, Variant
from core.runs.challenges import ChallengeStore
from core.runs.record import Status
from core.runs.store import RunStore, pid_alive
from core.text import EXPERIMENT_NAME_CHARS, clean_name
from core.training.hyperparams import Hyperparameters
from core.training.tasks import TASKS, task_of_columns, task_of_results

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, created REAL NOT NULL, record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS experiments_owner ON experiments (owner, created);
"""


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
    learner: str = ""  # the learner's name on the class leaderboard, for the variants still to start
    feeder_pid: int | None = None  # the process that feeds its waiting variants (ExperimentStore.claim)

    @property
    def run_ids(self) -> list[str]:
        return [v["run_id"] for v in self.variants if v.get("run_id")]

    @property
    def training(self) -> list[dict]:
        """The variants that train: started, or waiting for the feeder to start them."""
        return [v for v in self.variants if v.get("run_id") or v.get("pending")]

    @property
    def rejected(self) -> list[dict]:
        """The variants that broke a limit (before the start, or refused by the manager) and never trained."""
        return [v for v in self.variants if not v.get("run_id") and not v.get("pending") and v.get("problems")]

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
            "learner": self.learner,
            "feeder_pid": self.feeder_pid,
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
        self.store = store
        store.create_tables(_SCHEMA)

    def _connect(self):
        """One transaction on the run store's database (a fault comes out as core.runs.store.StoreError)."""
        return self.store.connect()

    def save(self, experiment: Experiment) -> Experiment:
        with self._connect() as db:
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

    def claim(self, experiment_id: str, pid: int) -> bool:
        """Make process ``pid`` the one that feeds the experiment, unless another live process does; False
        then. Compare-and-set on the saved record: of two servers resuming at once, one wins."""
        with self._connect() as db:
            row = db.execute("SELECT record FROM experiments WHERE id = ?", (experiment_id,)).fetchone()
            if row is None:
                return False
            record = json.loads(row[0])
            holder = record.get("feeder_pid")
            if holder not in (None, pid) and pid_alive(holder):
                return False
            claimed = json.dumps({**record, "feeder_pid": pid})
            changed = db.execute(
                "UPDATE experiments SET record = ? WHERE id = ? AND record = ?", (claimed, experiment_id, row[0])
            ).rowcount
        return bool(changed)

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
    """Save the experiment and start feeding its variants into the run queue; returns at once.

    The variants go into the same queue as single runs, but a few at a time (see :class:`ExperimentFeeder`):
    every training slot can take one, and never more than one of them waits in the queue, so an experiment
    of sixty runs does not hold back everyone else's single runs, nor runs into a per-user waiting limit. A
    variant the manager refuses at its start is kept in the record with the manager's reasons and no run.
    """
    experiment = Experiment(
        new_experiment_id(),
        owner,
        clean_name(name, EXPERIMENT_NAME_CHARS) or default_name(plan),
        plan.dataset,
        plan.base_spec,
        plan.base_hyperparameters,
        plan.factors,
        plan.mode,
        plan.seeds,
        [
            {
                "index": v.index,
                "values": v.values,
                "seed": v.seed,
                "params": v.params,
                "problems": list(v.problems),
                "run_id": None,
                "pending": v.ok,  # waits for its turn to be queued
            }
            for v in plan.variants
        ],
        challenge=challenge.code if challenge is not None else None,
        estimate_seconds=estimate_seconds,
        learner=learner,
        feeder_pid=os.getpid(),
    )
    feeder = feeder_for(manager)
    feeder.store.save(experiment)  # first, so the runs' tag always points at a saved experiment
    feeder.add(experiment.id, challenge)  # the first ones at once, so the page shows them starting
    return feeder.store.get(experiment.id) or experiment  # as saved now, with the runs started so far


def resume_experiments(manager) -> int:
    """Feed again, through ``manager``, the saved experiments whose variants still wait to be queued and
    that no live process feeds (the server that started them stopped); returns how many. The app calls
    this once its manager has started: an experiment is a saved group of runs, not a thread."""
    return feeder_for(manager).resume()


_feeders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # manager -> its ExperimentFeeder
_feeders_lock = threading.Lock()


def feeder_for(manager) -> ExperimentFeeder:
    """The one feeder of ``manager``'s experiments (made on first use)."""
    with _feeders_lock:
        feeder = _feeders.get(manager)
        if feeder is None:
            feeder = _feeders[manager] = ExperimentFeeder(manager)
        return feeder


class ExperimentFeeder:
    """Starts the variants of one manager's experiments as training slots free up: while fewer of an
    experiment's runs are active than there are slots and none of them is waiting, its next variant is
    queued. What is still to start is read from the saved record each time (``pending`` variants), so
    a restarted server picks up where the last one stopped (``resume``). One thread, woken by the manager
    whenever a run is queued, begins or ends, while some experiment has variants to start. Never touches
    any UI.
    """

    POLL_SECONDS = 0.5  # a safety net: the manager's notices wake the thread sooner

    def __init__(self, manager):
        self.manager = manager
        self.store = ExperimentStore(manager.store)
        self._fed: dict[str, object] = {}  # experiment id -> its classroom challenge (or None)
        # Held while a variant is started and its record saved: ``is_feeding`` answers after that.
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        manager.add_listener(lambda run: self._wake.set())

    def add(self, experiment_id: str, challenge=None) -> None:
        """Feed this (saved) experiment from now on: its first variants at once."""
        with self._lock:
            self._fed[experiment_id] = challenge
            self._feed_one(experiment_id)
            if experiment_id in self._fed and self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="experiment-feeder", daemon=True)
                self._thread.start()

    def resume(self) -> int:
        resumed = 0
        for experiment in self.store.list():
            if not any(v.get("pending") for v in experiment.variants) or experiment.id in self._fed:
                continue
            if not self.store.claim(experiment.id, os.getpid()):
                continue  # another live process feeds it
            challenge = None
            if experiment.challenge:
                challenge = ChallengeStore(self.manager.store).get(experiment.challenge)
                if challenge is None:
                    self._give_up(experiment.id, CHALLENGE_DELETED)
                    continue
            log.info("experiment %s: feeding its waiting variants again", experiment.id)
            self.add(experiment.id, challenge)
            resumed += 1
        return resumed

    def is_feeding(self, experiment_id: str) -> bool:
        with self._lock:
            return experiment_id in self._fed

    def cancel(self, experiment_id: str) -> None:
        """No further variant of the experiment starts; the ones not started yet are marked so in the record."""
        with self._lock:
            self._fed.pop(experiment_id, None)
            experiment = self.store.get(experiment_id)
            if experiment is None:
                return
            for entry in experiment.variants:
                if entry.get("pending"):
                    entry["pending"], entry["cancelled"] = False, True
            self.store.save(experiment)

    def _give_up(self, experiment_id: str, problem: str) -> None:
        """The experiment's waiting variants can never start: each gets ``problem`` as its reason."""
        experiment = self.store.get(experiment_id)
        if experiment is None:
            return
        for entry in experiment.variants:
            if entry.get("pending"):
                entry["pending"], entry["problems"] = False, [problem]
        self.store.save(experiment)

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.POLL_SECONDS)
            self._wake.clear()
            with self._lock:
                for experiment_id in list(self._fed):
                    try:
                        self._feed_one(experiment_id)
                    except Exception:  # the record must still say which variants never started
                        log.exception("experiment %s: feeding its variants failed", experiment_id)
                        try:
                            self.cancel(experiment_id)
                        except Exception:
                            self._fed.pop(experiment_id, None)
                if not self._fed:
                    self._thread = None
                    return

    def _feed_one(self, experiment_id: str) -> None:
        """Queue as many of the experiment's variants as the rule allows now, saving the record after each;
        forget the experiment once none waits."""
        from core.runs.manager import RunRejected

        experiment = self.store.get(experiment_id)
        waiting = [v for v in experiment.variants if v.get("pending")] if experiment is not None else []
        while waiting:
            active = [r for r in experiment_runs(self.manager, experiment).values() if r.active]
            if any(r.status == Status.QUEUED for r in active) or len(active) >= self.manager.runner.slots:
                return
            entry = waiting.pop(0)
            entry["pending"] = False
            variant = _variant(experiment, entry)
            try:
                run = self.manager.start(
                    variant.spec,
                    experiment.dataset,
                    variant.hyperparameters,
                    owner=experiment.owner,
                    name=f"Experiment #{variant.index}: {variant.short(experiment.factors)}"
                    + (f" · seed {variant.seed}" if len(experiment.seeds) > 1 else ""),
                    challenge=self._fed.get(experiment_id),
                    learner=experiment.learner,
                    experiment=experiment.id,
                )
                entry["run_id"] = run.id
            except RunRejected as rejected:
                entry["problems"] = rejected.problems
            self.store.save(experiment)
        self._fed.pop(experiment_id, None)


CHALLENGE_DELETED = "This experiment's classroom challenge was deleted by your teacher: this variant did not start."


def _variant(experiment: Experiment, entry: dict) -> Variant:
    """A saved variant's model and settings, made again from the experiment's base and the variant's values
    (as the plan made them)."""
    spec, hp = apply_values(experiment.base_spec, experiment.base_hyperparameters, entry["values"])
    hp = Hyperparameters.from_dict({**hp.to_dict(), "seed": entry["seed"]})
    return Variant(entry["index"], entry["values"], entry["seed"], spec, hp, entry.get("params", 0))


def is_feeding(manager, experiment: Experiment) -> bool:
    """Whether this process is still starting the experiment's variants."""
    return feeder_for(manager).is_feeding(experiment.id)


def refresh(manager, experiment: Experiment) -> tuple[Experiment, dict, bool]:
    """The experiment as saved now, its runs, and whether anything is still to run.

    Asks the feeder first and reads the record after, so a variant started in between is never missed.
    """
    feeding = is_feeding(manager, experiment)
    experiment = ExperimentStore(manager.store).get(experiment.id) or experiment
    runs = experiment_runs(manager, experiment)
    return experiment, runs, feeding or any(run.active for run in runs.values())


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
    """Stop the experiment as a group: no further variant starts, and every run still training or waiting
    stops; returns how many runs were stopped."""
    feeder = feeder_for(manager)
    feeder.cancel(experiment.id)
    experiment = feeder.store.get(experiment.id) or experiment  # every run started so far
    return sum(1 for run_id in experiment.run_ids if manager.stop(run_id, experiment.owner))


def status_of(variant: dict, run) -> str:
    if run is not None:
        return run.status
    if variant.get("pending"):
        return "waiting"
    if variant.get("cancelled"):
        return "not started"
    return "rejected" if variant["problems"] else "deleted"


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
                "status": status_of(variant, run),
                "params": run.params if run is not None else variant["params"],
            }
        )
        for name in task_of_results(results).result_keys:  # the first is the one analysis ranks by
            row[name] = results.get(name)
        row["train_seconds"] = results.get("train_seconds")
        row["run_id"] = variant.get("run_id")
        row["problem"] = " ".join(variant["problems"])
        rows.append(row)
    frame = pd.DataFrame(rows)
    if len(frame):  # the columns of the task the results are of (a regression: no accuracy columns)
        task = task_of_columns(frame.dropna(axis=1, how="all").columns)
        others = [key for other in TASKS.values() if other is not task for key in other.result_keys]
        frame = frame.drop(columns=[c for c in others if c in frame])
    return frame


def wait_for_experiment(manager, experiment: Experiment, on_progress=None, poll: float = 0.5) -> pd.DataFrame:
    """Block until every variant has started and every run has ended; return the results table.

    ``on_progress(done, total, runs)`` is called after each poll (the CLI prints a progress line).
    """
    total = len(experiment.training)
    while True:
        experiment, runs, running = refresh(manager, experiment)  # the feeder adds run ids as it starts them
        done = sum(1 for run in runs.values() if run.status in Status.ENDED)
        if on_progress is not None:
            on_progress(done, total, runs)
        if not running:
            return results_table(experiment, runs)
        active = [r for r in runs.values() if r.active]
        if active:
            active[0].wait(poll)
        else:
            time.sleep(poll)
