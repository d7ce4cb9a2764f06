"""Plotly figures from run and data-set values. Plain functions: no Streamlit, unit-testable."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.data.names import display_names
from core.training.tasks import format_number
from dashboard.components.user_text import plotly_literal

MAX_BATCH_POINTS = 1500  # the chart is redrawn every second: keep it light on long runs
TRAIN_COLOUR = "#1f77b4"
VAL_COLOUR = "#ff7f0e"
BATCH_COLOUR = "rgba(31, 119, 180, 0.35)"
METRIC_TITLES = {"accuracy": "Accuracy", "mae": "Mean absolute error (MAE)"}  # shown beside the loss


def downsample(points: list[dict], limit: int = MAX_BATCH_POINTS) -> list[dict]:
    """Evenly spaced points, always keeping the last one (the most recent value)."""
    if len(points) <= limit:
        return points
    idx = np.linspace(0, len(points) - 1, limit).round().astype(int)
    return [points[i] for i in np.unique(idx)]


def per_batch_values(batches: list[dict], metric: str, batches_per_epoch: int, smoothing: float = 0.8) -> list:
    """Each batch's own value, smoothed, from the running means Keras reports.

    Keras gives the mean over the epoch so far, which restarts every epoch and makes the line jump;
    the k-th batch's own value is k·mean_k − (k−1)·mean_(k−1). An exponential moving average then
    smooths the noisy per-batch values into one continuous line.
    """
    values, previous_mean, smoothed = [], 0.0, None
    for b in batches:
        mean = b.get(metric)
        if mean is None:
            values.append(None)
            continue
        k = b["step"] - (b["epoch"] - 1) * batches_per_epoch
        own = mean if k <= 1 else k * mean - (k - 1) * previous_mean
        if metric == "accuracy":
            own = min(max(own, 0.0), 1.0)  # a short last batch can push the estimate just outside
        previous_mean = mean
        smoothed = (
            own if smoothed is None or k <= 1 and b["epoch"] == 1 else (smoothing * smoothed + (1 - smoothing) * own)
        )
        values.append(smoothed)
    return values


LOG_TICK_STEPS = ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9))


def log_ticks(low: float, high: float, fewest: int = 3) -> list[float]:
    """Values to label a log axis from ``low`` to ``high`` with: decades when the range spans many, else 1-2-5
    steps, else every digit; the range's own ends (to 2 digits) when even those give fewer than two."""
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 or high <= 0:
        return []
    first, last = int(np.floor(np.log10(low))), int(np.ceil(np.log10(high)))
    ticks: list[float] = []
    for steps in LOG_TICK_STEPS:
        ticks = [float(f"{m}e{e}") for e in range(first, last + 1) for m in steps if low <= float(f"{m}e{e}") <= high]
        if len(ticks) >= fewest:
            return ticks
    if len(ticks) < 2:
        ends = [float(f"{low:.2g}"), float(f"{high:.2g}")]
        ticks = sorted({*ticks, *(v for v in ends if v > 0)})
    return ticks


def curve_metric(rows: list[dict]) -> str:
    """The metric charted beside the loss: accuracy, or a regression's mae (whichever the history has)."""
    return "mae" if any("mae" in r for r in rows) else "accuracy"


