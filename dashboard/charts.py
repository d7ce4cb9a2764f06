"""Plotly figures from run and data-set values. Plain functions: no Streamlit, unit-testable."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

MAX_BATCH_POINTS = 1500  # the chart is redrawn every second: keep it light on long runs
TRAIN_COLOUR = "#1f77b4"
VAL_COLOUR = "#ff7f0e"
BATCH_COLOUR = "rgba(31, 119, 180, 0.35)"


def downsample(points: list[dict], limit: int = MAX_BATCH_POINTS) -> list[dict]:
    """Evenly spaced points, always keeping the last one (the most recent value)."""
    if len(points) <= limit:
        return points
    idx = np.linspace(0, len(points) - 1, limit).round().astype(int)
    return [points[i] for i in np.unique(idx)]


def training_chart(batches: list[dict], epochs: list[dict], batches_per_epoch: int,
                   title: str = "") -> go.Figure:
    """Accuracy and loss side by side: a per-batch line plus per-epoch train and validation points.

    The x axis is in epochs (a batch at step s sits at s / batches_per_epoch).
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Accuracy", "Loss"), horizontal_spacing=0.08)
    per = max(batches_per_epoch, 1)
    shown = downsample(batches)
    x_batches = [b["step"] / per for b in shown]
    x_epochs = [e["epoch"] for e in epochs]
    for col, metric in ((1, "accuracy"), (2, "loss")):
        legend = col == 1
        if shown and shown[0].get(metric) is not None:
            fig.add_trace(go.Scatter(x=x_batches, y=[b[metric] for b in shown], mode="lines",
                                     name="training (per batch)", line={"color": BATCH_COLOUR, "width": 1.5},
                                     legendgroup="batch", showlegend=legend), row=1, col=col)
        if epochs and metric in epochs[0]:
            fig.add_trace(go.Scatter(x=x_epochs, y=[e[metric] for e in epochs], mode="lines+markers",
                                     name="training (epoch)", line={"color": TRAIN_COLOUR},
                                     legendgroup="train", showlegend=legend), row=1, col=col)
        val = f"val_{metric}"
        if epochs and val in epochs[0]:
            fig.add_trace(go.Scatter(x=x_epochs, y=[e[val] for e in epochs], mode="lines+markers",
                                     name="validation (epoch)", line={"color": VAL_COLOUR, "dash": "dot"},
                                     legendgroup="val", showlegend=legend), row=1, col=col)
        fig.update_xaxes(title_text="epoch", rangemode="tozero", row=1, col=col)
    fig.update_layout(title=title or None, height=380, margin={"t": 60, "b": 40, "l": 40, "r": 20},
                      legend={"orientation": "h", "y": -0.2}, uirevision="keep")
    return fig


def confusion_matrix_figure(matrix, class_names) -> go.Figure:
    """Rows: true class, columns: predicted class; each cell shows its count."""
    matrix = np.asarray(matrix)
    names = list(class_names)
    fig = go.Figure(go.Heatmap(
        z=matrix, x=names, y=names, colorscale="Blues", texttemplate="%{z}", showscale=False,
        hovertemplate="true %{y}<br>predicted %{x}<br>%{z} images<extra></extra>"))
    fig.update_layout(xaxis_title="predicted class", yaxis_title="true class", height=520,
                      yaxis={"autorange": "reversed"}, margin={"t": 30, "b": 40})
    return fig


def per_class_accuracy_figure(accuracy, class_names) -> go.Figure:
    values = [None if v is None else 100 * v for v in accuracy]
    fig = go.Figure(go.Bar(x=list(class_names), y=values, marker_color=TRAIN_COLOUR,
                           text=[None if v is None else f"{v:.1f}%" for v in values], textposition="outside"))
    fig.update_layout(yaxis={"title": "test accuracy (%)", "range": [0, 105]}, height=360,
                      margin={"t": 30, "b": 40})
    return fig


def class_balance_figure(train_counts, test_counts, class_names) -> go.Figure:
    fig = go.Figure([
        go.Bar(name="training", x=list(class_names), y=list(train_counts), marker_color=TRAIN_COLOUR),
        go.Bar(name="test", x=list(class_names), y=list(test_counts), marker_color=VAL_COLOUR),
    ])
    fig.update_layout(barmode="group", yaxis_title="images", height=340, margin={"t": 30, "b": 40},
                      legend={"orientation": "h", "y": 1.1})
    return fig


def pixel_heatmap(image: np.ndarray, title: str = "") -> go.Figure:
    """One grey image as a heatmap with each pixel's value written in its cell."""
    grid = np.asarray(image)
    if grid.ndim == 3:
        grid = grid[..., 0]
    fig = go.Figure(go.Heatmap(z=grid, colorscale="gray_r", texttemplate="%{z}", textfont={"size": 7},
                               hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=title or None, height=640, yaxis={"autorange": "reversed", "scaleanchor": "x"},
                      margin={"t": 40, "b": 20})
    return fig
