"""A teacher's challenge made and edited: the form checked in plain sentences, the challenge saved.

The challenge itself, its rules and its store are the runs layer's (``core.runs.challenges``: the manager
enforces them on every learner's run); the app reaches these through the teacher-only service
(``core.classroom.teacher.Classroom``), which checks the teacher first.
"""

from __future__ import annotations

import secrets

from core.classroom.hidden_test import keep_back_hidden_test
from core.data.datasets import CLASSIFICATION, load_dataset
from core.disk import DISK_FAILING, disk_problem
from core.model.spec import analyze
from core.runs.challenges import Challenge, ChallengeStore
from core.runs.store import StoreError
from core.text import CHALLENGE_TITLE_CHARS, clean_name
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS


def new_code() -> str:
    """A new challenge's code, the part of its link learners open."""
    return secrets.token_hex(4)


class ChallengeRejected(Exception):
    """A teacher's challenge cannot be saved as filled in; ``problems`` say what to change."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


def setup_problems(title: str, max_epochs: int, hyperparameters: Hyperparameters) -> list[str]:
    """Why a teacher's new challenge cannot be created as filled in (empty when it can)."""
    found = []
    if not clean_name(title, CHALLENGE_TITLE_CHARS):
        found.append("Give the challenge a title.")
    if hyperparameters.epochs > max_epochs:
        found.append("The starting number of epochs is above the most epochs allowed.")
    return found


def edit_problems(challenge: Challenge, title: str, max_epochs: int, hyperparameters: Hyperparameters) -> list[str]:
    """Why an edit of a challenge cannot be saved (empty when it can)."""
    return setup_problems(title, max_epochs, hyperparameters) + hyperparameters.problems()


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


def create_challenge(
    challenges: ChallengeStore,
    *,
    teacher: str,
    title: str,
    dataset: str,
    preset: str,
    max_params: int,
    max_epochs: int,
    hyperparameters: Hyperparameters,
    locked=(),
    hidden=(),
    hidden_test: int = 0,
) -> Challenge:
    """Check and save a new challenge; with ``hidden_test`` its learners get a copy of the data set
    without that many test examples, which only score the leaderboard (see keep_back_hidden_test).

    ``teacher`` is the teacher's user id: a data set they imported may be the challenge's.
    Raises ChallengeRejected with plain sentences when it cannot be made.
    """
    problems = setup_problems(title, max_epochs, hyperparameters) + hyperparameters.problems()
    data = load_dataset(dataset)
    if data.owner and data.owner != teacher:
        problems.append("That data set was imported by someone else: choose one of yours.")
    if hidden_test:
        if data.task != CLASSIFICATION:
            problems.append("A hidden test set is scored by accuracy: it needs a data set of classes.")
        elif not 1 <= hidden_test <= len(data.x_test) // 2:
            problems.append(
                f"Keep back between 1 and {len(data.x_test) // 2:,} test images (half of the "
                f"{len(data.x_test):,} this data set has), or 0 for none."
            )
    if problems:
        raise ChallengeRejected(problems)
    code = new_code()
    try:
        if hidden_test:
            dataset = keep_back_hidden_test(challenges.store.home, code, data, hidden_test, owner=teacher)
        return challenges.save(
            Challenge(
                code=code,
                title=title,  # cleaned by Challenge itself
                dataset=dataset,
                preset=preset,
                max_params=int(max_params),
                max_epochs=int(max_epochs),
                hyperparameters=hyperparameters,
                locked=tuple(c for c in locked if c not in hidden),
                hidden=tuple(hidden),
                hidden_test=int(hidden_test),
            )
        )
    except StoreError as error:  # a read-only, full or damaged store, in its plain words
        raise ChallengeRejected([error.public]) from None
    except OSError as error:  # writing the hidden test set
        raise ChallengeRejected([disk_problem(error) or DISK_FAILING]) from None
