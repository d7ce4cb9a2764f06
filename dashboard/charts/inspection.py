"""Plotly figures for looking inside a model and at its mistakes. Plain functions: no Streamlit."""

from __future__ import annotations

import io
import math

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from core.data.names import display_names
from core.data.pixels import to_uint8
from dashboard.charts.training import TRAIN_COLOUR, VAL_COLOUR, confusion_matrix_figure
from dashboard.components.user_text import plotly_literal

THUMBNAIL = 84  # pixels: small images are enlarged without smoothing so their pixels stay visible
HEAT_COLOURS = "Turbo"


def outline_cells(fig: go.Figure, top: int, left: int, colour: str, line_width: int, height=1, width=1) -> None:
    """Draw a frame round a block of a heatmap's cells (``height`` × ``width`` from ``top``, ``left``)."""
    fig.add_shape(
        type="rect",
        x0=left - 0.5,
        x1=left + width - 0.5,
        y0=top - 0.5,
        y1=top + height - 0.5,
        line={"color": colour, "width": line_width},
    )


def enlarge(image: np.ndarray, size: int = THUMBNAIL) -> np.ndarray:
    """An H×W×C image (uint8 or 0..1 floats) as a bigger uint8 image for st.image, pixels kept sharp."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = to_uint8(image)
    factor = max(1, size // image.shape[0])
    image = image.repeat(factor, axis=0).repeat(factor, axis=1)
    return image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image


def png_bytes(image: np.ndarray, size: int = THUMBNAIL) -> bytes:
    """``enlarge(image)`` encoded as PNG once, for images shown again at every rerun (st.image would encode an
    array again each time)."""
    buffer = io.BytesIO()
    Image.fromarray(enlarge(image, size)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- confusion matrix you can click ----------------------------------------------------------------


def clickable_confusion_figure(matrix, class_names, selected: tuple[int, int] | None = None) -> go.Figure:
    """The confusion matrix with an invisible point on every cell, so clicking a cell selects it.

    Plotly cannot select heatmap cells, only points; the points carry [true, predicted] as customdata.
    """
    matrix = np.asarray(matrix)
    fig = confusion_matrix_figure(matrix, class_names)
    names = [plotly_literal(name) for name in display_names(class_names)]  # the heatmap's categories, as it labels them
    fig.update_traces(hoverinfo="skip", hovertemplate=None, selector={"type": "heatmap"})
    rows, cols = np.indices(matrix.shape)
    fig.add_trace(
        go.Scatter(
            x=[names[j] for j in cols.ravel()],
            y=[names[i] for i in rows.ravel()],
            mode="markers",
            customdata=np.stack([rows.ravel(), cols.ravel(), matrix.ravel()], axis=1).tolist(),  # plain lists survive
            marker={"size": 40, "symbol": "square", "opacity": 0, "color": "white"},
            selected={"marker": {"opacity": 0}},
            unselected={"marker": {"opacity": 0}},
            hovertemplate="true %{y}<br>predicted %{x}<br>%{customdata[2]} images<br>"
            "<i>click to see them</i><extra></extra>",
            showlegend=False,
            name="cells",
        )
    )
    if selected is not None:
        true, predicted = selected
        outline_cells(fig, true, predicted, VAL_COLOUR, 4)
    fig.update_layout(clickmode="event+select", dragmode=False)
    fig.update_xaxes(fixedrange=True)  # a drag must not pan the matrix away from under the mouse
    fig.update_yaxes(fixedrange=True)
    return fig


def selected_cell(selection) -> tuple[int, int] | None:
    """The (row, column) of the clicked cell in a Streamlit plotly selection event on a heatmap whose
    points carry their row and column as customdata (the confusion matrix: true, predicted; a feature
    map: row, column), or None."""
    points = ((selection or {}).get("selection") or {}).get("points") or []
    for point in points:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)) and len(data) >= 2:
            return int(data[0]), int(data[1])
    return None


# --- class probabilities ---------------------------------------------------------------------------


def probability_figure(probabilities, class_names, true_class: int | None = None, height: int = 320) -> go.Figure:
    """Horizontal bars, one per class; the predicted class stands out, the true one (if known) is marked."""
    values = 100 * np.asarray(probabilities, dtype=float)
    names = [plotly_literal(name) for name in class_names]
    best = int(values.argmax())
    colours = [TRAIN_COLOUR if i == best else "#9ecae1" for i in range(len(names))]
    labels = display_names([f"{name} (true)" if i == true_class else name for i, name in enumerate(names)])
    fig = go.Figure(
        go.Bar(
            x=values.tolist(),
            y=labels,
            orientation="h",
            marker_color=colours,
            text=[f"{v:.1f} %" for v in values],
            textposition="outside",
            cliponaxis=False,  # a label beside a 100 % bar is drawn in the margin, not on an axis past 100 %
            hovertemplate="%{y}: %{x:.2f} %<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis={"title": "probability (%)", "range": [0, 100]},
        yaxis={"autorange": "reversed"},
        height=height,
        margin={"t": 10, "b": 40, "l": 10, "r": 60},  # room for "100.0 %"
    )
    return fig


# --- grids of small images (filters, feature maps) ------------------------------------------------


def grid_columns(count: int) -> int:
    return max(1, math.ceil(math.sqrt(count)))


def mosaic(tiles: np.ndarray, columns: int, gap: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Tiles (n, h, w) laid out in a grid with NaN gaps; also each cell's tile number (-1 in gaps)."""
    n, h, w = tiles.shape
    rows = math.ceil(n / columns)
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, dtype=np.float32)
    owner = np.full(grid.shape, -1, dtype=np.int64)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        top, left = r * (h + gap), c * (w + gap)
        grid[top : top + h, left : left + w] = tile
        owner[top : top + h, left : left + w] = k
    return grid, owner


