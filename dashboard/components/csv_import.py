"""Data page: import a CSV table (yours, or the shipped example) to predict a number; look at a table data set."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.config import MAX_UPLOAD_MB
from core.data import tabular
from core.data.tabular import TableError
from core.training.presets import ALL_PRESETS, preset_advice
from dashboard import session
from dashboard.charts import regression as regression_charts
from dashboard.components.user_text import markdown_literal as md
from dashboard.session import keys

PREVIEW_ROWS = 10
KIND_LABELS = {tabular.NUMBER: "number", tabular.CATEGORY: "category", tabular.LEFT_OUT: "left out"}


def _forget_choices() -> None:
    session.set_import_outcome(keys.CsvImport.OUTCOME, None)
    session.reset_widgets(keys.CsvImport.TARGET, keys.CsvImport.TITLE, prefix=keys.CsvImport.FEATURES_PREFIX)


def read_source(data: bytes, file_name: str, title: str, target: str | None = None) -> dict:
    """A table ready to choose columns from, or {"error": plain message} when it cannot be used."""
    try:
        frame, notes = tabular.read_csv(data)
        columns = tabular.describe(frame)
        tabular.target_candidates(frame, columns)  # refuses a table without any numbers at once
    except TableError as error:
        return {"name": file_name, "error": str(error)}
    return {"name": file_name, "title": title, "frame": frame, "notes": notes, "columns": columns, "target": target}


def _use_example() -> None:
    _forget_choices()
    session.set_table_being_imported(
        read_source(tabular.example_bytes(), tabular.EXAMPLE_CSV.name, tabular.EXAMPLE_TITLE, tabular.EXAMPLE_TARGET)
    )


def _take_upload() -> None:
    _forget_choices()
    upload = session.widget_value(keys.CsvImport.FILE)
    if upload is None:
        session.set_table_being_imported(None)
        return
    session.set_table_being_imported(read_source(upload.getvalue(), upload.name, Path(upload.name).stem[:60]))


def _run_import() -> None:
    # A callback, so the data set choice and the sidebar already show the new data set on this rerun.
    source = session.table_being_imported() or {}
    target = session.widget_value(keys.CsvImport.TARGET)
    if "frame" not in source or target is None:
        session.set_import_outcome(keys.CsvImport.OUTCOME, {"error": "Choose a CSV file (or the example) first."})
        return
    title = (session.widget_value(keys.CsvImport.TITLE) or "").strip() or source["title"] or "My table"
    try:
        prepared = tabular.prepare(
            source["frame"], target, session.widget_value(keys.CsvImport.features(target)), source=source["name"]
        )
    except TableError as error:
        session.set_import_outcome(keys.CsvImport.OUTCOME, {"error": str(error)})
        return
    name = tabular.save_table(prepared, owner=session.user_id(), title=title, store=session.user_datasets())
    session.start_table(name)  # the Linear preset for a small table, else the tabular one
    session.show_chosen_dataset(name)
    advice = preset_advice(False, len(prepared.x_train))
    session.set_import_outcome(
        keys.CsvImport.OUTCOME,
        {"name": name, "report": prepared.report, "preset": session.playground().preset, "advice": advice},
    )


def columns_table(columns) -> pd.DataFrame:
    """One row per column; a left-out column's reason is said below the table, where it has room."""
    return pd.DataFrame(
        [
            {
                "Column": c.name,
                "Kind": KIND_LABELS[c.kind],
                "Different values": c.distinct,
                "Missing": c.missing,
                "How it is used": "left out (see why below)" if c.kind == tabular.LEFT_OUT else c.usage,
            }
            for c in columns
        ]
    )


def import_csv_section() -> None:
    """An expander: upload a CSV or take the example, look at it, choose the columns, import it."""
    source = session.table_being_imported()
    outcome = session.import_outcome(keys.CsvImport.OUTCOME)
    with st.expander(
        "Import a table (CSV) to predict a number",
        icon=":material/table_chart:",
        expanded=source is not None or outcome is not None,
    ):
        st.markdown(
            "A **regression**: the network learns to predict one number (a price, a temperature, a "
            "count…) from the other columns of a table. Upload a **CSV** file with a header row and one "
            "row per example, or try the example first."
        )
        st.caption(
            f"At most {MAX_UPLOAD_MB} MB, {tabular.MAX_ROWS:,} rows and {tabular.MAX_COLUMNS} columns. "
            "Numbers written as spreadsheets write them (1,037.5 · 12% · $3 · 3,5 · (1,234)) are read as numbers. "
            f"Numbers are normalised; text columns with at most {tabular.MAX_CATEGORIES} different values "
            "become 0/1 columns (one-hot encoding); other columns are left out, with the reason. Rows with "
            f"a missing value are left out and counted. {round(100 * tabular.TEST_FRACTION)} % of the rows "
            "are kept apart for testing. Only you can see and use the data set."
        )
        upload_col, example_col = st.columns([3, 1], vertical_alignment="center")
        upload_col.file_uploader(
            "CSV file",
            type=["csv", "txt"],
            key=keys.CsvImport.FILE,
            max_upload_size=MAX_UPLOAD_MB,
            on_change=_take_upload,
        )
        example_col.button(
            "Use the example data",
            key="csv_example",
            icon=":material/table_view:",
            on_click=_use_example,
            help=tabular.EXAMPLE_DESCRIPTION,
        )
        if source is None:
            return
        if source.get("error"):
            st.error(f"**{md(source['name'])}** cannot be used: {md(source['error'])}", icon=":material/error:")
            return
        choose_columns(source)
        if outcome is not None:
            show_outcome(outcome)


