"""The sidebar's line on the current model (its data set, layers, parameters or problems) and the run it follows."""

from __future__ import annotations

import streamlit as st

from core.messages import counted
from dashboard import session
from dashboard.components.labels import status_label
from dashboard.components.user_text import markdown_literal


def sidebar_status() -> None:
    pg = session.playground()
    with st.sidebar:
        st.caption("Current model")
        title = markdown_literal(session.dataset_title(pg.dataset))
        st.markdown(f"**{title}** · {len(pg.spec.get('layers', []))} layers")
        analysis = session.analysis()
        if analysis.ok:
            st.markdown(f"{analysis.total_params:,} params · ready to train")
        else:
            st.markdown(f"{counted(len(analysis.problems), 'problem')} to fix on **Build**")
        run = session.followed_run()
        if run is not None:
            # The sidebar is not polled: say nothing here that goes stale while the run trains.
            if run.active:
                line = f"Run `{run.id}` is training: follow it on **Train**."
            else:
                line = f"Run `{run.id}`: {status_label(run.status).lower()}"
                if run.headline():
                    line += f", {run.headline()}"
            st.markdown(line)
