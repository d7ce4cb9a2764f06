"""Data page: import a zip of image folders as your own data set, see its health report, delete one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.config import MAX_UPLOAD_MB, SettingsError
from core.data.image_import import (
    COLOUR_CHOICES,
    DEFAULT_COLOUR,
    DEFAULT_SIZE,
    IMAGE_SOURCES,
    SIZES,
    TEST_SHARE,
    HealthReport,
    ImageImportError,
    ImportLimits,
    import_image_folders,
)
from dashboard import session
from dashboard.components.user_text import markdown_literal as md
from dashboard.session import keys

COLOUR_LABELS = {
    "auto": "Automatic: grey if every image is grey",
    "colour": "Colour",
    "grey": "Grey",
}


@st.cache_resource(show_spinner=False)
def import_limits() -> ImportLimits:
    """The server's limits, from its environment variables (read once)."""
    return ImportLimits.from_env()


def _forget_outcome() -> None:
    session.set_import_outcome(keys.ImageImport.OUTCOME, None)  # a new file: the last import's report no longer applies


def _upload_id() -> str | None:
    upload = session.widget_value(keys.ImageImport.ZIP)
    return upload.file_id if upload is not None else None


def _run_import() -> None:
    # A callback, so the data set choice and the sidebar already show the new data set on this rerun.
    upload = session.widget_value(keys.ImageImport.ZIP)
    if upload is None:
        session.set_import_outcome(keys.ImageImport.OUTCOME, {"file": None, "error": "Choose a zip file first."})
        return
    try:
        name, report = import_image_folders(
            upload.getvalue(),
            title=session.widget_value(keys.ImageImport.NAME, ""),
            owner=session.user_id(),
            store=session.user_datasets(),
            size=session.widget_value(keys.ImageImport.SIZE),
            grey=COLOUR_CHOICES[session.widget_value(keys.ImageImport.COLOUR, DEFAULT_COLOUR)],
            limits=import_limits(),
        )
    except ImageImportError as error:
        session.set_import_outcome(
            keys.ImageImport.OUTCOME,
            {"file": upload.file_id, "error": str(error), "report": getattr(error, "report", None)},
        )
        return
    session.set_dataset(name)
    session.show_chosen_dataset(name)
    session.set_import_outcome(keys.ImageImport.OUTCOME, {"file": upload.file_id, "name": name, "report": report})


def _delete(name: str) -> None:
    if session.delete_own_dataset(name):
        session.set_import_outcome(keys.ImageImport.OUTCOME, None)
        now = md(session.dataset_title(session.playground().dataset))
        st.toast(f"Deleted the data set; your model now uses {now}.")


def import_images_section() -> None:
    """An expander with the upload form, the limits, and the health report of the file last imported."""
    outcome = session.import_outcome(keys.ImageImport.OUTCOME)
    if outcome is not None and outcome["file"] != _upload_id():
        outcome = None  # the form was left or cleared: the report belongs to a file no longer there
    with st.expander("Import your own images", icon=":material/upload_file:", expanded=outcome is not None):
        try:
            limits = import_limits()
        except SettingsError as error:
            st.error(f"Importing images is switched off on this server: {md(error)}", icon=":material/block:")
            return
        st.markdown(
            "Upload a **.zip** with **one folder per class**, named after the class (for example "
            "`cube/`, `ball/`, `cone/`), each holding that class's photos or drawings (PNG, JPEG, GIF, "
            "BMP, WebP or TIFF). One folder around them all is fine. You need at least two classes; "
            "dozens of images per class work much better than a few."
        )
        st.caption(
            f"{limits.text()} Each image is cropped to a centred square and resized; "
            f"{round(100 * TEST_SHARE)} % of each class is kept apart for testing. Only the resized "
            "pixels are kept, not your files, and only you can see and use the data set."
        )
        st.file_uploader(
            "Zip of image folders",
            type=["zip"],
            key=keys.ImageImport.ZIP,
            max_upload_size=MAX_UPLOAD_MB,
            on_change=_forget_outcome,
        )
        image_set_fields(
            keys.ImageImport.NAME,
            keys.ImageImport.SIZE,
            keys.ImageImport.COLOUR,
            placeholder="for example: My toys",
            automatic_colour=True,
        )
        st.button("Import", key="import_images", type="primary", icon=":material/upload:", on_click=_run_import)
        if outcome is not None:
            show_outcome(outcome)


