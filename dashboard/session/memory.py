"""What pages keep for this browser session between reruns and page switches: messages for the next
rerun, choices, outcomes of imports, and the trained models held in memory.

Models live here, in the session (never in a cache shared between users); a session holds at most
``MAX_HELD_MODELS`` of them.
"""

from __future__ import annotations

import streamlit as st

MAX_HELD_MODELS = 2
_MESSAGES = "_messages"
_MODELS = "_session_models"
_COMPARE = "_compare_choice"  # (the followed run the choice was made for, the chosen run ids)
_TEACHER_CHALLENGE = "teacher_challenge"
_TRAINING_PROBLEMS = "train_problems"
_UNAVAILABLE = "dataset_unavailable"
_TABLE_SOURCE = "csv_source"
_CLICKS = "_last_clicks"
_SHOWN_MISTAKES = "_shown_mistakes"


def _kept(name: str, factory):
    return st.session_state.setdefault(name, factory())


# --- messages for the next rerun -----------------------------------------------------------------


def leave_message(name: str, value=True) -> None:
    """Something to tell the user on the next rerun (e.g. from a callback); read once with take_message."""
    _kept(_MESSAGES, dict)[name] = value


def take_message(name: str, default=None):
    """The message left under ``name``, then gone; ``default`` when there is none."""
    return _kept(_MESSAGES, dict).pop(name, default)


# --- trained models held for Inside and Predict --------------------------------------------------


def held_model(run_id: str):
    """The run's trained model if this session holds it, else None."""
    return _kept(_MODELS, dict).get(run_id)


def hold_model(run_id: str, model) -> None:
    """Keep the run's model for this session; the oldest goes first (a session rarely switches back)."""
    models = _kept(_MODELS, dict)
    while len(models) >= MAX_HELD_MODELS:
        models.pop(next(iter(models)))
    models[run_id] = model


# --- choices -------------------------------------------------------------------------------------


def compare_choice(followed_id: str | None) -> list[str] | None:
    """The runs chosen on Compare while the session followed ``followed_id``; None if none was made."""
    made_for, chosen = st.session_state.get(_COMPARE, (None, None))
    return list(chosen) if chosen is not None and made_for == followed_id else None


def set_compare_choice(followed_id: str | None, run_ids) -> None:
    st.session_state[_COMPARE] = (followed_id, list(run_ids))


def teacher_challenge() -> str | None:
    """The challenge the teacher created last (the Your challenges tab opens on it)."""
    return st.session_state.get(_TEACHER_CHALLENGE)


def set_teacher_challenge(code: str) -> None:
    st.session_state[_TEACHER_CHALLENGE] = code


def shown_mistake(run_id: str) -> int | None:
    """The test image Inside shows as this run's random mistake."""
    return _kept(_SHOWN_MISTAKES, dict).get(run_id)


def show_mistake(run_id: str, index: int) -> None:
    _kept(_SHOWN_MISTAKES, dict)[run_id] = index


def is_new_click(chart_key: str, cell) -> bool:
    """Whether ``cell`` is a click on the chart not seen on an earlier rerun (None is no click)."""
    clicks = _kept(_CLICKS, dict)
    new = cell is not None and cell != clicks.get(chart_key)
    clicks[chart_key] = cell
    return new


# --- outcomes ------------------------------------------------------------------------------------


def training_problems() -> list[str]:
    """Why the last Train (or Train more) was refused; empty after one that started."""
    return st.session_state.get(_TRAINING_PROBLEMS, [])


def set_training_problems(problems) -> None:
    st.session_state[_TRAINING_PROBLEMS] = list(problems)


def unavailable_dataset() -> tuple[str, str] | None:
    """(name, message) of the last data set chosen that could not be loaded, until one loads."""
    return st.session_state.get(_UNAVAILABLE)


def set_unavailable_dataset(name_and_message: tuple[str, str] | None) -> None:
    st.session_state[_UNAVAILABLE] = name_and_message


def table_being_imported() -> dict | None:
    """The CSV table being imported on Data: file name, parsed frame, columns — or the error reading it."""
    return st.session_state.get(_TABLE_SOURCE)


def set_table_being_imported(source: dict | None) -> None:
    st.session_state[_TABLE_SOURCE] = source


def import_outcome(kind: str) -> dict | None:
    """What the last import of this kind (``keys.ImageImport.OUTCOME``...) came to: an error or the new data
    set's report."""
    return st.session_state.get(f"_{kind}_outcome")


def set_import_outcome(kind: str, outcome: dict | None) -> None:
    st.session_state[f"_{kind}_outcome"] = outcome
