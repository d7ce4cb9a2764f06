"""The projector's live race: every learner's current run as one accuracy curve, the leader marked."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.charts.training import downsample, per_batch_values
from dashboard.components.user_text import plotly_literal

# Okabe & Ito's palette, told apart with every common colour-vision deficiency; after eight learners
# the colours repeat with another dash pattern.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
DASHES = ("solid", "dash", "dot", "dashdot")
POINTS_PER_RUN = 200


def race_style(index: int) -> dict:
    return {"color": OKABE_ITO[index % len(OKABE_ITO)], "dash": DASHES[(index // len(OKABE_ITO)) % len(DASHES)]}


def race_chart(entries: list[dict], font_size: int = 22, height: int = 560) -> go.Figure:
    """Accuracy against epochs, one line per learner (smoothed per-batch training accuracy, with the
    validation accuracy of each finished epoch as points), the leader's line thicker and starred.

    Args:
        entries: core.classroom.race.race(...) output.
    """
    figure = go.Figure()
    for index, entry in enumerate(entries):
        style = race_style(index)
        per_epoch = entry["batches_per_epoch"]
        batches = downsample(entry["batches"], POINTS_PER_RUN * 4)
        values = per_batch_values(batches, "accuracy", per_epoch)
        points = downsample(
            [{"x": b["step"] / per_epoch, "y": v} for b, v in zip(batches, values) if v is not None], POINTS_PER_RUN
        )
        learner = plotly_literal(entry["learner"])  # a name with <a href> or <b> shows as typed on the projector
        name = ("★ " if entry["leader"] else "") + learner
        if entry["score"] is not None:
            name += f" {100 * entry['score']:.1f} %"
        width = 7 if entry["leader"] else 4
        figure.add_trace(
            go.Scatter(
                x=[p["x"] for p in points],
                y=[p["y"] for p in points],
                mode="lines",
                name=name,
                legendgroup=entry["run_id"],
                line={"color": style["color"], "dash": style["dash"], "width": width},
            )
        )
        validation = [e for e in entry["epochs"] if e.get("val_accuracy") is not None]
        if validation:
            figure.add_trace(
                go.Scatter(
                    x=[e["epoch"] for e in validation],
                    y=[e["val_accuracy"] for e in validation],
                    mode="markers",
                    legendgroup=entry["run_id"],
                    showlegend=False,
                    marker={
                        "color": style["color"],
                        "size": 22 if entry["leader"] else 14,
                        "symbol": "star" if entry["leader"] else "circle",
                        "line": {"color": "black", "width": 1.5},
                    },
                    customdata=[learner] * len(validation),  # data, not template: a "%{...}" in it stays text
                    hovertemplate="%{customdata}: validation %{y:.1%} after epoch %{x}<extra></extra>",
                )
            )
    figure.update_layout(
        height=height,
        font={"size": font_size},
        margin={"l": 20, "r": 20, "t": 60, "b": 20},
        xaxis_title="Epochs",
        yaxis={"title": "Accuracy", "tickformat": ".0%"},
        # Above the curves, not beside them: the curves get the width (a room reads them from afar).
        legend={
            "font": {"size": font_size + 2},
            "itemsizing": "constant",
            "orientation": "h",
            "x": 0,
            "y": 1.02,
            "yanchor": "bottom",
        },
        showlegend=True,  # the legend names the learners: Plotly would hide it while only one is racing
        plot_bgcolor="white",
    )
    # Tick labels and axis titles at the legend's size (Plotly's 12 px cannot be read from the back of a room).
    for update in (figure.update_xaxes, figure.update_yaxes):
        update(tickfont={"size": font_size, "color": "#222"}, title_font={"size": font_size, "color": "#222"})
    figure.update_xaxes(gridcolor="#dddddd", rangemode="tozero")
    # Accuracy from 0 to 100 %, whatever the curves so far: a single point would otherwise sit in an axis
    # running to −50 %, and the scale stays put as the curves grow.
    figure.update_yaxes(gridcolor="#dddddd", range=[0, 1.05])
    return figure
