"""The teacher's login: slowed down after wrong passwords, remembered across reloads by a signed,
expiring token in a cookie (never the password), and never kept in session state."""

from __future__ import annotations

import math
import secrets

import streamlit as st

from core.classroom import (
    TOKEN_SECONDS,
    ChallengeStore,
    LoginThrottle,
    check_teacher_password,
    check_teacher_token,
    class_results_csv,
    class_results_zip,
    import_challenge,
    make_teacher_token,
    server_secret,
)
from core.config import Settings, SettingsError

from .services import manager

TEACHER_COOKIE = "cnn_playground_teacher"
_TEACHER = "is_teacher"
_PENDING_COOKIE = "_teacher_cookie"  # the token to store in the browser, or "" to remove it
_SESSION_KEY = "_login_key"


@st.cache_resource
def _throttle() -> LoginThrottle:
    """One per server process: it counts wrong passwords of each session and of all sessions together."""
    return LoginThrottle()


def teacher_password() -> str:
    """The configured password ('' when classroom mode is off or the setting is unusable)."""
    try:
        return Settings.from_env().teacher_password
    except SettingsError:
        return ""


def _secret() -> bytes:
    return server_secret(manager().store.home)


def _cookie_token() -> str:
    value = st.context.cookies.get(TEACHER_COOKIE, "")
    return value if isinstance(value, str) else ""  # (AppTest has no browser, hence no cookies)


def is_teacher() -> bool:
    """This session logged in, or its browser holds a valid teacher token (a reload, a new tab)."""
    if st.session_state.get(_TEACHER):
        return True
    password = teacher_password()
    token = _cookie_token()
    if token and password and st.session_state.get(_PENDING_COOKIE) != "":
        if check_teacher_token(token, _secret(), password):
            st.session_state[_TEACHER] = True
            return True
    return False


def log_in(given: str) -> str | None:
    """Try a password; None when it is right, else what to tell the teacher (wrong, or wait N s)."""
    throttle = _throttle()
    key = st.session_state.setdefault(_SESSION_KEY, secrets.token_hex(8))
    wait = throttle.seconds_to_wait(key)
    if wait > 0:
        return f"Too many wrong passwords: wait {math.ceil(wait)} s, then try again."
    password = teacher_password()
    if check_teacher_password(given, password):
        throttle.succeeded(key)
        st.session_state[_TEACHER] = True
        st.session_state[_PENDING_COOKIE] = make_teacher_token(_secret(), password)
        return None
    throttle.failed(key)
    wait = throttle.seconds_to_wait(key)
    return "That password is not right." + (f" Wait {math.ceil(wait)} s before the next try." if wait > 0 else "")


def log_out() -> None:
    st.session_state[_TEACHER] = False
    st.session_state[_PENDING_COOKIE] = ""


def remember_teacher_in_browser() -> None:
    """Write (or remove) the teacher's token cookie after a login (or a logout)."""
    token = st.session_state.pop(_PENDING_COOKIE, None)
    if token is None:
        return
    age = TOKEN_SECONDS if token else 0
    st.html(
        f"<script>document.cookie = '{TEACHER_COOKIE}={token}; path=/; max-age={age}; SameSite=Strict'"
        " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
    )
    if not token:
        st.session_state[_PENDING_COOKIE] = ""  # logged out: ignore the old cookie until the browser drops it


# --- a class's results exported, a challenge imported ---------------------------------------------

_CLASS_ZIP = "_class_zip"  # (challenge code, the zip's bytes) made last for download


def class_results(code: str) -> tuple[str, list] | None:
    """(the leaderboard as CSV, the runs of the challenge), or None when it no longer exists."""
    challenge = ChallengeStore(manager().store).get(code)
    if challenge is None:
        return None
    runs = manager().classroom_runs(code)
    return class_results_csv(runs, challenge), runs


def prepare_class_zip(code: str) -> None:
    challenge = ChallengeStore(manager().store).get(code)
    if challenge is not None:
        runs = manager().classroom_runs(code)
        st.session_state[_CLASS_ZIP] = (code, class_results_zip(manager().store, challenge, runs))


def prepared_class_zip(code: str) -> bytes | None:
    made = st.session_state.get(_CLASS_ZIP)
    return made[1] if made is not None and made[0] == code else None


def import_challenge_file(data: bytes, teacher: str):
    """A new challenge from another server's class results zip; ChallengeRejected says why not."""
    return import_challenge(data, ChallengeStore(manager().store), teacher=teacher)
