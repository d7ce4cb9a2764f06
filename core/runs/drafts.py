"""What a user was building, kept between browser sessions: the builder's data set, preset, model and
training settings, saved per user (and per classroom challenge) in the run store's database.

A browser refresh starts a new Streamlit session with nothing in it; the user's cookie still names them,
so the session finds their working model here instead of starting again from the default (and training
Fashion-MNIST when they had just imported a table). Everything read back is checked as a share link is:
a damaged or outdated record is simply not restored.
"""

from __future__ import annotations

import json
import logging
import time

from core.data.datasets import DATASETS
from core.data.user_datasets import is_user_dataset
from core.identity import is_user_id
from core.runs.store import RunStore, StoreError, is_run_id
from core.training.hyperparams import Hyperparameters
from core.training.presets import ALL_PRESETS
from core.training.validation import InvalidInput, check_hyperparameters, check_spec

log = logging.getLogger(__name__)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS drafts ("
    "owner TEXT NOT NULL, place TEXT NOT NULL, saved REAL NOT NULL, record TEXT NOT NULL, "
    "PRIMARY KEY (owner, place))"
)
MAX_RECORD_BYTES = 256_000  # a model description is a few KB; the share-link limits apply to its parts
FREE_PLAYGROUND = ""  # the place of the free playground; a challenge's place is its code


class DraftStore:
    """Working models live in the run store's database, one per user and place (free playground or challenge)."""

    def __init__(self, store: RunStore):
        self.store = store
        try:
            store.create_tables(_SCHEMA)
        except StoreError as error:  # drafts are a convenience: without them a refresh starts afresh
            log.warning("working models cannot be kept: %s", error)

    def save(self, owner: str, draft: dict, place: str | None = None) -> bool:
        """Keep ``draft`` (``dataset``, ``preset``, ``spec``, ``hyperparameters`` as plain values, and
        optionally ``parent_id``) as the owner's working model. False when it could not be written (a full or
        read-only disk): the session goes on, only a refresh would not find it."""
        if not is_user_id(owner):
            return False
        record = json.dumps(draft, separators=(",", ":"), allow_nan=False)
        if len(record) > MAX_RECORD_BYTES:
            return False
        if self.store.read_only:
            return False
        try:
            with self.store.connect() as db:
                db.execute(
                    "INSERT INTO drafts (owner, place, saved, record) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(owner, place) DO UPDATE SET saved = excluded.saved, record = excluded.record",
                    (owner, place or FREE_PLAYGROUND, time.time(), record),
                )
        except (StoreError, OSError) as error:
            log.warning("the working model could not be saved: %s", error)
            return False
        return True

    def get(self, owner: str, place: str | None = None) -> dict | None:
        """The owner's working model at ``place``, checked (its model, settings, data set and preset are ones
        this app can use); None when there is none or it cannot be used."""
        if not is_user_id(owner):
            return None
        try:
            with self.store.connect() as db:
                row = db.execute(
                    "SELECT record FROM drafts WHERE owner = ? AND place = ?", (owner, place or FREE_PLAYGROUND)
                ).fetchone()
        except (StoreError, OSError) as error:  # e.g. a read-only store that never had the table
            log.warning("the working model could not be read: %s", error)
            return None
        return checked_draft(row[0]) if row else None


def checked_draft(text: str) -> dict | None:
    """The draft a stored record holds, every part checked; None when any part is not one the app made."""
    try:
        data = json.loads(text) if isinstance(text, str) and len(text) <= MAX_RECORD_BYTES else None
        if not isinstance(data, dict):
            return None
        dataset, preset = data.get("dataset"), data.get("preset")
        if not isinstance(dataset, str) or not (dataset in DATASETS or is_user_dataset(dataset)):
            return None
        if not isinstance(preset, str) or preset not in ALL_PRESETS:
            return None
        spec = check_spec(data.get("spec"))
        hyperparameters: Hyperparameters = check_hyperparameters(data.get("hyperparameters"))
    except (ValueError, InvalidInput, TypeError, RecursionError):
        return None
    parent = data.get("parent_id")
    return {
        "dataset": dataset,
        "preset": preset,
        "spec": spec,
        "hyperparameters": hyperparameters,
        "parent_id": parent if is_run_id(parent) else None,
    }
