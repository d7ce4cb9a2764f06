"""This browser's learner's file of work, saved and opened in their name (core.work does the checking)."""

from __future__ import annotations

import streamlit as st

from core.work import OpenedWork, SavedWork, open_work, save_work

from .identity import user_id
from .services import manager, user_datasets

_PREPARED = "_prepared_work"  # the last file of work made for download: (SavedWork, with data sets)


def save_own_work(include_datasets: bool) -> SavedWork:
    """The learner's file of work, kept for the download button; WorkFileError says why there is none."""
    saved = save_work(manager().store, user_datasets(), user_id(), include_datasets=include_datasets)
    st.session_state[_PREPARED] = (saved, include_datasets)
    return saved


def prepared_work(include_datasets: bool) -> SavedWork | None:
    """The file made last, if it was made with the same choice of data sets."""
    prepared = st.session_state.get(_PREPARED)
    return prepared[0] if prepared is not None and prepared[1] == include_datasets else None


def forget_prepared_work() -> None:
    st.session_state.pop(_PREPARED, None)


def open_own_work(data: bytes) -> OpenedWork:
    """Open a file of work as this learner's runs and data sets; WorkFileError says why not."""
    forget_prepared_work()
    return open_work(data, store=manager().store, datasets=user_datasets(), owner=user_id())
