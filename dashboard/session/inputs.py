"""The values of the page's widgets, by their keys: read in callbacks (Streamlit hands a callback no
value), set before a widget is drawn to choose what it shows, or cleared so it is drawn afresh."""

from __future__ import annotations

import streamlit as st

from . import keys


def widget_value(key: str, default=None):
    """The widget's current value; ``default`` before it was first drawn."""
    return st.session_state.get(key, default)


def set_widget_value(key: str, value) -> None:
    """The value the widget shows when next drawn (call it before the widget, or in a callback)."""
    st.session_state[key] = value


def default_widget_value(key: str, value):
    """Set the widget's value unless it has one already; returns the value it has."""
    return st.session_state.setdefault(key, value)


def reset_widgets(*keys: str, prefix: str | None = None) -> None:
    """Forget these widgets' values (and those of every widget whose key starts with ``prefix``)."""
    if prefix:
        keys = (*keys, *(k for k in st.session_state if str(k).startswith(prefix)))
    for key in keys:
        st.session_state.pop(key, None)


def show_chosen_dataset(name: str) -> None:
    """The Data page's data set choice shows ``name`` when next drawn (a data set an import just made)."""
    set_widget_value(keys.Data.DATASET_CHOICE, name)