def image_set_fields(
    name_key: str, size_key: str, colour_key: str, placeholder: str, *, automatic_colour: bool = False
) -> None:
    """The name, image size and colour of a data set of images about to be made (a zip's, a recording's).

    ``automatic_colour``: the colour is a choice of COLOUR_CHOICES, automatic at first (the zip import);
    otherwise a *Grey images* box, unticked: colour (the recording's pictures, from a camera, are in colour)."""
    name_col, size_col, grey_col = st.columns([3, 2, 2], vertical_alignment="bottom")
    name_col.text_input("Name of the data set", key=name_key, max_chars=60, placeholder=placeholder)
    size_col.selectbox(
        "Image size",
        SIZES,
        index=SIZES.index(DEFAULT_SIZE),
        key=size_key,
        format_func=lambda s: f"{s}×{s} pixels",
        help="Smaller images train much faster; 28 or 32 is enough for simple objects.",
    )
    if automatic_colour:
        grey_col.selectbox(
            "Colours",
            list(COLOUR_CHOICES),
            index=list(COLOUR_CHOICES).index(DEFAULT_COLOUR),
            key=colour_key,
            format_func=COLOUR_LABELS.get,
            help="Colour keeps 3 numbers per pixel; grey keeps 1 and trains faster. Automatic keeps grey images "
            "grey and colour ones in colour (one colour image is enough for colour).",
        )
    else:
        grey_col.checkbox(
            "Grey images", key=colour_key, help="Colour keeps 3 numbers per pixel; grey keeps 1 and trains faster."
        )


def show_outcome(outcome: dict, key_prefix: str = "import") -> None:
    """An import's error or success, then its health report (``key_prefix``: several may show at once)."""
    report: HealthReport | None = outcome.get("report")
    if outcome.get("error"):
        st.error(md(outcome["error"]), icon=":material/error:")
    else:
        st.success(
            f"Imported **{md(session.dataset_title(outcome['name']))}**: {report.train_images:,} training and "
            f"{report.test_images:,} test images of {report.image_format} in {len(report.classes)} classes. "
            f"{report.colour_note} Your model now uses it (see **Build**).",
            icon=":material/check_circle:",
        )
    if report is not None:
        show_report(report, key_prefix)


def show_report(report: HealthReport, key_prefix: str = "import") -> None:
    """Images per class, warnings, and each file not used with its reason."""
    if report.classes:
        st.dataframe(
            pd.DataFrame(
                [{"Class": c.name, "Training images": c.train, "Test images": c.test} for c in report.classes]
            ),
            hide_index=True,
            key=f"{key_prefix}_classes",
        )
    for warning in report.warnings:
        st.warning(md(warning), icon=":material/warning:")
    if report.skipped:
        st.markdown(f"**{len(report.skipped)} file(s) skipped**, each with the reason:")
        st.dataframe(
            pd.DataFrame([{"File": s.path, "Why it was skipped": s.reason} for s in report.skipped]),
            hide_index=True,
            key=f"{key_prefix}_skipped",
        )
    if report.ignored:
        st.caption(
            f"{len(report.ignored)} macOS, hidden or system file(s) (such as `__MACOSX/` or `.DS_Store`) "
            "were ignored: they are not images of a class."
        )


def delete_dataset_button(name: str) -> None:
    """For one of the user's own data sets: delete it, after a confirmation."""
    with st.popover("Delete", icon=":material/delete:", help="Delete this imported data set"):
        st.markdown(
            f"Delete **{md(session.dataset_title(name))}** for good? Runs trained on it stay in your list, "
            "but cannot train more or predict."
        )
        st.button("Delete it", key="delete_dataset", type="primary", on_click=_delete, args=(name,))


def stored_report(name: str) -> None:
    """For an imported image set: what its import skipped or left out (kept with it, without file names)."""
    details = (session.user_datasets().meta(name) or {}).get("details", {})
    if details.get("source") not in IMAGE_SOURCES:
        return
    notes = [
        f"{details['skipped']} file(s) skipped ("
        + ", ".join(f"{reason}: {count}" for reason, count in details["skipped_reasons"].items())
        + ")"
        if details["skipped"]
        else "no files skipped"
    ]
    if details["ignored"]:
        notes.append(f"{details['ignored']} macOS, hidden or system file(s) ignored")
    notes += [f"class folder {md(c['name'])} left out ({md(c['reason'])})" for c in details["left_out_classes"]]
    colours = f" {md(details['colour_note'])}" if details.get("colour_note") else ""  # sets imported before it
    st.caption(f"Import report: {'; '.join(notes)}. {details['resize'].capitalize()}.{colours}")
