"""Plotly figures of an experiment: live small multiples, Pareto views, parallel coordinates, effects.

Plain functions of the results table (core.experiments.engine.results_table) and run histories: no
Streamlit, unit-testable. Every point of a Pareto view carries its run id in ``customdata`` so a click
can open that run.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.experiments.analysis import Metric, factor_effects, finished, metric_of, pareto_front, seed_spread
from core.experiments.factors import Factor
from dashboard.charts.training import downsample, per_batch_values
from dashboard.components.user_text import plotly_literal

FRONT_COLOUR = "#d62728"
OTHER_COLOUR = "rgba(31, 119, 180, 0.55)"
COST_TITLES = {"params": "Parameters (log scale)", "train_seconds": "Training time, seconds (log scale)"}


def _value(metric: Metric, values) -> list[float]:
    """Accuracy in percent on the axes; other metrics as they are."""
    return [100 * v if metric.column == "test_accuracy" else v for v in values]


def _metric_axis(metric: Metric) -> str:
    return f"{metric.title} (%)" if metric.column == "test_accuracy" else metric.title


def variant_label(row, factors: list[Factor]) -> str:
    return plotly_literal(" · ".join(f"{f.label or f.key}: {row[f.key]}" for f in factors))


def pareto_figure(table: pd.DataFrame, factors: list[Factor], cost: str, title: str = "") -> go.Figure:
    """The metric against a cost (params or train_seconds), every finished run a point, the front in red and
    joined by a line. ``customdata`` holds each point's run id."""
    done = finished(table)
    metric = metric_of(table)
    fig = go.Figure()
    if done.empty:
        return fig
    front = pareto_front(done, cost, metric)
    labels = [
        f"#{row['variant']} {variant_label(row, factors)} (seed {row['seed']})<br>{metric.fmt(row[metric.column])}"
        for _, row in done.iterrows()
    ]
    done = done.assign(label=labels, front=front.values)
    for on_front, name, colour, size in (
        (False, "other variants", OTHER_COLOUR, 11),
        (True, "Pareto front", FRONT_COLOUR, 14),
    ):
        part = done[done["front"] == on_front]
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=part[cost],
                y=_value(metric, part[metric.column]),
                mode="markers",
                name=name,
                marker={"color": colour, "size": size, "line": {"width": 1, "color": "white"}},
                customdata=part["run_id"],
                text=part["label"],
                hovertemplate="%{text}<br>%{x:,.4~g}<extra>click to open this run</extra>",
            )
        )
    line = done[done["front"]].sort_values(cost)
    if len(line) > 1:
        fig.add_trace(
            go.Scatter(
                x=line[cost],
                y=_value(metric, line[metric.column]),
                mode="lines",
                line={"color": FRONT_COLOUR, "width": 1.5, "dash": "dot"},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig.update_layout(
        title=plotly_literal(title) or f"{metric.title} against {COST_TITLES[cost].split(' (')[0].lower()}",
        xaxis_title=COST_TITLES[cost],
        yaxis_title=_metric_axis(metric),
        xaxis_type="log",
        height=420,
        margin={"t": 60, "b": 50, "l": 60, "r": 20},
        legend={"orientation": "h", "y": -0.2},
        clickmode="event+select",
    )
    return fig


def parallel_coordinates_figure(table: pd.DataFrame, factors: list[Factor]) -> go.Figure:
    """One line per finished run from its factor values to its result, coloured by the result."""
    done = finished(table)
    metric = metric_of(table)
    if done.empty:
        return go.Figure()
    dimensions = []
    for factor in factors:
        order = [v for v in (str(x) for x in dict.fromkeys(done[factor.key])) if v]
        order = sorted(order, key=lambda v: (_number(v) is None, _number(v) or 0, v))
        codes = [order.index(str(v)) for v in done[factor.key]]
        dimensions.append(
            {
                "label": factor.label or factor.key,
                "values": codes,
                "tickvals": list(range(len(order))),
                "ticktext": order,
            }
        )
    dimensions.append({"label": "Parameters", "values": done["params"].tolist()})
    values = _value(metric, done[metric.column])
    dimensions.append({"label": _metric_axis(metric), "values": values})
    fig = go.Figure(
        go.Parcoords(
            line={
                "color": values,
                "colorscale": "Viridis",
                "reversescale": not metric.higher_is_better,
                "showscale": True,
                "colorbar": {"title": {"text": metric.title}},
            },
            dimensions=dimensions,
        )
    )
    fig.update_layout(height=380, margin={"t": 60, "b": 30, "l": 60, "r": 60})
    return fig


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def effects_figure(table: pd.DataFrame, factors: list[Factor]) -> go.Figure:
    """One panel per factor: every run as a dot, and each value's mean with the seed spread as an error bar."""
    done = finished(table)
    metric = metric_of(table)
    effects = {e.factor.key: e for e in factor_effects(done, factors, metric)} if not done.empty else {}
    shown = [f for f in factors if f.key in effects]
    if not shown:
        return go.Figure()
    spread = seed_spread(done, [f.key for f in factors], metric)
    fig = make_subplots(
        rows=1,
        cols=len(shown),
        subplot_titles=[f.label or f.key for f in shown],
        shared_yaxes=True,
        horizontal_spacing=0.05,
    )
    scale = 100 if metric.column == "test_accuracy" else 1
    for col, factor in enumerate(shown, start=1):
        levels = effects[factor.key].levels
        xs = [lv.value for lv in levels]
        fig.add_trace(
            go.Scatter(
                x=done[factor.key],
                y=_value(metric, done[metric.column]),
                mode="markers",
                marker={"color": OTHER_COLOUR, "size": 8},
                name="each run",
                showlegend=col == 1,
                hovertemplate="%{x}: %{y:.4~g}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[scale * lv.mean for lv in levels],
                mode="lines+markers",
                marker={"color": FRONT_COLOUR, "size": 12, "symbol": "diamond"},
                line={"color": FRONT_COLOUR},
                error_y=(
                    {"type": "data", "array": [scale * spread] * len(levels), "visible": True}
                    if spread is not None
                    else None
                ),
                name="mean" + (" ± seed spread" if spread is not None else ""),
                showlegend=col == 1,
                hovertemplate="%{x}: mean %{y:.4~g}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=xs, row=1, col=col)
    fig.update_yaxes(title_text=_metric_axis(metric), row=1, col=1)
    fig.update_layout(height=380, margin={"t": 60, "b": 40, "l": 60, "r": 20}, legend={"orientation": "h", "y": -0.2})
    return fig


def small_multiples_figure(curves: list[dict], metric: str = "accuracy", columns: int = 4) -> go.Figure:
    """Every variant's live training curve in its own small panel, on one shared y axis.

    ``curves``: dicts with ``title``, ``batches`` (the run's batch history), ``batches_per_epoch``, ``epochs``
    (per-epoch history, for validation points) and ``status``.
    """
    count = max(len(curves), 1)
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[plotly_literal(f"{c['title']} · {c['status']}") for c in curves] or [""],
        shared_yaxes=True,
        vertical_spacing=min(0.12, 0.5 / rows),
        horizontal_spacing=0.03,
    )
    for i, curve in enumerate(curves):
        row, col = i // columns + 1, i % columns + 1
        per = max(curve["batches_per_epoch"], 1)
        batches = curve["batches"]
        if batches and batches[0].get(metric) is not None:
            values = per_batch_values(batches, metric, per)
            series = downsample([{"x": b["step"] / per, "y": v} for b, v in zip(batches, values)], 200)
            fig.add_trace(
                go.Scatter(
                    x=[p["x"] for p in series],
                    y=[p["y"] for p in series],
                    mode="lines",
                    line={"color": "#1f77b4", "width": 1.5},
                    name="training",
                    showlegend=i == 0,
                ),
                row=row,
                col=col,
            )
        validation = [e for e in curve["epochs"] if e.get(f"val_{metric}") is not None]
        if validation:
            fig.add_trace(
                go.Scatter(
                    x=[e["epoch"] for e in validation],
                    y=[e[f"val_{metric}"] for e in validation],
                    mode="markers+lines",
                    marker={"color": "#ff7f0e", "size": 6},
                    line={"color": "#ff7f0e", "width": 1},
                    name="validation",
                    showlegend=i == 0,
                ),
                row=row,
                col=col,
            )
    fig.update_annotations(font_size=11)
    fig.update_layout(
        height=max(260, 200 * rows + 60),
        margin={"t": 40, "b": 30, "l": 40, "r": 10},
        legend={"orientation": "h", "y": 1.08},
    )
    return fig


def lr_finder_figure(learning_rates, losses, smoothed, suggestion: float | None) -> go.Figure:
    """Loss against learning rate on a log axis, the smoothed curve, and the suggestion marked."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=learning_rates,
            y=losses,
            mode="lines",
            name="loss per batch",
            line={"color": "rgba(31, 119, 180, 0.3)", "width": 1},
        )
    )
    if smoothed:
        fig.add_trace(
            go.Scatter(
                x=learning_rates[: len(smoothed)],
                y=smoothed,
                mode="lines",
                name="smoothed",
                line={"color": "#1f77b4", "width": 2.5},
            )
        )
    if suggestion is not None:
        index = int(np.argmin(np.abs(np.log(np.asarray(learning_rates[: len(smoothed)])) - math.log(suggestion))))
        fig.add_trace(
            go.Scatter(
                x=[suggestion],
                y=[smoothed[index]],
                mode="markers+text",
                marker={"color": FRONT_COLOUR, "size": 14, "symbol": "star"},
                text=[f"suggested: {suggestion:g}"],
                textposition="top right",
                name="suggested",
            )
        )
        fig.add_vline(x=suggestion, line={"color": FRONT_COLOUR, "dash": "dot"})
    finite = [v for v in (smoothed or losses) if v is not None and math.isfinite(v)]
    if finite:  # keep the explosion at the end from flattening the interesting part
        low, high = min(finite), finite[0]
        fig.update_yaxes(range=[low - 0.1 * (high - low + 1e-9), max(high, low) * 1.3 + 1e-9])
    fig.update_layout(
        xaxis={"type": "log", "title": "Learning rate (log scale)", "exponentformat": "power"},
        yaxis_title="Loss",
        height=380,
        margin={"t": 30, "b": 50, "l": 60, "r": 20},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
