"""The teacher's login in this browser session: the token the classroom's teacher-only service
(core.classroom.teacher.Classroom) signed at login, remembered across reloads in a cookie (never the
password), and handed to that service with every change. The service is the guard; the Teacher page only
hides its controls from a session without a valid token."""

from __future__ import annotations

import secrets

import streamlit as st

from core.classroom.login import TOKEN_SECONDS, LoginThrottle
from core.classroom.teacher import Classroom, NotTeacher
from core.config import Settings, SettingsError

from .services import manager

TEACHER_COOKIE = "cnn_playground_teacher"
_TOKEN = "teacher_token"  # the session's teacher token ("" or absent: not logged in)
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


def classroom() -> Classroom:
    """The server's classroom: every change of a challenge asks it, with ``teacher_token()``."""
    return Classroom(manager(), teacher_password(), throttle=_throttle())


def _cookie_token() -> str:
    value = st.context.cookies.get(TEACHER_COOKIE, "")
    return value if isinstance(value, str) else ""  # (AppTest has no browser, hence no cookies)


def teacher_token() -> str:
    """This session's teacher token while it is valid (a login here, or the browser's cookie after a reload
    or in a new tab), else ''. An expired one, or one from before the password changed, is forgotten."""
    room = classroom()
    token = st.session_state.get(_TOKEN, "")
    if token and room.is_teacher(token):
        return token
    st.session_state.pop(_TOKEN, None)
    token = _cookie_token()
    if token and st.session_state.get(_PENDING_COOKIE) != "" and room.is_teacher(token):
        st.session_state[_TOKEN] = token
        return token
    return ""


def is_teacher() -> bool:
    """This session holds a valid teacher token."""
    return bool(teacher_token())


def log_in(given: str) -> str | None:
    """Try a password; None when it is right, else what to tell the teacher (wrong, or wait N s)."""
    key = st.session_state.setdefault(_SESSION_KEY, secrets.token_hex(8))
    try:
        token = classroom().log_in(given, key)
    except NotTeacher as refused:
        return str(refused)
    st.session_state[_TOKEN] = token
    st.session_state[_PENDING_COOKIE] = token
    return None


def log_out() -> None:
    st.session_state.pop(_TOKEN, None)
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


# --- a class's results exported ---------------------------------------------------------------------

_CLASS_ZIP = "_class_zip"  # (challenge code, the zip's bytes) made last for download


def prepare_class_zip(code: str) -> None:
    """Make the class's results zip for download (NotTeacher without a valid teacher token)."""
    made = classroom().class_results_zip(teacher_token(), code)
    if made is not None:
        st.session_state[_CLASS_ZIP] = (code, made)


def prepared_class_zip(code: str) -> bytes | None:
    made = st.session_state.get(_CLASS_ZIP)
    return made[1] if made is not None and made[0] == code else None
