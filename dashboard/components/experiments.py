"""An experiment's Pareto views, shared by the Experiment page (clickable: opens that run) and the Projector."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.experiments.analysis import finished, metric_of, pareto_front
from core.experiments.factors import short_label
from dashboard.charts.experiments import pareto_figure
from dashboard.components.labels import status_label


def clicked_run(event) -> str | None:
    """The run id of the point clicked in a Pareto chart, if any (its ``customdata``)."""
    selection = getattr(event, "selection", None) or (event or {}).get("selection") if event else None
    points = (selection or {}).get("points") if isinstance(selection, dict) else getattr(selection, "points", None)
    for point in points or []:
        run_id = point.get("customdata")
        if isinstance(run_id, list):
            run_id = run_id[0] if run_id else None
        if run_id:
            return str(run_id)
    return None


def pareto_views(experiment, table, *, key: str, clickable: bool = True, style=None) -> str | None:
    """Test accuracy against parameters and against training time, side by side; returns a clicked run id."""
    done = finished(table)
    if done.empty:
        st.info("No variant has a test result yet.")
        return None
    clicked = None
    for column, cost in zip(st.columns(2), ("params", "train_seconds")):
        figure = pareto_figure(table, experiment.factors, cost)
        if style is not None:
            figure = style(figure)
        with column:
            if clickable:
                event = st.plotly_chart(figure, key=f"{key}_{cost}", on_select="rerun", selection_mode="points")
                clicked = clicked or clicked_run(event)
            else:
                st.plotly_chart(figure, key=f"{key}_{cost}")
    metric = metric_of(table)
    front = done[pareto_front(done, "params", metric)].sort_values("params")
    st.caption(
        "Red points are the Pareto front: no other variant is both smaller and better. On the front, from "
        "smallest to largest: "
        + "; ".join(
            f"#{r['variant']} {metric.fmt(r[metric.column])} with {int(r['params']):,} parameters"
            for _, r in front.iterrows()
        )
        + "."
    )
    return clicked


_STATUS_WORDS = {"waiting": "Waiting to start", "not started": "Not started", "rejected": "Broke a limit"}
# The results table's columns in the words (and units) of Compare's leaderboard; the CSV keeps the names
# of the command line's.
_COLUMN_TITLES = {
    "variant": "Variant",
    "seed": "Seed",
    "status": "Status",
    "params": "Params",
    "test_accuracy": "Test accuracy (%)",
    "test_loss": "Test loss",
    "test_mae": "Test MAE",
    "test_rmse": "Test RMSE",
    "test_r2": "Test R²",
    "train_seconds": "Training time (s)",
    "run_id": "Run",
    "problem": "Why it did not train",
}


def readable_table(table, factors) -> pd.DataFrame:
    """core's results table (one row per variant) as the pages show tables: factors by their names,
    accuracy in per cent, statuses in words."""
    frame = table.copy()
    if "status" in frame:
        frame["status"] = [_STATUS_WORDS.get(s) or status_label(s) for s in frame["status"]]
    if "test_accuracy" in frame:
        frame["test_accuracy"] = (100 * frame["test_accuracy"].astype(float)).round(2)
    for column, digits in (("test_loss", 4), ("test_mae", 4), ("test_rmse", 4), ("test_r2", 3), ("train_seconds", 1)):
        if column in frame:
            frame[column] = frame[column].astype(float).round(digits)
    if "problem" in frame and not frame["problem"].astype(bool).any():
        frame = frame.drop(columns=["problem"])
    titles = {f.key: _first_upper(f.label or short_label(f.key)) for f in factors}
    return frame.rename(columns={**_COLUMN_TITLES, **titles})


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]
