"""Data page: record your own data set — name the classes, take pictures with the camera or upload files for
each, see how many each class has, then build it like an imported zip (same sizes, colour choice and report).

Class names are the learner's text: they are shown with st.text and in tables (literally, never as Markdown),
and the messages from core/data/recording.py do not repeat them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.config import MAX_UPLOAD_MB, SettingsError
from core.data.image_import import DEFAULT_SIZE, MIN_PER_CLASS, TEST_SHARE, ImageImportError
from core.data.recording import PREVIEW_PX, RecordingError, limits_text
from dashboard import session
from dashboard.components.image_import import image_set_fields, import_limits, show_outcome
from dashboard.session import keys

THUMBNAILS = 8  # the last pictures of a class shown


def _recording():
    return session.recording.recording()


def _attempt(change) -> bool:
    """Make a change to the recording; a refusal is shown on the next rerun."""
    session.set_import_outcome(keys.Recording.OUTCOME, None)  # the last build's report is about the recording before
    try:
        change()
    except RecordingError as error:
        session.leave_message(keys.Recording.ERROR, str(error))
        return False
    return True


# --- callbacks: classes and pictures -------------------------------------------------------------


def _add_class() -> None:
    typed = session.widget_value(keys.Recording.CLASS_NAME, "")
    added = []
    if _attempt(lambda: added.append(_recording().add_class(typed))):
        session.set_widget_value(keys.Recording.CLASS_NAME, "")
        session.set_widget_value(keys.Recording.TARGET, added[0])  # the camera's pictures go to the new class


def _take_picture(key: str) -> None:
    photo = session.widget_value(key)
    name = session.widget_value(keys.Recording.TARGET)
    if photo is None or name is None:
        return
    recording = _recording()
    number = len(recording.classes.get(name, ())) + 1
    _attempt(lambda: recording.add_picture(name, f"picture {number}.jpg", photo.getvalue(), import_limits()))
    session.recording.next_round()  # a fresh camera, ready for the next picture


def _upload(key: str, name: str) -> None:
    files = session.widget_value(key) or []
    session.set_import_outcome(keys.Recording.OUTCOME, None)
    refused = _recording().add_files(name, [(f.name, f.getvalue()) for f in files], import_limits())
    if refused:
        session.leave_message(keys.Recording.REFUSED, refused)
    session.recording.next_round()  # the uploader is drawn empty: its files are in the class now


def _build() -> None:
    try:
        name, report = _recording().build(
            title=session.widget_value(keys.Recording.TITLE, ""),
            owner=session.user_id(),
            store=session.user_datasets(),
            size=session.widget_value(keys.Recording.SIZE, DEFAULT_SIZE),
            grey=session.widget_value(keys.Recording.GREY, False),
            limits=import_limits(),
        )
    except ImageImportError as error:
        session.set_import_outcome(
            keys.Recording.OUTCOME, {"error": str(error), "report": getattr(error, "report", None)}
        )
        return
    session.set_dataset(name)
    session.show_chosen_dataset(name)
    session.set_import_outcome(keys.Recording.OUTCOME, {"name": name, "report": report})


# --- the section ---------------------------------------------------------------------------------


def record_dataset_section() -> None:
    """An expander to name classes, take or upload their pictures, and build the data set."""
    recording = _recording()
    outcome = session.import_outcome(keys.Recording.OUTCOME)
    with st.expander(
        "Record your own data set", icon=":material/photo_camera:", expanded=bool(recording.classes or outcome)
    ):
        try:
            limits = import_limits()
        except SettingsError as error:
            st.error(f"Recording images is switched off on this server: {error}", icon=":material/block:")
            return
        st.markdown(
            "Name a class for each kind of thing to recognise (for example *cup* and *spoon*), then take "
            "pictures of each with your camera, or upload image files for it. You need at least two classes "
            f"of at least {MIN_PER_CLASS} pictures; a few dozen per class work much better."
        )
        st.caption(
            f"{limits_text(limits)} {round(100 * TEST_SHARE)} % of each class is kept apart for testing. "
            "Your pictures stay on this server, only in your session, until you build the data set; only you "
            "can see and use it."
        )
        _add_class_form()
        if error := session.take_message(keys.Recording.ERROR):
            st.error(error, icon=":material/error:")
        if refused := session.take_message(keys.Recording.REFUSED):
            _show_refused(refused)
        if recording.classes:
            _camera(recording)
            for index, (name, pictures) in enumerate(recording.classes.items()):
                _class_card(index, name, pictures)
            _counts(recording)
            _build_form(recording)
        if outcome is not None:
            show_outcome(outcome, key_prefix="rec")


def _add_class_form() -> None:
    name_col, add_col = st.columns([4, 1], vertical_alignment="bottom")
    name_col.text_input("New class", key=keys.Recording.CLASS_NAME, max_chars=40, placeholder="for example: cup")
    add_col.button("Add class", key="rec_add_class", icon=":material/add:", on_click=_add_class)


def _camera(recording) -> None:
    if not st.toggle("Use the camera", key="rec_camera_on", help="Your browser asks once to use the camera."):
        return
    st.caption(
        "Browsers allow the camera only for an app opened at an https:// address or on this computer. If it "
        "stays dark, use **Add image files** below: on a tablet or phone it can take a photo too."
    )
    names = list(recording.classes)
    if session.widget_value(keys.Recording.TARGET) not in names:
        session.set_widget_value(keys.Recording.TARGET, names[0])
    st.selectbox("Pictures go to the class", names, key=keys.Recording.TARGET)  # options are shown as plain text
    key = keys.Recording.camera(session.recording.widget_round())
    st.camera_input("Take a picture", key=key, on_change=_take_picture, args=(key,))


def _class_card(index: int, name: str, pictures) -> None:
    recording = _recording()
    with st.container(border=True, key=f"rec_class_{index}"):
        name_col, count_col = st.columns([3, 2], vertical_alignment="center")
        name_col.text(name)  # the learner's text, literally
        missing = recording.needs_more(name)
        count_col.caption(f"{len(pictures)} picture(s)" + (f", needs {missing} more" if missing else ""))
        if pictures:
            st.image([p.preview for p in pictures[-THUMBNAILS:]], width=PREVIEW_PX)
        key = keys.Recording.upload(session.recording.widget_round(), index)
        st.file_uploader(
            "Add image files",
            type="image",  # the browser offers images (and a tablet its camera roll); the recording checks each
            accept_multiple_files=True,
            key=key,
            max_upload_size=MAX_UPLOAD_MB,
            on_change=_upload,
            args=(key, name),
        )
        undo_col, clear_col, drop_col = st.columns(3)
        undo_col.button(
            "Remove last",
            key=f"rec_undo_{index}",
            icon=":material/undo:",
            disabled=not pictures,
            on_click=recording.remove_last,
            args=(name,),
        )
        clear_col.button(
            "Clear",
            key=f"rec_clear_{index}",
            icon=":material/delete_sweep:",
            disabled=not pictures,
            on_click=recording.clear,
            args=(name,),
            help="Remove all pictures of this class",
        )
        drop_col.button(
            "Remove class",
            key=f"rec_drop_{index}",
            icon=":material/close:",
            on_click=recording.remove_class,
            args=(name,),
        )


def _counts(recording) -> None:
    st.dataframe(
        pd.DataFrame(
            [
                {"Class": name, "Pictures": count, "Ready": "yes" if not recording.needs_more(name) else "not yet"}
                for name, count in recording.counts().items()
            ]
        ),
        hide_index=True,
        key="rec_counts",
    )
    st.caption(f"{recording.pictures:,} picture(s), {recording.megabytes:.1f} MB, in {len(recording.classes)} classes.")


def _build_form(recording) -> None:
    image_set_fields(keys.Recording.TITLE, keys.Recording.SIZE, keys.Recording.GREY, placeholder="for example: My desk")
    for problem in recording.problems():
        st.caption(problem)
    build_col, over_col = st.columns(2)
    build_col.button(
        "Build the data set", key="rec_build", type="primary", icon=":material/library_add:", on_click=_build
    )
    with over_col.popover("Start over", icon=":material/restart_alt:"):
        st.markdown("Forget every class and picture recorded so far? Data sets already built stay.")
        st.button("Forget them", key="rec_start_over", on_click=_start_over)


def _start_over() -> None:
    session.recording.start_over()
    session.set_import_outcome(keys.Recording.OUTCOME, None)


def _show_refused(refused) -> None:
    st.warning(f"{len(refused)} file(s) were not added, each with the reason:", icon=":material/warning:")
    st.dataframe(
        pd.DataFrame([{"File": s.path, "Why it was not added": s.reason} for s in refused]),
        hide_index=True,
        key="rec_refused",
    )
