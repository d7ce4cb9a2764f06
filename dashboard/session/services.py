"""What every session shares: the process's run manager, the stores beside it, and data-set look-ups."""

from __future__ import annotations

import logging

import streamlit as st

from core.data.datasets import DATASETS, DatasetUnavailable, load_dataset
from core.data.user_datasets import UserDatasetStore, is_user_dataset
from core.experiments.engine import resume_experiments
from core.runs.challenges import ChallengeStore
from core.runs.drafts import DraftStore
from core.runs.manager import RunManager, default_manager
from core.runs.store import StoreError

log = logging.getLogger(__name__)


@st.cache_resource
def manager() -> RunManager:
    """The process's run manager, shared by every session (each sees only its own runs).

    Raises StoreError when the run store cannot be opened (damaged): nothing is cached then, so the app
    opens it again on the next page once the operator has restored it or moved it aside.

    Experiments a stopped server was still feeding go on here (their waiting variants are queued)."""
    started = default_manager()
    try:
        resume_experiments(started)
    except StoreError as error:  # a read-only or full store: they go on at the next start that can save them
        log.warning("could not resume the experiments: %s", error)
    return started


def store_problem() -> str | None:
    """Why the server's run store cannot be used (damaged, unreadable), in words for learners that name no
    file; None when it can. The app shows it instead of every page."""
    try:
        manager()
    except StoreError as error:
        return error.public
    return None


def challenges() -> ChallengeStore:
    return ChallengeStore(manager().store)


def drafts() -> DraftStore:
    """Each user's working model, kept between browser sessions (a refresh)."""
    return DraftStore(manager().store)


def user_datasets() -> UserDatasetStore:
    """Data sets users imported, stored beside the runs (so a test's or server's home holds both)."""
    return UserDatasetStore(manager().store.home)


def available_dataset(preferred: str = "fashion_mnist") -> str:
    """``preferred`` when it can be loaded here, else the synthetic shapes (which always can)."""
    try:
        load_dataset(preferred)
        return preferred
    except DatasetUnavailable:
        return "shapes"


def dataset_title(name: str) -> str:
    if name in DATASETS:
        return DATASETS[name].title
    if not is_user_dataset(name):
        return name
    meta = user_datasets().meta(name)
    return meta["title"] if meta else "a deleted data set"
