"""The map of what a network learned (core.insight.embedding_map) as a Plotly scatter you can click.

Drawn by dashboard/components/hover_chart.py, which shows a dot's image on hover and sends a click's
position (each point's customdata[0]) back to the page."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from core.data.names import display_names
from core.insight.embedding_map import METHODS, EmbeddingMap
from dashboard.components.user_text import plotly_literal

MISTAKE_COLOUR = "#111111"
SELECTED_COLOUR = "#d62728"
RING_NAME = "the one shown"  # the ring's legend entry
PALETTE = qualitative.Plotly + qualitative.Dark24  # 34 class colours before they repeat


def _axis_titles(found: EmbeddingMap) -> tuple[str, str]:
    if found.method == "pca":
        shares = list(found.explained) + [0.0] * (2 - len(found.explained))
        return tuple(
            f"principal component {i + 1} ({100 * share:.0f} % of the variance)" for i, share in enumerate(shares)
        )
    return f"{METHODS[found.method]} 1", f"{METHODS[found.method]} 2"


def _hover(found: EmbeddingMap, names: list[str]) -> list[list]:
    """Per point: its position on the map, its test index and the words the hover shows."""
    rows = []
    for position, (index, true, predicted, value) in enumerate(
        zip(found.indices, found.y_true, found.predicted, found.confidence)
    ):
        if found.regression:
            words = f"true {float(true):,.4g}<br>predicted {float(predicted):,.4g}<br>error {float(value):,.4g}"
        else:
            verdict = "right" if true == predicted else "<b>wrong</b>"
            words = f"class: {names[int(true)]}<br>predicted: {names[int(predicted)]} ({100 * float(value):.0f} %), {verdict}"
        rows.append([position, int(index), words])
    return rows


def selected_ring(found: EmbeddingMap, selected: int | None) -> list[go.Scatter]:
    """The ring around the dot of the example opened (none when ``selected`` is not a position of the map).

    A trace of its own, so the map's page can send it apart from the figure: a click then costs a few
    hundred bytes, not the whole map again (dashboard/components/hover_chart.py's ``overlay``)."""
    coords = np.asarray(found.coords, dtype=float)
    if selected is None or not 0 <= selected < len(coords):
        return []
    return [
        go.Scatter(
            x=[float(coords[selected, 0])],
            y=[float(coords[selected, 1])],
            mode="markers",
            name=RING_NAME,
            hoverinfo="skip",
            marker={"size": 16, "symbol": "circle-open", "color": SELECTED_COLOUR, "line": {"width": 3}},
        )
    ]


def embedding_figure(found: EmbeddingMap, class_names=(), selected: int | None = None, height: int = 480) -> go.Figure:
    """Every mapped test example, coloured by its true class (a regression: by its error), mistakes crossed,
    and the ``selected`` one ringed (:func:`selected_ring`).

    Each point carries [its position on the map, its test index, hover text] as customdata, so a hover
    or a click says which example it is.
    """
    names = [plotly_literal(n) for n in display_names(class_names)]
    hover = _hover(found, names)
    template = "#%{customdata[1]}<br>%{customdata[2]}<br><i>click to see it</i><extra></extra>"
    coords = np.asarray(found.coords, dtype=float)
    fig = go.Figure()
    if found.regression:
        fig.add_trace(
            go.Scatter(
                x=coords[:, 0].tolist(),
                y=coords[:, 1].tolist(),
                mode="markers",
                name="test rows",
                customdata=hover,
                hovertemplate=template,
                marker={
                    "size": 6,
                    "color": np.asarray(found.confidence, dtype=float).tolist(),
                    "colorscale": "Viridis",
                    "colorbar": {"title": {"text": "absolute error"}},
                },
            )
        )
    else:
        for class_index, name in enumerate(names):
            members = np.flatnonzero(found.y_true == class_index)
            if not len(members):
                continue
            fig.add_trace(
                go.Scatter(
                    x=coords[members, 0].tolist(),
                    y=coords[members, 1].tolist(),
                    mode="markers",
                    name=name,
                    customdata=[hover[i] for i in members],
                    hovertemplate=template,
                    marker={"size": 6, "opacity": 0.75, "color": PALETTE[class_index % len(PALETTE)]},
                )
            )
        wrong = np.flatnonzero(found.mistakes)
        if len(wrong):
            fig.add_trace(
                go.Scatter(
                    x=coords[wrong, 0].tolist(),
                    y=coords[wrong, 1].tolist(),
                    mode="markers",
                    name=f"✕ mistakes ({len(wrong):,})",
                    customdata=[hover[i] for i in wrong],
                    hovertemplate=template,
                    # thin and wider than a dot: the class colour of the dot under it still shows
                    marker={"size": 10, "symbol": "x-thin-open", "color": MISTAKE_COLOUR, "line": {"width": 1}},
                )
            )
    fig.add_traces(selected_ring(found, selected))
    x_title, y_title = _axis_titles(found)
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"itemsizing": "constant"},
        xaxis={
            "title": {"text": x_title},
            "showticklabels": found.method == "pca",
            "zeroline": False,
            "automargin": True,
        },
        yaxis={
            "title": {"text": y_title},
            "showticklabels": found.method == "pca",
            "zeroline": False,
            "automargin": True,
        },
        clickmode="event",  # a click opens the dot's image (the hover chart); nothing is selected or dimmed
        dragmode="pan",
    )
    return fig
