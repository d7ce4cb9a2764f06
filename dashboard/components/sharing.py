"""Cloning, exporting and sharing: the run actions on Results and the share link on Build."""

from __future__ import annotations

from functools import partial

import streamlit as st

from core.data.datasets import DATASETS
from core.export import BUNDLE_FILES, bundle_contents, run_bundle
from core.share import share_url
from dashboard import session
from dashboard.components.user_text import markdown_literal


def run_actions(run) -> None:
    """The Clone and edit button and the zip bundle download of one run."""
    clone_col, bundle_col = st.columns(2)
    if clone_col.button(
        "Clone and edit",
        key="clone_run",
        icon=":material/content_copy:",
        width="stretch",
        help="Open this run's model, data set and settings (same seed) in the builder: change one "
        "thing, train it, and Compare shows the two runs side by side.",
    ):
        session.clone_run(run)
        st.switch_page("views/build.py")
    bundle_col.download_button(
        "Download everything (.zip)",
        partial(run_bundle, run, session.manager().store),
        file_name=f"cnn-playground-{run.id}.zip",
        mime="application/zip",
        key="download_bundle",
        icon=":material/folder_zip:",
        width="stretch",
        on_click="ignore",
        disabled=run.active,
        help="Wait for the run to end." if run.active else f"{len(BUNDLE_FILES)} files — {bundle_contents()}",
    )


def build_banner() -> None:
    """Messages at the top of Build: a share link that was opened, and the run this model is a copy of."""
    for notice in session.take_notices():
        st.info(markdown_literal(notice), icon=":material/info:")  # may quote a link's or a data set's text
    parent = session.playground().parent_id
    if parent:
        st.info(
            f"This model is a copy of run `{parent}`: change one thing, train it, then open **Compare** to "
            "see both runs side by side.",
            icon=":material/difference:",
        )


def share_expander() -> None:
    """A link that opens this app with the current model and training settings in the builder."""
    pg = session.playground()
    box = st.expander("Share this model", icon=":material/share:", key="share_model", on_change="rerun")
    if not box.open:  # lazy: the link (a code block, whose highlighter is a large script) only when opened
        return
    with box:
        if pg.dataset not in DATASETS:
            st.caption(
                "This model trains on a data set you imported, which stays on this server and only you "
                "can use: a link cannot share it. Switch to a built-in data set on **Data** to share the "
                "model."
            )
            return
        st.caption(
            "Anyone who opens this link gets this model, its data set and its training settings in "
            "their own builder. Your runs are not shared."
        )
        st.code(share_url(st.context.url, pg.to_dict()), language=None, wrap_lines=True)