def training_chart(batches: list[dict], epochs: list[dict], batches_per_epoch: int, title: str = "") -> go.Figure:
    """Accuracy (a regression: MAE) and loss side by side: a per-batch line plus per-epoch train and
    validation points.

    The x axis is in epochs (a batch at step s sits at s / batches_per_epoch).
    """
    first = curve_metric([*batches[:1], *epochs[:1]])
    fig = make_subplots(rows=1, cols=2, subplot_titles=(METRIC_TITLES[first], "Loss"), horizontal_spacing=0.08)
    per = max(batches_per_epoch, 1)
    x_epochs = [e["epoch"] for e in epochs]
    for col, metric in ((1, first), (2, "loss")):
        legend = col == 1
        if batches and batches[0].get(metric) is not None:
            series = downsample(
                [{"x": b["step"] / per, "y": v} for b, v in zip(batches, per_batch_values(batches, metric, per))]
            )
            fig.add_trace(
                go.Scatter(
                    x=[p["x"] for p in series],
                    y=[p["y"] for p in series],
                    mode="lines" if len(series) > 2 else "lines+markers",
                    name="training (per batch, smoothed)",
                    line={"color": BATCH_COLOUR, "width": 1.5},
                    legendgroup="batch",
                    showlegend=legend,
                ),
                row=1,
                col=col,
            )
        if epochs and metric in epochs[0]:
            fig.add_trace(
                go.Scatter(
                    x=x_epochs,
                    y=[e[metric] for e in epochs],
                    mode="lines+markers",
                    name="training (epoch)",
                    line={"color": TRAIN_COLOUR},
                    legendgroup="train",
                    showlegend=legend,
                ),
                row=1,
                col=col,
            )
        val = f"val_{metric}"
        if epochs and val in epochs[0]:
            fig.add_trace(
                go.Scatter(
                    x=x_epochs,
                    y=[e[val] for e in epochs],
                    mode="lines+markers",
                    name="validation (epoch)",
                    line={"color": VAL_COLOUR, "dash": "dot"},
                    legendgroup="val",
                    showlegend=legend,
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="epoch", rangemode="tozero", row=1, col=col)
    if first == "mae":  # a regression's errors shrink by orders of magnitude: a log axis shows the whole run
        for col in (1, 2):
            values = [y for trace in fig.select_traces(row=1, col=col) for y in trace.y or () if y is not None]
            ticks = log_ticks(min(values, default=0), max(values, default=0))
            # Our own labels, in full numbers: Plotly's own label only whole decades when a run spans several
            # (and 20, 50 as "2", "5"), so an MAE from 0.41 to 0.93 had no value on its axis at all.
            fig.update_yaxes(
                type="log",
                tickvals=ticks,
                ticktext=[format_number(t) for t in ticks],
                minor={"showgrid": True},
                title_text="log scale",
                row=1,
                col=col,
            )
    fig.update_layout(
        title=plotly_literal(title) or None,
        height=380,
        margin={"t": 60, "b": 40, "l": 40, "r": 20},
        legend={"orientation": "h", "y": -0.2},
        uirevision="keep",
    )
    return fig


def confusion_matrix_figure(matrix, class_names) -> go.Figure:
    """Rows: true class, columns: predicted class; each cell shows its count."""
    matrix = np.asarray(matrix)
    names = [
        plotly_literal(name) for name in display_names(class_names)
    ]  # distinct: Plotly merges categories of the same name
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=names,
            y=names,
            colorscale="Blues",
            texttemplate="%{z}",
            showscale=False,
            hovertemplate="true %{y}<br>predicted %{x}<br>%{z} images<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis_title="predicted class",
        yaxis_title="true class",
        height=520,
        # Categories, always: class names such as "0"…"9" would otherwise become a number line (ticks 0, 5, 10).
        xaxis={"type": "category"},
        yaxis={"autorange": "reversed", "type": "category"},
        margin={"t": 30, "b": 40},
    )
    return fig


def per_class_accuracy_figure(accuracy, class_names) -> go.Figure:
    values = [None if v is None else 100 * v for v in accuracy]
    fig = go.Figure(
        go.Bar(
            x=[plotly_literal(name) for name in display_names(class_names)],
            y=values,
            marker_color=TRAIN_COLOUR,
            text=[None if v is None else f"{v:.1f}%" for v in values],
            textposition="outside",
        )
    )
    fig.update_traces(cliponaxis=False)
    fig.update_layout(
        xaxis={"type": "category"},
        yaxis={"title": "test accuracy (%)", "range": [0, 112]},
        height=360,
        margin={"t": 40, "b": 40},
    )
    return fig


def class_balance_figure(train_counts, test_counts, class_names) -> go.Figure:
    names = [plotly_literal(name) for name in display_names(class_names)]
    fig = go.Figure(
        [
            go.Bar(name="training", x=names, y=list(train_counts), marker_color=TRAIN_COLOUR),
            go.Bar(name="test", x=names, y=list(test_counts), marker_color=VAL_COLOUR),
        ]
    )
    fig.update_layout(
        barmode="group",
        xaxis={"type": "category"},
        yaxis_title="images",
        height=340,
        margin={"t": 30, "b": 40},
        legend={"orientation": "h", "y": 1.1},
    )
    return fig


PIXEL_TEXT_SIDE = 40  # larger images get no number in each cell (unreadable); hovering still shows it


