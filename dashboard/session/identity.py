"""Who is using this browser: an anonymous secret id kept in a cookie only, and the name they give.

The id is what owns runs and imported data sets, so it is a secret: it is never put in a URL, on a
page or in a share link. Copying someone's address bar gives their model at most (see links.py).
"""

from __future__ import annotations

import math
import secrets

import streamlit as st

from core.classroom.login import LoginThrottle
from core.identity import InvalidRecoveryCode, is_user_id, new_user_id, parse_recovery_code, recovery_code
from core.work import has_work

from . import keys
from .services import manager, user_datasets

OLD_USER_PARAM = "u"  # earlier versions put the id in the URL: removed wherever it still appears
USER_COOKIE = "cnn_playground_user"
_USER_KEY = "_user_id"
_CODE_SHOWN = "_recovery_code_shown"
_CODE_SESSION = "_recovery_session"


def user_id() -> str:
    """This browser's anonymous id: from its cookie, else a new random one (128 bits) for a first visit.

    Never read from the URL: a link, even one carrying an old ``u=`` id, cannot make you someone else.
    """
    uid = st.session_state.get(_USER_KEY)
    if not uid:
        cookie = _user_cookie()
        uid = cookie if is_user_id(cookie) else new_user_id()
        st.session_state[_USER_KEY] = uid
    if OLD_USER_PARAM in st.query_params:
        del st.query_params[OLD_USER_PARAM]
    return uid


def _user_cookie() -> str:
    value = st.context.cookies.get(USER_COOKIE, "")
    return value if isinstance(value, str) else ""  # (AppTest has no browser, hence no cookies)


def remember_user_in_browser() -> None:
    """Store the id in a cookie (one year) so a refresh or a new tab of this browser finds its runs too.

    Streamlit cannot set cookies from the server, so a script in the page does it, in the first session
    of a browser only (later ones send the cookie). The script then erases itself from the page, so the
    id is not left in the page for anyone to read off it.
    """
    uid = user_id()
    if _user_cookie() != uid:
        st.html(
            "<script>(() => {"
            f"document.cookie = '{USER_COOKIE}={uid}; path=/; max-age=31536000; SameSite=Strict';"
            "for (const s of document.querySelectorAll('script')) "
            f"if (s.textContent.includes('{USER_COOKIE}=')) s.remove();"
            "})();</script>",
            unsafe_allow_javascript=True,
        )


def learner_name() -> str:
    """The name the learner gave for the class leaderboard (the banner's text box), trimmed."""
    return st.session_state.get(keys.Classroom.LEARNER_NAME, "").strip()[:40]


# --- the recovery code: this learner's secret, shown on request, typed on another browser -------------


def show_recovery_code() -> None:
    st.session_state[_CODE_SHOWN] = True


def hide_recovery_code() -> None:
    st.session_state[_CODE_SHOWN] = False


def shown_recovery_code() -> str | None:
    """The code, once the learner asked to see it (never put in the URL, never logged)."""
    return recovery_code(user_id()) if st.session_state.get(_CODE_SHOWN) else None


@st.cache_resource
def _code_throttle() -> LoginThrottle:
    """Wrong codes slow the next try, per session and for the whole server (as the teacher's password does)."""
    return LoginThrottle(free=5, server_free=50)


def use_recovery_code(typed: str) -> str | None:
    """Make this browser the learner whose recovery code was typed; None when it worked, else why not.

    A code that owns no work here is refused rather than opening an empty identity (a typo would
    otherwise silently make you someone new); wrong codes make the next try wait.
    """
    key = st.session_state.setdefault(_CODE_SESSION, secrets.token_hex(8))
    throttle = _code_throttle()
    wait = throttle.seconds_to_wait(key)
    if wait > 0:
        return f"Too many wrong codes: wait {math.ceil(wait)} s, then try again."
    try:
        uid = parse_recovery_code(typed)
    except InvalidRecoveryCode as error:
        return str(error)
    if uid == user_id():
        return "That is already this browser's code."
    if not has_work(manager().store, user_datasets(), uid):
        throttle.failed(key)
        return "No runs or data sets belong to that code on this server: check that you typed it right."
    throttle.succeeded(key)
    st.session_state[_USER_KEY] = uid  # the app writes the cookie on this rerun (remember_user_in_browser)
    st.session_state[_CODE_SHOWN] = False
    return None
