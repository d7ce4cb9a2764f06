"""What a learner in a classroom challenge sees on every page: the task, its limits, their name."""

from __future__ import annotations

import streamlit as st

from dashboard import session
from dashboard.components.user_text import html_block, html_literal, markdown_literal
from dashboard.session import keys


def challenge_banner() -> None:
    challenge = session.active_challenge()
    if challenge is None:
        return
    session.keep_challenge_in_url()
    with st.container(border=True, key="challenge_banner"):
        text, name = st.columns([3, 1], vertical_alignment="center")
        text.markdown(
            f":material/school: **Challenge: {markdown_literal(challenge.title)}** — "
            f"{markdown_literal(session.dataset_title(challenge.dataset))}, "
            f"{challenge.rules()}. Your finished runs go on the class leaderboard."
        )
        name.text_input(
            "Your name on the leaderboard", key=keys.Classroom.LEARNER_NAME, max_chars=40, placeholder="e.g. Ada"
        )


def app_link(page: str, current_page: str, **params) -> str:
    """An absolute link to ``page`` of this app (``""`` is the home page), from the current page's URL."""
    from urllib.parse import urlencode

    url = st.context.url if isinstance(st.context.url, str) else ""
    base = url.split("?", 1)[0].split("#", 1)[0]
    if base.endswith("/" + current_page):
        base = base[: -len(current_page)]
    elif base and not base.endswith("/"):
        base += "/"
    query = urlencode(params)
    return f"{base}{page}" + (f"?{query}" if query else "")


def big_numbers(items: list[tuple[str, str]]) -> None:
    """Figures in type large enough to read from the back of a classroom."""
    columns = st.columns(len(items))
    for column, (label, value) in zip(columns, items):
        with column:
            html_block(
                f"<div style='text-align:center'><div style='font-size:1.6rem;color:#555'>{html_literal(label)}</div>"
                f"<div style='font-size:4.2rem;font-weight:700;line-height:1.1'>{html_literal(value)}</div></div>"
            )