def pixel_heatmap(image: np.ndarray, title: str = "", channel: int = 0, colorscale: str = "gray_r") -> go.Figure:
    """One channel of an image (grey: the only one) as a heatmap with each pixel's value written in its cell."""
    grid = np.asarray(image)
    if grid.ndim == 3:
        grid = grid[..., channel]
    text = {"texttemplate": "%{z}", "textfont": {"size": 7}} if max(grid.shape) <= PIXEL_TEXT_SIDE else {}
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            colorscale=colorscale,
            zmin=0,
            zmax=255,
            **text,
            hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(
        title=plotly_literal(title) or None,
        height=640,
        yaxis={"autorange": "reversed", "scaleanchor": "x"},
        margin={"t": 40, "b": 20},
    )
    return fig


# --- comparing runs and coaching marks -----------------------------------------------------------

RUN_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)
SPLIT_DASH = {"training": "solid", "validation": "dash"}
FINDING_MARKS = {  # which coaching findings get a line on the history chart, and its label
    "overfitting": ("#d62728", "validation loss lowest (epoch {epoch})"),
    "diverging": ("#9467bd", "loss starts rising (epoch {epoch})"),
}


def run_colours(run_ids) -> dict[str, str]:
    return {run_id: RUN_COLOURS[n % len(RUN_COLOURS)] for n, run_id in enumerate(run_ids)}


def compare_chart(series: list[dict], labels: dict[str, str], colours: dict[str, str]) -> go.Figure:
    """Per-epoch accuracy and loss of several runs: one colour per run, training solid, validation dashed.

    ``series`` is core.insight.compare.overlay_series(); ``labels`` maps run id -> legend name, in legend order.
    """
    first = curve_metric([{r["metric"]: r["value"]} for r in series])
    fig = make_subplots(rows=1, cols=2, subplot_titles=(METRIC_TITLES[first], "Loss"), horizontal_spacing=0.08)
    for run_id, label in labels.items():
        label = plotly_literal(label)
        for col, metric in ((1, first), (2, "loss")):
            for split, dash in SPLIT_DASH.items():
                points = sorted(
                    (r["epoch"], r["value"])
                    for r in series
                    if r["run"] == run_id and r["metric"] == metric and r["split"] == split
                )
                if not points:
                    continue
                fig.add_trace(
                    go.Scatter(
                        x=[p[0] for p in points],
                        y=[p[1] for p in points],
                        mode="lines+markers",
                        name=label,
                        legendgroup=run_id,
                        showlegend=col == 1 and split == "training",
                        line={"color": colours[run_id], "dash": dash},
                        # The name as data, not in the template: a "%{...}" in it stays text.
                        customdata=[label] * len(points),
                        hovertemplate=f"%{{customdata}} · {split}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>",
                    ),
                    row=1,
                    col=col,
                )
        for col in (1, 2):
            fig.update_xaxes(title_text="epoch", rangemode="tozero", row=1, col=col)
    for split, dash in SPLIT_DASH.items():  # a legend entry for each line style
        style = "solid" if dash == "solid" else "dashed"
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                name=f"{split} ({style} line)",
                line={"color": "#555555", "dash": dash},
                legendgroup=split,
            ),
            row=1,
            col=1,
        )
    fig.update_layout(
        height=400,
        margin={"t": 40, "b": 40, "l": 40, "r": 20},
        legend={"orientation": "h", "y": -0.2},
        uirevision="keep",
    )
    return fig


def mark_findings(fig: go.Figure, findings) -> go.Figure:
    """A vertical line at the epoch of each coaching finding that points at one, on both subplots.

    The label goes on the loss subplot, on the side of the line with more room, so it neither covers
    the curves' start nor widens the axis.
    """
    last_epoch = max((x for trace in fig.data for x in (trace.x or ()) if x is not None), default=0)
    for finding in findings:
        mark = FINDING_MARKS.get(finding.kind)
        if mark is None or finding.epoch is None:
            continue
        colour, text = mark
        line = {"color": colour, "dash": "dash", "width": 2}
        fig.add_vline(x=finding.epoch, line=line, row=1, col=1)
        fig.add_vline(
            x=finding.epoch,
            line=line,
            row=1,
            col=2,
            annotation_text=text.format(epoch=finding.epoch),
            annotation_position="top left" if finding.epoch > last_epoch / 2 else "top right",
            annotation_font_color=colour,
        )
    return fig
