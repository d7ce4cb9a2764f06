"""A hidden test set: test examples a teacher keeps back from the learners, scored only for the leaderboard.

Where it is kept and how it is read (the trainer scores it) are the runs layer's
(``core.runs.challenges``: ``hidden_test_path``, ``save_hidden_test``, ``load_hidden_test``); this is the
teacher's side: drawing the examples and giving the learners a data set without them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.data.datasets import CLASSIFICATION, Dataset
from core.data.user_datasets import UserDatasetStore
from core.runs.challenges import save_hidden_test
from core.text import DATASET_TITLE_CHARS, clean_name


def split_hidden_test(x_test: np.ndarray, y_test: np.ndarray, count: int, seed: int = 0):
    """``count`` test examples, drawn at random, kept back; returns (visible x, visible y, hidden x, hidden y)."""
    if not 1 <= count < len(x_test):
        raise ValueError(f"Keep back between 1 and {len(x_test) - 1} test examples (got {count}).")
    order = np.random.default_rng(seed).permutation(len(x_test))
    hidden, visible = np.sort(order[:count]), np.sort(order[count:])
    return x_test[visible], y_test[visible], x_test[hidden], y_test[hidden]


def keep_back_hidden_test(home: Path, code: str, dataset: Dataset, count: int, owner: str) -> str:
    """Keep ``count`` of the data set's test examples back for challenge ``code``'s leaderboard.

    The learners' data set becomes a copy without them (an imported data set of ``owner``, the
    teacher); the kept-back examples go to a file no page reads. Returns the copy's name.
    """
    if dataset.task != CLASSIFICATION:
        raise ValueError("A hidden test set is scored by accuracy: it needs a data set of classes.")
    x_test, y_test, x_hidden, y_hidden = split_hidden_test(dataset.x_test, dataset.y_test, count)
    save_hidden_test(home, code, x_hidden, y_hidden)
    suffix = f" (challenge {code})"
    return UserDatasetStore(home).save(
        owner=owner,
        title=clean_name(dataset.title, DATASET_TITLE_CHARS - len(suffix)) + suffix,
        arrays={"x_train": dataset.x_train, "y_train": dataset.y_train, "x_test": x_test, "y_test": y_test},
        class_names=dataset.class_names,
        details={"hidden_test": int(count), "challenge": code, "from": dataset.name},
    )
