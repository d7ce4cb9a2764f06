"""Picking one of the user's trained runs and holding its model for this browser session only.

Models are held by the session (never in a cache shared between users), loaded in Keras' safe
mode from the run store's own ``.keras`` files; a session keeps at most a couple of them.
"""

from __future__ import annotations

import streamlit as st

from core.data.datasets import DatasetUnavailable, load_dataset
from core.insight.inspection import ModelUnavailable, load_run_model
from core.runs.record import Status
from dashboard import session
from dashboard.components.labels import run_label
from dashboard.components.user_text import markdown_literal


def trained_runs() -> list:
    """The user's ended runs that have a saved model, newest first."""
    store = session.manager().store
    return [r for r in session.own_runs() if r.status in Status.ENDED and store.model_path(r.id).is_file()]


def pick_trained_run(key: str):
    """A selectbox of the user's trained runs (the followed one first chosen); None, with a hint, if none."""
    runs = trained_runs()
    if not runs:
        st.info("No trained model yet: build a model, press **Train** and come back when it has finished.")
        st.page_link("views/train.py", label="Go to Train", icon=":material/play_circle:")
        return None
    ids = [r.id for r in runs]
    by_id = {r.id: r for r in runs}
    followed = session.followed_run()
    default = ids.index(followed.id) if followed is not None and followed.id in by_id else 0
    chosen = st.selectbox(
        "Trained model",
        ids,
        index=default,
        format_func=lambda i: run_label(by_id[i], session.dataset_title(by_id[i].dataset)),
        key=key,
        help="One of your finished runs; each keeps the network as it was after training.",
    )
    return by_id[chosen]


def session_model(run):
    """The run's trained Keras model, loaded once per session; None (with a plain message) if it cannot be."""
    if session.own_run(run.id) is None:  # only the user's own runs, whatever reaches this function
        st.error("This run belongs to someone else.")
        return None
    model = session.held_model(run.id)
    if model is None:
        try:
            with st.spinner("Opening the trained model…"):
                model = load_run_model(session.manager().store, run.id)
        except ModelUnavailable as error:
            st.error(markdown_literal(error), icon=":material/error:")
            return None
        session.hold_model(run.id, model)
    return model


def class_names_or_stop(run) -> tuple[str, ...]:
    """The class names of the run's data set; when it is gone, a plain message and the page stops."""
    try:
        return load_dataset(run.dataset).class_names
    except DatasetUnavailable as error:
        st.error(markdown_literal(error), icon=":material/cloud_off:")
        st.stop()
