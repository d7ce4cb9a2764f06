"""An experiment's Pareto views, shared by the Experiment page (clickable: opens that run) and the Projector."""

from __future__ import annotations

import streamlit as st

from core.experiments.analysis import finished, metric_of, pareto_front
from dashboard.charts.experiments import pareto_figure


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
