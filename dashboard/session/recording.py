"""The data set the learner is recording on Data: the classes named and the pictures taken or uploaded so
far (kept in this session only, until built), and the round of the camera and upload widgets, which moves on
after each change so they are drawn empty, ready for the next picture."""

from __future__ import annotations

import streamlit as st

from core.data.recording import Recording

_RECORDING = "_recording"
_ROUND = "_recording_round"


def recording() -> Recording:
    """This session's recording (empty at first); change it through its methods."""
    return st.session_state.setdefault(_RECORDING, Recording())


def start_over() -> None:
    """Forget every class and picture recorded."""
    st.session_state[_RECORDING] = Recording()
    next_round()


def widget_round() -> int:
    return st.session_state.get(_ROUND, 0)


def next_round() -> None:
    st.session_state[_ROUND] = widget_round() + 1
