"""Classroom challenges: a teacher's task with limits, the learners' runs, and the class leaderboard.

A challenge fixes the data set, caps parameters and epochs, and locks or hides training controls. Its
rules are checked by the RunManager when a learner's run starts, not only by the pages.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace

from core.data.datasets import load_dataset
from core.insight import compare
from core.model.presets import PRESETS
from core.model.spec import analyze
from core.runs.record import Run, Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters

# Controls a teacher can lock (shown, not changeable) or hide; the rest stay free.
CONTROLS = {
    "preset": "Preset",
    "optimizer": "Optimizer",
    "learning_rate": "Learning rate",
    "epochs": "Epochs",
    "batch_size": "Batch size",
    "validation_split": "Validation split",
    "seed": "Seed",
    "early_stopping_patience": "Early stopping",
}
HYPERPARAMETER_CONTROLS = tuple(c for c in CONTROLS if c != "preset")

_SCHEMA = "CREATE TABLE IF NOT EXISTS challenges (code TEXT PRIMARY KEY, created REAL NOT NULL, record TEXT NOT NULL)"


@dataclass(frozen=True)
class Challenge:
    code: str
    title: str
    dataset: str
    preset: str
    max_params: int
    max_epochs: int
    hyperparameters: Hyperparameters  # the values of locked and hidden controls, and the starting values
    locked: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    created: float = field(default_factory=time.time)
    reset_at: float = 0.0  # runs that ended before this do not count on the leaderboard

    def fixed(self, control: str) -> bool:
        return control in self.locked or control in self.hidden

    def to_dict(self) -> dict:
        data = asdict(self)
        data["hyperparameters"] = self.hyperparameters.to_dict()
        data["locked"], data["hidden"] = list(self.locked), list(self.hidden)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Challenge:
        return cls(
            **{
                **data,
                "hyperparameters": Hyperparameters.from_dict(data["hyperparameters"]),
                "locked": tuple(data.get("locked", ())),
                "hidden": tuple(data.get("hidden", ())),
            }
        )

    def rules(self) -> str:
        """The limits in one sentence, for the learners' banner."""
        text = f"at most {self.max_params:,} parameters and {self.max_epochs} epochs"
        fixed = [CONTROLS[c].lower() for c in CONTROLS if self.fixed(c)]
        if fixed:
            text += "; set by your teacher: " + ", ".join(fixed)
        return text

    def problems(self, dataset: str, params: int, hp: Hyperparameters) -> list[str]:
        """Why a learner's run breaks the challenge's rules (empty when it follows them)."""
        found = []
        if dataset != self.dataset:
            found.append(f"This challenge uses the {self.dataset} data set.")
        if params > self.max_params:
            found.append(
                f"The model has {params:,} parameters; this challenge allows at most "
                f"{self.max_params:,}. Use fewer filters or units, or add pooling before Flatten."
            )
        if hp.epochs > self.max_epochs:
            found.append(f"This challenge allows at most {self.max_epochs} epochs.")
        for control in HYPERPARAMETER_CONTROLS:
            if self.fixed(control) and getattr(hp, control) != getattr(self.hyperparameters, control):
                found.append(
                    f"The {CONTROLS[control].lower()} is set by your teacher "
                    f"({getattr(self.hyperparameters, control)})."
                )
        return found


def new_code() -> str:
    return secrets.token_hex(4)


def check_teacher_password(given: str, configured: str) -> bool:
    """Constant-time comparison; with no password configured, nobody is a teacher."""
    return bool(configured) and hmac.compare_digest(given.encode(), configured.encode())


class ChallengeStore:
    """Challenges live in the run store's database, beside the runs."""

    def __init__(self, store: RunStore):
        self.store = store
        with closing(store.connect()) as db, db:
            db.execute(_SCHEMA)

    def _connect(self):
        return closing(self.store.connect())

    def save(self, challenge: Challenge) -> Challenge:
        with self._connect() as db, db:
            db.execute(
                "INSERT INTO challenges (code, created, record) VALUES (?, ?, ?) "
                "ON CONFLICT(code) DO UPDATE SET record = excluded.record",
                (challenge.code, challenge.created, json.dumps(challenge.to_dict())),
            )
        return challenge

    def get(self, code: str) -> Challenge | None:
        with self._connect() as db:
            row = db.execute("SELECT record FROM challenges WHERE code = ?", (code,)).fetchone()
        return Challenge.from_dict(json.loads(row[0])) if row else None

    def list(self) -> list[Challenge]:
        with self._connect() as db:
            rows = db.execute("SELECT record FROM challenges ORDER BY created DESC").fetchall()
        return [Challenge.from_dict(json.loads(r[0])) for r in rows]

    def reset(self, code: str) -> Challenge | None:
        """Start the leaderboard afresh: earlier runs stay stored but no longer count."""
        challenge = self.get(code)
        if challenge is None:
            return None
        return self.save(replace(challenge, reset_at=time.time()))


def leaderboard(runs: list[Run], challenge: Challenge) -> list[dict]:
    """The class leaderboard: the challenge's finished runs since its last reset, on the one leaderboard
    (core.insight.compare.leaderboard): best test accuracy first; equal accuracy, the smaller model first."""
    counted = [
        run
        for run in runs
        if run.challenge == challenge.code
        and run.status == Status.FINISHED
        and run.test_accuracy is not None
        and (run.ended or 0) >= challenge.reset_at
    ]
    return compare.leaderboard(counted)


# --- a teacher's new challenge --------------------------------------------------------------------


def setup_problems(title: str, max_epochs: int, hyperparameters: Hyperparameters) -> list[str]:
    """Why a teacher's new challenge cannot be created as filled in (empty when it can)."""
    found = []
    if not title.strip():
        found.append("Give the challenge a title.")
    if hyperparameters.epochs > max_epochs:
        found.append("The starting number of epochs is above the most epochs allowed.")
    return found


def starting_model_warning(challenge: Challenge) -> str | None:
    """A word for the teacher when the challenge's starting model breaks its own parameter limit."""
    data = load_dataset(challenge.dataset)
    start = analyze(PRESETS[challenge.preset].spec(data.input_shape, data.num_classes)).total_params
    if start <= challenge.max_params:
        return None
    return (
        f"The starting model has {start:,} parameters, more than the {challenge.max_params:,} allowed: "
        "learners must shrink it before they can train."
    )
