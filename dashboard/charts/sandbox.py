"""The shape sandbox's picture: the kernel on a small input grid (with its zero padding) and the output grid
it produces, the current window and its output cell marked. Plain functions: no Streamlit."""

from __future__ import annotations

import plotly.graph_objects as go

from core.model.window_math import WindowFit

INPUT_FILL = "#e3f2fd"
PAD_FILL = "#f5f5f5"
OUTPUT_FILL = "#e8f5e9"
WINDOW = "#ff1744"
GAP = 2  # cells between the input and the output grid


def _cell(x: float, y: float, fill: str, dash: str = "solid") -> dict:
    return {
        "type": "rect",
        "x0": x,
        "x1": x + 1,
        "y0": y,
        "y1": y + 1,
        "fillcolor": fill,
        "line": {"color": "#90a4ae", "width": 1, "dash": dash},
    }


def sliding_window_figure(fit: WindowFit, row: int, col: int) -> go.Figure:
    """A square input of ``fit.size`` cells (padding dashed), the window for output (row, col), the output."""
    # The shapes are collected as dicts and set at once: one fig.add_shape per cell (Plotly validates each
    # call against the whole layout) took ~1 s for an 8×8 input, on every rerun of Build.
    fig = go.Figure()
    shapes = []
    before, after = fit.pad_before, fit.pad_after
    side = fit.size + before + after
    for r in range(-before, fit.size + after):
        for c in range(-before, fit.size + after):
            inside = 0 <= r < fit.size and 0 <= c < fit.size
            shapes.append(
                _cell(c + before, r + before, INPUT_FILL if inside else PAD_FILL, "solid" if inside else "dot")
            )
    offset = side + GAP
    if fit.output:
        for r in range(fit.output):
            for c in range(fit.output):
                shapes.append(_cell(offset + c, r, WINDOW if (r, c) == (row, col) else OUTPUT_FILL))
        starts = fit.window_starts()
        top, left = starts[row] + before, starts[col] + before
        shapes.append(
            {
                "type": "rect",
                "x0": left,
                "x1": left + fit.kernel,
                "y0": top,
                "y1": top + fit.kernel,
                "fillcolor": "rgba(255, 23, 68, 0.18)",
                "line": {"color": WINDOW, "width": 3},
            }
        )
    fig.add_annotation(x=side / 2, y=-0.6, text=f"input {fit.size}×{fit.size}", showarrow=False)
    if fit.output:
        fig.add_annotation(x=offset + fit.output / 2, y=-0.6, text=f"output {fit.output}×{fit.output}", showarrow=False)
    width_cells = offset + (fit.output or 0)
    height_cells = max(side, fit.output or 0)
    fig.update_xaxes(visible=False, range=[-0.5, width_cells + 0.5], fixedrange=True)
    fig.update_yaxes(visible=False, range=[height_cells + 0.5, -1.5], fixedrange=True, scaleanchor="x")
    fig.update_layout(
        shapes=shapes, height=320, margin={"l": 5, "r": 5, "t": 5, "b": 5}, dragmode=False, plot_bgcolor="white"
    )
    return fig
