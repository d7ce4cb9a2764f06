"""Your work: save all your runs in one file, open such a file here, and your recovery code."""

from __future__ import annotations

import streamlit as st

from core.config import MAX_UPLOAD_MB
from core.text import size_text
from core.work import WorkFileError
from dashboard import session
from dashboard.components.user_text import markdown_literal
from dashboard.session import keys


def _prepare() -> None:
    try:
        session.save_own_work(bool(session.widget_value(keys.YourWork.WITH_DATASETS)))
    except WorkFileError as error:
        session.leave_message(keys.YourWork.OPENED, ("error", str(error)))


def _open() -> None:
    upload = session.widget_value(keys.YourWork.FILE)
    if upload is None:
        session.leave_message(keys.YourWork.OPENED, ("error", "Choose a file of work first."))
        return
    try:
        opened = session.open_own_work(upload.getvalue())
    except WorkFileError as error:
        session.leave_message(keys.YourWork.OPENED, ("error", str(error)))
        return
    session.leave_message(keys.YourWork.OPENED, ("success", opened.text()))


def _use_code() -> None:
    problem = session.use_recovery_code(session.widget_value(keys.YourWork.RECOVERY_CODE, ""))
    session.reset_widgets(keys.YourWork.RECOVERY_CODE)  # the code is a secret: never kept in the page
    if problem:
        session.leave_message(keys.YourWork.CODE_USED, ("error", problem))
    else:
        session.leave_message(
            keys.YourWork.CODE_USED, ("success", "Welcome back: this browser now shows your runs and data sets.")
        )


def your_work_section() -> None:
    """Save my work, Open my work and the recovery code, in one expander."""
    outcome = session.take_message(keys.YourWork.OPENED)
    code_outcome = session.take_message(keys.YourWork.CODE_USED)
    if outcome or code_outcome or session.widget_value(keys.YourWork.FILE) is not None:
        # An answer to show or a file chosen: the section stays open. Its open state is kept by its key (an
        # `expanded=` that changed between reruns made a new expander, closed again by a rerun in between).
        session.set_widget_value(keys.YourWork.SECTION, True)
    with st.expander(
        "Your work: save it, open it elsewhere, recovery code",
        icon=":material/work:",
        key=keys.YourWork.SECTION,
        on_change="rerun",
    ):
        if outcome:
            (st.success if outcome[0] == "success" else st.error)(markdown_literal(outcome[1]))
        save_col, open_col = st.columns(2, gap="large")
        with save_col:
            st.markdown("**Save my work**: your finished runs — models, histories, results — in one file.")
            with_sets = st.checkbox("Include my imported data sets", key=keys.YourWork.WITH_DATASETS)
            prepared = session.prepared_work(with_sets)
            if prepared is None:
                st.button(
                    "Prepare my file of work", key="work_prepare", icon=":material/inventory_2:", on_click=_prepare
                )
            else:
                st.caption(prepared.text())
                st.download_button(
                    "Save my work (.zip)",
                    prepared.data,
                    file_name="cnn-playground-work.zip",
                    mime="application/zip",
                    key="work_download",
                    icon=":material/download:",
                    on_click="ignore",
                )
                st.button("Make it again", key="work_prepare_again", on_click=session.forget_prepared_work)
        with open_col:
            st.markdown("**Open my work**: a file saved here or on another server becomes runs of this browser.")
            chosen = st.file_uploader(
                f"File of work (.zip, at most {MAX_UPLOAD_MB} MB)", type=["zip"], key=keys.YourWork.FILE
            )
            if chosen is not None:  # uploaded: the server has it (a click on Open before this finds no file)
                st.caption(f"Ready to open: {markdown_literal(chosen.name)} ({size_text(chosen.size)}).")
            st.button("Open my work", key="work_open", icon=":material/upload:", on_click=_open)
        st.divider()
        st.markdown("**Recovery code**: use your runs on another browser or computer of this server.")
        code = session.shown_recovery_code()
        if code is None:
            st.button(
                "Show my recovery code", key="recovery_show", icon=":material/key:", on_click=session.show_recovery_code
            )
        else:
            st.warning(
                "Anyone with this code can see, train on and delete your runs and data sets: keep it to yourself "
                "(not on a projected screen, not in a shared document).",
                icon=":material/warning:",
            )
            st.code(code, language=None, wrap_lines=True)
            st.button("Hide it", key="recovery_hide", on_click=session.hide_recovery_code)
        if code_outcome:
            (st.success if code_outcome[0] == "success" else st.error)(code_outcome[1])
        st.text_input(
            "Use a recovery code (this browser becomes that learner)",
            type="password",
            key=keys.YourWork.RECOVERY_CODE,
            placeholder="1a2b-3c4d-…",
        )
        st.button("Use this code", key="recovery_use", icon=":material/login:", on_click=_use_code)