def choose_columns(source: dict) -> None:
    frame, columns = source["frame"], source["columns"]
    st.markdown(f"**{md(source['name'])}**: {len(frame):,} rows × {len(frame.columns)} columns. The first rows:")
    if source["name"] == tabular.EXAMPLE_CSV.name:
        st.caption(tabular.EXAMPLE_DESCRIPTION)
    for note in source["notes"]:
        st.caption(md(note))
    st.dataframe(frame.head(PREVIEW_ROWS), hide_index=True, key="csv_preview")
    st.markdown("**The columns and how each would be used**")
    st.dataframe(columns_table(columns), hide_index=True, width="stretch", key="csv_columns")
    for column in columns:
        if column.kind == tabular.LEFT_OUT:
            st.caption(f"**{md(column.name)}** is left out: {md(column.reason)}.")
    targets = tabular.target_candidates(frame, columns)
    choice = tabular.default_target(columns)
    wanted = source.get("target") or choice.name
    if choice.warning:
        st.warning(md(choice.warning), icon=":material/warning:")
    if wanted and wanted not in targets:
        reason = next((c.reason for c in columns if c.name == wanted), "")
        st.warning(
            md(f"Column {wanted!r} cannot be the target" + (f": {reason}." if reason else ".")),
            icon=":material/warning:",
        )
    target = st.selectbox(
        "Column to predict (the target)",
        targets,
        index=targets.index(wanted) if wanted in targets else None,
        key=keys.CsvImport.TARGET,
        placeholder="Choose the column to predict",
        help="Only columns of numbers that vary can be predicted.",
    )
    if wanted in targets and wanted == choice.name and not source.get("target"):
        st.caption(md(choice.note))
    if target is None:
        st.info(md(choice.note), icon=":material/ads_click:")
        return
    usable = [c.name for c in columns if c.kind != tabular.LEFT_OUT and c.name != target]
    st.multiselect(
        "Input columns (what the prediction is based on)",
        usable,
        default=usable,
        key=keys.CsvImport.features(target),
        placeholder="Choose at least one column",
        help="Every usable column except the target, to begin with. Left-out columns cannot be chosen.",
    )
    name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    name_col.text_input("Name of the data set", value=source["title"], key=keys.CsvImport.TITLE, max_chars=60)
    button_col.button(
        "Import", key="import_csv", type="primary", icon=":material/upload:", on_click=_run_import, width="stretch"
    )


def show_outcome(outcome: dict) -> None:
    if outcome.get("error"):
        st.error(md(outcome["error"]), icon=":material/error:")
        return
    preset = ALL_PRESETS.get(outcome.get("preset") or "tabular", ALL_PRESETS["tabular"])
    st.success(
        f"Imported **{md(session.dataset_title(outcome['name']))}**. Your model now uses it with the "
        f"{md(preset.title.split(' — ')[0])} preset (see **Build**).",
        icon=":material/check_circle:",
    )
    if outcome.get("advice"):
        st.info(outcome["advice"], icon=":material/lightbulb:")
    for line in outcome["report"]:
        (st.warning if "missing value" in line else st.caption)(md(line))


# --- a table data set on the Data page -------------------------------------------------------------


def show_table(data) -> None:
    """What a regression data set holds: sizes, the target's spread, the rows as the network gets them."""
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Training rows", f"{len(data.x_train):,}")
    c2.metric("Test rows", f"{len(data.x_test):,}")
    c3.metric("Inputs per row", len(data.feature_names) or data.input_shape[0])
    c4.metric("Predicts", md(data.target_name) or "a number")
    st.caption(f"Loaded from: {data.source}")
    details = (session.user_datasets().meta(data.name) or {}).get("details", {})
    if details.get("report"):
        with st.expander("How the table was prepared"):
            for line in details["report"]:
                st.markdown(f"- {md(line)}")

    st.header(f"The values to predict: {md(data.target_name)}")
    st.plotly_chart(
        regression_charts.target_histogram(data.y_train, data.y_test, data.target_name), key="target_histogram"
    )
    st.header("The rows as the network receives them")
    st.caption(
        "Each row is one example: its input numbers, and the target the network should predict. Number "
        "columns are normalised (0 is the training rows' average, ±1 one standard deviation); each category "
        "became one column per value, 1 where the row has that value and 0 elsewhere."
    )
    names = list(data.feature_names) or [f"input {i + 1}" for i in range(data.input_shape[0])]
    rows = pd.DataFrame(data.x_train[:PREVIEW_ROWS], columns=names)
    rows[f"→ {data.target_name}"] = data.y_train[:PREVIEW_ROWS]
    st.dataframe(rows.round(3), hide_index=True, width="stretch", key="table_rows")
