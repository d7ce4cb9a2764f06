"""A classroom challenge's rules and where challenges are kept: what the run manager enforces on a run.

A challenge fixes the data set, caps parameters and epochs, and locks or hides training controls; it may
keep a hidden test set back from the learners, scored only for the leaderboard. The rules live here, in
the runs layer, so that the manager and the trainer (which scores the hidden test set) follow them without
knowing the classroom (core.classroom: the teacher's side, the leaderboard, a class's results).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from core.messages import counted
from core.runs.store import RunStore
from core.text import CHALLENGE_TITLE_CHARS, clean_name
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
    "target_accuracy": "Target accuracy",
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
    closed: bool = False  # a closed challenge takes no new runs; its leaderboard stays
    hidden_test: int = 0  # test examples kept back from learners, used only for the leaderboard score

    def __post_init__(self):
        # Every way a challenge is made (created, edited, read back) gives it a clean title.
        object.__setattr__(self, "title", clean_name(self.title, CHALLENGE_TITLE_CHARS))

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
        text = f"at most {self.max_params:,} parameters and {counted(self.max_epochs, 'epoch')}"
        if self.train_images:
            text += f", {counted(self.train_images, 'training image')} per run"
        fixed = [CONTROLS[c].lower() for c in CONTROLS if self.fixed(c)]
        if fixed:
            text += "; set by your teacher: " + ", ".join(fixed)
        return text

    @property
    def train_images(self) -> int | None:
        """Training images per run (a quick challenge), or None for the whole training set."""
        return self.hyperparameters.limit_train

    def apply(self, hp: Hyperparameters) -> Hyperparameters:
        """``hp`` with the challenge's fixed values: locked and hidden controls, the training images per
        run and the test set; epochs (and early-stopping patience) brought within the cap.

        Every way into a challenge (its link, a preset, a clone, a share link, a data set switch) goes
        through this, so a learner never holds a setting they could not change back.
        """
        fixed = {c: getattr(self.hyperparameters, c) for c in HYPERPARAMETER_CONTROLS if self.fixed(c)}
        values = {
            **hp.to_dict(),
            **fixed,
            "limit_train": self.hyperparameters.limit_train,
            "limit_test": self.hyperparameters.limit_test,
        }
        if not isinstance(values["epochs"], int) or values["epochs"] > self.max_epochs:
            values["epochs"] = self.max_epochs
        patience = values["early_stopping_patience"]
        if isinstance(patience, int) and patience > self.max_epochs:
            values["early_stopping_patience"] = self.max_epochs
        return Hyperparameters.from_dict(values)

    def problems(self, dataset: str, params: int, hp: Hyperparameters) -> list[str]:
        """Why a learner's run breaks the challenge's rules (empty when it follows them).

        Each sentence names what to change. Values the learner cannot change (data set, locked
        controls, training images, test set) are put right by ``apply`` on every path into the
        challenge; they are still checked here, so no other path (an old tab, the API) gets round them.
        """
        found = []
        if self.closed:
            found.append("Your teacher has closed this challenge: it takes no new runs.")
        if dataset != self.dataset:
            found.append(
                "This challenge uses its own data set, not the one of this model: open the challenge "
                "link again to get it back."
            )
        if params > self.max_params:
            found.append(
                f"The model has {params:,} parameters; this challenge allows at most "
                f"{self.max_params:,}. On Build, use fewer filters or units, or add pooling before Flatten."
            )
        if hp.epochs > self.max_epochs:
            found.append(f"This challenge allows at most {counted(self.max_epochs, 'epoch')}: lower Epochs.")
        for control in HYPERPARAMETER_CONTROLS:
            if self.fixed(control) and getattr(hp, control) != getattr(self.hyperparameters, control):
                found.append(
                    f"The {CONTROLS[control].lower()} is set by your teacher "
                    f"({getattr(self.hyperparameters, control)}): open the challenge link again to get it back."
                )
        for name, what in (("limit_train", "training images per run"), ("limit_test", "test set")):
            if getattr(hp, name) != getattr(self.hyperparameters, name):
                found.append(f"The {what} is set by your teacher in this challenge: open the challenge link again.")
        return found

    def more_epochs_problems(self, epochs_done: int, extra_epochs: int) -> list[str]:
        """Why a run of this challenge cannot train ``extra_epochs`` more (empty when it can)."""
        if self.closed:
            return ["Your teacher has closed this challenge: it takes no new training."]
        left = self.max_epochs - epochs_done
        if extra_epochs <= left:
            return []
        if left <= 0:
            return [
                f"This run already has the {counted(self.max_epochs, 'epoch')} this challenge allows. To do better, "
                "change the model on Build and train a new run."
            ]
        return [
            f"This challenge allows {counted(self.max_epochs, 'epoch')} in all and this run has {epochs_done}: "
            f"set More epochs to at most {left}."
        ]


# --- a hidden test set: kept back from learners, scored only for the leaderboard -------------------

HIDDEN_SCORE = "hidden_test_accuracy"  # a run's accuracy on its challenge's hidden test set, in its results


def hidden_test_path(home: Path, code: str) -> Path:
    """Where a challenge's hidden test set is kept: not an ``own-`` name, so no page can load it as data."""
    return Path(home) / "datasets" / f"hidden-{code}.npz"


def save_hidden_test(home: Path, code: str, x: np.ndarray, y: np.ndarray) -> None:
    path = hidden_test_path(home, code)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, x=x, y=y)
    os.replace(tmp, path)


def load_hidden_test(home: Path, code: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The challenge's hidden test set (images, labels), or None when it keeps none."""
    try:
        with np.load(hidden_test_path(home, code), allow_pickle=False) as data:
            return data["x"], data["y"]
    except (OSError, KeyError, ValueError):
        return None


class ChallengeStore:
    """Challenges live in the run store's database, beside the runs."""

    def __init__(self, store: RunStore):
        self.store = store
        store.create_tables(_SCHEMA)

    def _connect(self):
        """One transaction on the run store's database (a fault comes out as core.runs.store.StoreError)."""
        return self.store.connect()

    def save(self, challenge: Challenge) -> Challenge:
        with self._connect() as db:
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

    def update(self, code: str, **changes) -> Challenge | None:
        """Change a challenge's title, limits or settings (its code and creation time stay)."""
        challenge = self.get(code)
        if challenge is None:
            return None
        return self.save(replace(challenge, **changes))

    def delete(self, code: str) -> bool:
        """Delete the challenge (its runs stay with their learners) and any hidden test set it kept."""
        with self._connect() as db:
            deleted = db.execute("DELETE FROM challenges WHERE code = ?", (code,)).rowcount > 0
        hidden_test_path(self.store.home, code).unlink(missing_ok=True)
        return deleted

    def reset(self, code: str) -> Challenge | None:
        """Start the leaderboard afresh: earlier runs stay stored but no longer count."""
        challenge = self.get(code)
        if challenge is None:
            return None
        return self.save(replace(challenge, reset_at=time.time()))
