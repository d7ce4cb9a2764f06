"""Who is using this browser: an anonymous id kept in a cookie and the URL, and the name they give."""

from __future__ import annotations

import re
import secrets

import streamlit as st

USER_PARAM = "u"
USER_COOKIE = "cnn_playground_user"
_USER_KEY = "_user_id"
_TOKEN = re.compile(r"^[0-9a-f]{12,32}$")


def user_id() -> str:
    """An anonymous id for this browser: from its cookie (new tabs), else the URL (refreshes), else new.

    The cookie wins over the URL, so a link carrying someone else's id does not open their runs.
    """
    uid = st.session_state.get(_USER_KEY)
    if not uid:
        candidates = (_user_cookie(), st.query_params.get(USER_PARAM, ""))
        uid = next((c for c in candidates if _TOKEN.match(c)), None) or secrets.token_hex(8)
        st.session_state[_USER_KEY] = uid
    if st.query_params.get(USER_PARAM) != uid:
        st.query_params[USER_PARAM] = uid
    return uid


def _user_cookie() -> str:
    value = st.context.cookies.get(USER_COOKIE, "")
    return value if isinstance(value, str) else ""  # (AppTest has no browser, hence no cookies)


def remember_user_in_browser() -> None:
    """Store the id in a cookie (one year) so a new tab of this browser finds its runs too."""
    uid = user_id()
    if _user_cookie() != uid:
        st.html(
            f"<script>document.cookie = '{USER_COOKIE}={uid}; path=/; max-age=31536000; SameSite=Strict';</script>",
            unsafe_allow_javascript=True,
        )


def learner_name() -> str:
    """The name the learner gave for the class leaderboard (the banner's text box), trimmed."""
    return st.session_state.get("learner_name", "").strip()[:40]
