"""Who is using this browser: an anonymous secret id kept in a cookie only, and the name they give.

The id is what owns runs and imported data sets, so it is a secret: it is never put in a URL, on a
page or in a share link. Copying someone's address bar gives their model at most (see links.py).
"""

from __future__ import annotations

import re
import secrets

import streamlit as st

OLD_USER_PARAM = "u"  # earlier versions put the id in the URL: removed wherever it still appears
USER_COOKIE = "cnn_playground_user"
_USER_KEY = "_user_id"
_TOKEN = re.compile(r"^[0-9a-f]{12,32}$")


def user_id() -> str:
    """This browser's anonymous id: from its cookie, else a new random one (128 bits) for a first visit.

    Never read from the URL: a link, even one carrying an old ``u=`` id, cannot make you someone else.
    """
    uid = st.session_state.get(_USER_KEY)
    if not uid:
        cookie = _user_cookie()
        uid = cookie if _TOKEN.match(cookie) else secrets.token_hex(16)
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
    return st.session_state.get("learner_name", "").strip()[:40]
