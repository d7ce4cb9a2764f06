"""Why it errs: a clickable confusion matrix, the test images of a cell, the most confident mistakes.

Called from the Results page. The test images are the first ``limit_test`` of the run's data set,
in the same order as the saved predictions.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.datasets import DatasetUnavailable, load_dataset
from core.insight.mistakes import (
    Example,
    Predictions,
    PredictionsUnavailable,
    confident_mistakes,
    load_predictions,
    most_confused_pair,
    pair_examples,
)
from dashboard import session
from dashboard.charts.inspection import clickable_confusion_figure, enlarge, selected_cell
from dashboard.components.user_text import markdown_literal as md
from dashboard.session import keys

PER_ROW = 6
PAIR_LIMIT = 24
CELL_PER_ROW = 4  # beside the matrix: half the width
MISTAKES_LIMIT = 12


def example_gallery(examples: list[Example], images: np.ndarray, class_names, per_row: int = PER_ROW) -> None:
    """Test images in rows, each with its true and predicted class and a bar of the network's confidence."""
    for start in range(0, len(examples), per_row):
        columns = st.columns(per_row)
        for column, example in zip(columns, examples[start : start + per_row]):
            with column:
                true, predicted = md(class_names[example.true]), md(class_names[example.predicted])
                st.image(
                    enlarge(images[example.index]),
                    caption=f"#{example.index} · class: {true}",
                    # alt is an attribute, shown literally: the names as written
                    alt=f"Test image {example.index}, of the class {class_names[example.true]}, predicted as "
                    f"{class_names[example.predicted]}",
                )
                st.progress(
                    min(max(example.confidence, 0.0), 1.0), text=f"{predicted}: {100 * example.confidence:.0f} %"
                )
                if example.true != example.predicted:
                    st.caption(f"{true} (true): {100 * float(example.probabilities[example.true]):.0f} %")


def _pair_sentence(count: int, true: str, predicted: str) -> str:
    if count == 0:
        return f"No test image of **{true}** was predicted as **{predicted}**."
    if true == predicted:
        return f"**{count}** test image(s) of **{true}** recognised correctly — the surest first."
    return f"**{count}** test image(s) of **{true}** taken for **{predicted}** — the surest mistakes first."


def _take_click(chart_key: str, true_key: str, predicted_key: str) -> None:
    """A new click on a cell sets the two class pickers (they are drawn after the chart)."""
    cell = selected_cell(session.widget_value(chart_key))
    if session.is_new_click(chart_key, cell):
        session.set_widget_value(true_key, cell[0])
        session.set_widget_value(predicted_key, cell[1])


def confusion_matrix_section(run, results: dict) -> None:
    """The confusion matrix (click a cell) with that cell's test images, then the surest mistakes."""
    names = list(results["class_names"])
    matrix = results["confusion_matrix"]
    chart_key = keys.Mistakes.chart(run.id)
    true_key, predicted_key = keys.Mistakes.true_class(run.id), keys.Mistakes.predicted_class(run.id)
    _take_click(chart_key, true_key, predicted_key)
    default = most_confused_pair(matrix)
    pair = session.default_widget_value(true_key, default[0]), session.default_widget_value(predicted_key, default[1])
    # The matrix and the clicked cell's images side by side: on a 1366×768 screen the images appear
    # beside the click, not below the fold.
    matrix_col, cell_col = st.columns([1, 1], gap="medium")
    with matrix_col:
        st.plotly_chart(
            clickable_confusion_figure(matrix, names, selected=pair),
            key=chart_key,
            on_select="rerun",
            selection_mode="points",
        )
    with cell_col:
        st.subheader("Why it errs")
        st.caption(
            "Click a cell of the matrix (or pick the two classes here) to see its test images, the ones the "
            "network was surest about first. The bar under each image is how sure it was of its answer."
        )
        options = list(range(len(names)))
        left, right = st.columns(2)
        left.selectbox("True class", options, format_func=names.__getitem__, key=true_key)
        right.selectbox("Predicted as", options, format_func=names.__getitem__, key=predicted_key)
        try:
            predictions = load_predictions(session.manager().store, run.id)
            images = load_dataset(run.dataset).x_test[: len(predictions.y_true)]
        except (PredictionsUnavailable, DatasetUnavailable) as error:
            st.info(md(error))
            return
        true, predicted = session.widget_value(true_key), session.widget_value(predicted_key)
        _pair_gallery(predictions, images, names, true, predicted, per_row=CELL_PER_ROW)
    st.subheader("The most confident mistakes")
    mistakes = confident_mistakes(predictions, MISTAKES_LIMIT)
    if not mistakes:
        st.success("The network classified every test image correctly.")
        return
    st.caption(
        "Wrong answers the network was surest about. Often the image is unusual, ambiguous — or even "
        "labelled wrongly in the data set."
    )
    example_gallery(mistakes, images, names)


def _pair_gallery(predictions: Predictions, images, names, true: int, predicted: int, per_row: int = PER_ROW) -> None:
    examples = pair_examples(predictions, true, predicted)
    st.markdown(_pair_sentence(len(examples), md(names[true]), md(names[predicted])))
    if len(examples) > PAIR_LIMIT:
        st.caption(f"Showing the first {PAIR_LIMIT} of {len(examples)}.")
    example_gallery(examples[:PAIR_LIMIT], images, names, per_row=per_row)
