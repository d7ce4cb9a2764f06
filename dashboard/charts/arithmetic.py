"""Plotly figures for "How this number was computed": a feature map to click, the window on the layer's
input, and small grids of numbers (patch, kernel, products), colour-coded. Plain functions: no Streamlit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.data.names import display_names
from dashboard.charts.inspection import outline_cells
from dashboard.components.user_text import plotly_literal

MAP_COLOURS = "Viridis"
SIGNED_COLOURS = "RdBu"  # red negative, blue positive: the sign of a weight or product at a glance
WINDOW_COLOUR = "#ff1744"
CELL_PIXELS = 34  # a number grid's cell


def _square_axes(fig: go.Figure, height: int, width: int) -> None:
    fig.update_xaxes(visible=False, range=[-0.5, width - 0.5], fixedrange=True, constrain="domain")
    fig.update_yaxes(visible=False, range=[height - 0.5, -0.5], fixedrange=True, scaleanchor="x")


def clickable_map_figure(values: np.ndarray, selected: tuple[int, int], size: int = 300) -> go.Figure:
    """One feature map with an invisible point on every cell (plotly selects points, not heatmap cells);
    the points carry [row, column] as customdata. The selected cell is outlined."""
    height, width = values.shape
    fig = go.Figure(go.Heatmap(z=values, colorscale=MAP_COLOURS, showscale=True, hoverinfo="skip"))
    rows, cols = np.indices(values.shape)
    fig.add_trace(
        go.Scatter(
            x=cols.ravel(),
            y=rows.ravel(),
            mode="markers",
            customdata=np.stack([rows.ravel(), cols.ravel()], axis=1).tolist(),
            text=[f"{v:.4f}" for v in values.ravel()],
            marker={"size": max(4, (size - 60) / max(height, width)), "symbol": "square", "opacity": 0},
            selected={"marker": {"opacity": 0}},
            unselected={"marker": {"opacity": 0}},
            hovertemplate="row %{y}, column %{x}<br>value %{text}<br><i>click to see how</i><extra></extra>",
            showlegend=False,
            name="cells",
        )
    )
    row, col = selected
    outline_cells(fig, row, col, WINDOW_COLOUR, 3)
    _square_axes(fig, height, width)
    fig.update_layout(
        height=size, width=size + 40, margin={"l": 5, "r": 5, "t": 5, "b": 5}, clickmode="event+select", dragmode=False
    )
    return fig


def window_figure(values: np.ndarray, top: int, left: int, height: int, width: int, size: int = 300) -> go.Figure:
    """The layer's input (one channel, or the image) with the window the kernel covers drawn on it.

    A window starting in the 'same' padding hangs over the edge, as it does in the computation.
    """
    rows, cols = values.shape
    fig = go.Figure(go.Heatmap(z=values, colorscale="Greys", reversescale=True, showscale=False, hoverinfo="skip"))
    outline_cells(fig, top, left, WINDOW_COLOUR, 3, height, width)
    fig.update_xaxes(visible=False, range=[min(-0.5, left - 0.5), max(cols - 0.5, left + width - 0.5)], fixedrange=True)
    fig.update_yaxes(
        visible=False,
        range=[max(rows - 0.5, top + height - 0.5), min(-0.5, top - 0.5)],
        fixedrange=True,
        scaleanchor="x",
    )
    fig.update_layout(height=size, width=size, margin={"l": 5, "r": 5, "t": 5, "b": 5}, dragmode=False)
    return fig


def numbers_figure(
    values: np.ndarray, mask: np.ndarray | None = None, digits: int = 2, signed: bool = True
) -> go.Figure:
    """A small grid of numbers, each cell coloured by its value (signed: red below zero, blue above).

    Cells where ``mask`` is False (the padding) show "pad" and no colour.
    """
    values = np.asarray(values, dtype=np.float64)
    shown = values if mask is None else np.where(mask, values, np.nan)
    text = [[("pad" if np.isnan(v) else f"{v:.{digits}f}") for v in row] for row in shown]
    limit = float(np.nanmax(np.abs(shown))) if np.isfinite(shown).any() else 1.0
    limit = limit if limit > 0 else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=shown,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 11},
            colorscale=SIGNED_COLOURS if signed else "Blues",
            zmin=-limit if signed else 0,
            zmax=limit,
            showscale=False,
            hoverinfo="skip",
        )
    )
    height, width = values.shape
    _square_axes(fig, height, width)
    fig.update_layout(
        height=max(90, CELL_PIXELS * height + 10),
        width=max(90, CELL_PIXELS * 1.6 * width + 10),
        margin={"l": 5, "r": 5, "t": 5, "b": 5},
    )
    fig.update_yaxes(scaleanchor=None)
    return fig


def pool_window_figure(window: np.ndarray, winner: tuple[int, int] | None) -> go.Figure:
    """A pooling window's values; the one max pooling kept is outlined."""
    fig = numbers_figure(window, mask=~np.isnan(window), digits=3, signed=False)
    if winner is not None:
        outline_cells(fig, *winner, WINDOW_COLOUR, 3)
    return fig


def logits_figure(logits: np.ndarray, probabilities: np.ndarray, names, chosen: int) -> go.Figure:
    """Each class's sum (the score before softmax) and its probability after softmax; the chosen class marked."""
    colours = [WINDOW_COLOUR if i == chosen else "#90a4ae" for i in range(len(names))]
    fig = go.Figure(
        go.Bar(
            x=[plotly_literal(name) for name in display_names(names)],
            y=probabilities,
            marker_color=colours,
            text=[f"score {s:.2f}<br>{100 * p:.1f} %" for s, p in zip(logits, probabilities)],
            textposition="outside",
            cliponaxis=False,  # a label above a 100 % bar is drawn in the margin, not on an axis past 100 %
            hoverinfo="skip",
        )
    )
    fig.update_yaxes(title="probability", range=[0, 1], tickformat=".0%")
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 45, "b": 10}, showlegend=False)
    return fig