def _per_tile_unit_range(tiles: np.ndarray) -> np.ndarray:
    low = tiles.min(axis=(1, 2), keepdims=True)
    span = tiles.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 1e-12, (tiles - low) / np.where(span > 1e-12, span, 1), 0.0)


def mosaic_figure(
    tiles: np.ndarray, label: str, colorscale: str = "gray", size: int = 360, raw: np.ndarray | None = None
) -> go.Figure:
    """A grid of small grey images as one heatmap; hovering names the tile (``label`` 1, 2, ...)."""
    tiles = np.asarray(tiles, dtype=np.float32)
    columns = grid_columns(len(tiles))
    grid, owner = mosaic(tiles, columns)
    values = mosaic(np.asarray(raw if raw is not None else tiles, dtype=np.float32), columns)[0]
    numbers = np.where(owner >= 0, owner + 1, 0)
    custom = np.stack([numbers, np.nan_to_num(values)], axis=-1)
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            colorscale=colorscale,
            zmin=0,
            zmax=1,
            showscale=False,
            customdata=custom,
            hovertemplate=f"{label} %{{customdata[0]}}<br>value %{{customdata[1]:.3f}}<extra></extra>",
            hoverongaps=False,
        )
    )
    fig.update_layout(
        height=size,
        width=size,
        margin={"t": 10, "b": 10, "l": 10, "r": 10},
        xaxis={"visible": False},
        plot_bgcolor="white",
        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
    )
    return fig


def filters_figure(filters: np.ndarray, size: int = 300) -> go.Figure:
    """A Conv2D layer's filters (already 0..1): dark = negative weights, light = positive."""
    return mosaic_figure(filters, "filter", size=size)


def feature_maps_figure(maps: np.ndarray, size: int = 360) -> go.Figure:
    """A layer's feature maps, each scaled to its own 0..1 so weak and strong channels both show."""
    maps = np.asarray(maps, dtype=np.float32)
    return mosaic_figure(_per_tile_unit_range(maps), "channel", colorscale="Viridis", size=size, raw=maps)


# --- Grad-CAM --------------------------------------------------------------------------------------


def grad_cam_figure(image: np.ndarray, heatmap: np.ndarray, opacity: float = 0.45, size: int = 360) -> go.Figure:
    """The input image with the Grad-CAM heatmap laid over it (warm = evidence for the class)."""
    image = np.asarray(image, dtype=np.float32)
    fig = go.Figure()
    if image.shape[-1] == 1:
        fig.add_trace(go.Heatmap(z=image[..., 0], colorscale="gray", zmin=0, zmax=1, showscale=False, hoverinfo="skip"))
    else:
        fig.add_trace(go.Image(z=to_uint8(image), hoverinfo="skip"))
    fig.add_trace(
        go.Heatmap(
            z=heatmap,
            colorscale=HEAT_COLOURS,
            zmin=0,
            zmax=1,
            opacity=opacity,
            colorbar={"title": {"text": "evidence"}, "thickness": 12},
            hovertemplate="row %{y}, column %{x}<br>evidence %{z:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        height=size,
        width=size + 60,
        margin={"t": 10, "b": 10, "l": 10, "r": 10},
        xaxis={"visible": False},
        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
    )
    return fig
