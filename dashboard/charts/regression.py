"""Plotly figures for a regression (predicting a number from a table's row). No Streamlit here."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.components.user_text import plotly_literal

POINT_COLOUR = "#1f77b4"
IDEAL_COLOUR = "#2ca02c"
ZERO_COLOUR = "#555555"
# Every test row is drawn (at most 20,000: a fifth of the largest table), with WebGL, which stays responsive at
# that size: a sample would drop the largest errors, the dots a learner most needs to see.


def predicted_vs_actual_figure(y_true, predicted, target_name: str) -> go.Figure:
    """One point per test row: the true value across, the prediction up; perfect answers lie on the diagonal."""
    y_true, predicted = (np.asarray(a, dtype=float).reshape(-1) for a in (y_true, predicted))
    rows = np.arange(len(y_true))
    low = float(min(y_true.min(), predicted.min()))
    high = float(max(y_true.max(), predicted.max()))
    fig = go.Figure(
        [
            go.Scatter(
                x=[low, high],
                y=[low, high],
                mode="lines",
                name="perfect prediction",
                line={"color": IDEAL_COLOUR, "dash": "dash"},
                hoverinfo="skip",
            ),
            go.Scattergl(
                x=y_true,
                y=predicted,
                mode="markers",
                name="test rows",
                customdata=rows,
                marker={"color": POINT_COLOUR, "size": 6, "opacity": 0.6},
                hovertemplate="test row %{customdata}<br>actual %{x:,.4r}<br>predicted %{y:,.4r}<extra></extra>",
            ),
        ]
    )
    fig.update_layout(
        xaxis_title=f"actual {plotly_literal(target_name)}",
        yaxis_title=f"predicted {plotly_literal(target_name)}",
        height=440,
        margin={"t": 30, "b": 40},
        legend={"orientation": "h", "y": 1.08},
        yaxis={"scaleanchor": "x", "scaleratio": 1},
    )
    return fig


def residuals_figure(y_true, predicted, target_name: str) -> go.Figure:
    """The error of each test row (predicted − actual) against the prediction: a band around 0 is good."""
    y_true, predicted = (np.asarray(a, dtype=float).reshape(-1) for a in (y_true, predicted))
    residuals = predicted - y_true
    rows = np.arange(len(y_true))
    fig = go.Figure(
        go.Scattergl(
            x=predicted,
            y=residuals,
            mode="markers",
            name="test rows",
            customdata=rows,
            marker={"color": POINT_COLOUR, "size": 6, "opacity": 0.6},
            hovertemplate="test row %{customdata}<br>predicted %{x:,.4r}<br>error %{y:+,.4r}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line={"color": ZERO_COLOUR, "dash": "dash"})
    fig.update_layout(
        xaxis_title=f"predicted {plotly_literal(target_name)}",
        yaxis_title="error (predicted − actual)",
        height=440,
        margin={"t": 30, "b": 40},
        showlegend=False,
    )
    return fig


def target_histogram(y_train, y_test, target_name: str) -> go.Figure:
    """How the target's values are spread, in the training and the test rows (as shares, so they compare)."""
    shared = {"histnorm": "percent", "bingroup": "target", "opacity": 0.6}  # the same bins for both
    fig = go.Figure(
        [
            go.Histogram(x=np.asarray(y_train).reshape(-1), name="training rows", marker_color=POINT_COLOUR, **shared),
            go.Histogram(x=np.asarray(y_test).reshape(-1), name="test rows", marker_color="#ff7f0e", **shared),
        ]
    )
    fig.update_layout(
        barmode="overlay",
        xaxis_title=plotly_literal(target_name),
        yaxis_title="share of the rows (%)",
        height=340,
        margin={"t": 30, "b": 40},
        legend={"orientation": "h", "y": 1.1},
    )
    return fig
