"""Results: the run's model card, its notebook, and its model for phones and small devices (TensorFlow Lite)."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from core.data.datasets import DatasetUnavailable, load_dataset
from core.insight import tflite_files
from core.insight.model_card import PredictionSpeed, measure_prediction_speed, model_card
from core.model import tflite
from core.notebook import download_name, notebook_problem, run_notebook
from dashboard import session
from dashboard.components.labels import number
from dashboard.components.trained_models import session_model
from dashboard.components.user_text import markdown_literal


@st.cache_data(max_entries=64, show_spinner=False)
def _speed(run_id: str, model_stamp: int, _model, _inputs) -> PredictionSpeed:
    """Measured once per saved model (the stamp changes when "train more" saves a new one)."""
    return measure_prediction_speed(_model, _inputs)


def _run_speed(run) -> PredictionSpeed | None:
    store = session.manager().store
    path = store.model_path(run.id)
    if not path.is_file():
        return None
    model = session_model(run)
    try:
        inputs = load_dataset(run.dataset).as_float("x_test")
    except DatasetUnavailable:
        return None
    if model is None:
        return None
    with st.spinner("Timing the model…"):
        return _speed(run.id, path.stat().st_mtime_ns, model, inputs)


def _smaller_headings(markdown: str) -> str:
    """The card's headings two levels down, so it reads as a part of the page, not a page of its own."""
    return "\n".join("##" + line if line.startswith("#") else line for line in markdown.splitlines())


def model_card_section(run) -> None:
    store = session.manager().store
    box = st.expander("Model card", icon=":material/badge:", key="model_card_open", on_change="rerun")
    if not box.open:  # lazy: the card loads the model and times its predictions, only for whoever reads it
        return
    with box:
        card = model_card(run, store, _run_speed(run), tflite_files.saved_files(store, run.id))
        st.markdown(_smaller_headings(card))
        st.download_button(
            "Download the model card (.md)",
            card,
            file_name=f"model-card-{run.id}.md",
            mime="text/markdown",
            key="download_model_card",
            icon=":material/download:",
            on_click="ignore",
        )


def _notebook_bytes(run) -> bytes:
    return run_notebook(run).download()[1]


def notebook_download(run) -> None:
    """The run as a Jupyter notebook (a zip with its data file when the data set was imported here)."""
    file_name, mime = download_name(run)
    problem = notebook_problem(run)
    zipped = file_name.endswith(".zip")
    st.download_button(
        "Download as a notebook" + (" (.zip)" if zipped else " (.ipynb)"),
        partial(_notebook_bytes, run),
        file_name=file_name,
        mime=mime,
        key="download_notebook",
        icon=":material/menu_book:",
        on_click="ignore",
        disabled=problem is not None,
        help=problem
        or "The lesson's steps for this run in Jupyter: load the same data, build the same layers, train with the "
        "same settings and seed, plot the curves, test, and the confusion matrix, each step explained."
        + (" Your data set is in the zip beside the notebook." if zipped else ""),
    )


def _files_table(files, task) -> pd.DataFrame:
    """The files measured by the run's task's headline (core.training.tasks.Task): accuracy, or the MAE."""
    as_text = number if task.is_regression else (lambda v: f"{100 * v:.2f} %")
    return pd.DataFrame(
        {
            "File": [f.filename for f in files],
            "Kind": [tflite.KIND_TITLES[f.kind] for f in files],
            "Size": [f"{f.size_bytes / 1024:,.0f} KB" for f in files],
            f"{task.headline_title} (TFLite)": [as_text(f.tflite_value) for f in files],
            f"{task.headline_title} (Keras)": [as_text(f.keras_value) for f in files],
        }
    )


def phone_model_section(run) -> None:
    """Make (once) and offer the float32 and int8 TFLite files, each with its size and measured accuracy."""
    store = session.manager().store
    st.header("For phones and small devices")
    measured = "MAE" if run.task.is_regression else "accuracy"
    st.caption(
        "TensorFlow Lite runs the trained model on phones and boards like the Raspberry Pi. The int8 file "
        f"stores each weight in one byte instead of four (calibrated on a sample of the training {run.task.examples}), "
        f"so it is about 4× smaller and faster; the table shows what that costs in {measured}, measured on the test "
        "set with the TFLite interpreter."
    )
    if not store.model_path(run.id).is_file():
        st.info("This run has no saved model to convert.")
        return
    files = tflite_files.saved_files(store, run.id)
    if files is None:
        slot = st.empty()
        if not slot.button("Make the TensorFlow Lite files", key="make_tflite", icon=":material/smartphone:"):
            return
        slot.empty()  # made once: the button goes
        try:
            with st.spinner("Converting and measuring (a few seconds)…"):
                files = tflite_files.make_files(store, run)
        except tflite.TFLiteUnavailable as error:
            st.info(markdown_literal(error), icon=":material/block:")
            return
    st.dataframe(_files_table(files, run.task), hide_index=True, key="tflite_table")
    paths = tflite_files.paths(store, run.id)
    columns = st.columns(len(files))
    for column, file in zip(columns, files):
        column.download_button(
            f"Download {file.filename}",
            paths[file.kind].read_bytes(),
            file_name=f"cnn-playground-{run.id}-{file.filename}",
            mime="application/octet-stream",
            key=f"download_tflite_{file.kind}",
            icon=":material/download:",
            on_click="ignore",
            width="stretch",
        )
    results = run.results or {}
    st.markdown("Use it from Python (on a phone, the TFLite libraries for Android and iOS work the same way):")
    st.code(
        tflite.usage_snippet(files[-1], run.spec.get("input_shape") or (), results.get("class_names") or ()),
        language="python",
        wrap_lines=True,  # no scrolling box a keyboard cannot reach (axe: scrollable-region-focusable)
    )
