"""Build: the shape sandbox — input size, kernel, stride and padding as sliders; the output size formula
with the numbers filled in; the kernel drawn on a small grid; a combination that does not fit, and why.

A layer card with a window that does not fit links here with its own numbers filled in."""

from __future__ import annotations

import streamlit as st

from core.model.spec import Analysis
from core.model.window_math import window_fit
from dashboard import session
from dashboard.charts.sandbox import sliding_window_figure
from dashboard.session import keys

ANCHOR = "shape-sandbox"
KEYS = {
    "size": keys.ShapeSandbox.SIZE,
    "kernel": keys.ShapeSandbox.KERNEL,
    "stride": keys.ShapeSandbox.STRIDE,
    "padding": keys.ShapeSandbox.PADDING,
}
WINDOW_LAYERS = {
    "Conv2D": ("kernel_size", 1),
    "MaxPooling2D": ("pool_size", None),
    "AveragePooling2D": ("pool_size", None),
}


def _first(value) -> int:
    return int(value[0] if isinstance(value, (list, tuple)) else value)


def _fill_from_layer(size: int, kernel: int, stride: int, padding: str) -> None:
    """The sandbox shows this layer's numbers (a card's link)."""
    for name, value in (("size", size), ("kernel", kernel), ("stride", stride), ("padding", padding)):
        session.set_widget_value(KEYS[name], value)
    session.set_widget_value(keys.ShapeSandbox.STEP, 0)
    session.set_widget_value(keys.ShapeSandbox.OPEN, True)


def _layer_numbers(index: int, layer: dict, analysis: Analysis) -> tuple[int, int, int, str] | None:
    """(input side, window, stride, padding) of a window layer whose input shape is known."""
    kind = layer.get("type")
    if kind not in WINDOW_LAYERS:
        return None
    above = analysis.layers[index - 1].output_shape if index > 0 else analysis.input_shape
    if above is None or len(above) != 3:
        return None
    window_arg, default_stride = WINDOW_LAYERS[kind]
    window = _first(layer.get(window_arg, 2 if window_arg == "pool_size" else 3))
    stride = layer.get("strides")
    stride = _first(stride) if stride is not None else (default_stride or window)
    return min(int(above[0]), 32), min(window, 15), min(stride, 8), layer.get("padding", "valid")


def sandbox_link(index: int, layer: dict, analysis: Analysis) -> None:
    """Under a layer card's shape problem: a button that opens the sandbox with this layer's numbers."""
    numbers = _layer_numbers(index, layer, analysis)
    if numbers is None or not any("is only" in p.message for p in analysis.problems_at(index)):
        return
    st.button(
        "Why? Try it in the shape sandbox",
        key=f"sandbox_link_{index}",
        icon=":material/grid_on:",
        on_click=_fill_from_layer,
        args=numbers,
        help="Fills the shape sandbox (below the summary) with this layer's numbers.",
    )
    st.markdown(f"[Go to the shape sandbox ↓](#{ANCHOR})")


def shape_sandbox() -> None:
    st.header("Shape sandbox", anchor=ANCHOR)
    # Lazy: made only while open. Its picture is the page's only Plotly chart, and Plotly's script is the
    # largest a new session would otherwise load (bench/page_speed.py). A card's link opens it.
    box = st.expander("How big is a layer's output? Try it", key=keys.ShapeSandbox.OPEN, on_change="rerun")
    if box.open:
        with box:
            _sandbox_body()


def _sandbox_body() -> None:
    st.caption(
        "How big is a layer's output? Move the sliders: the kernel (or pooling window) slides over the input "
        "stride cells at a time; each place it stops gives one output cell."
    )
    for name, value in (("size", 8), ("kernel", 3), ("stride", 1), ("padding", "valid")):
        session.default_widget_value(KEYS[name], value)
    c1, c2 = st.columns(2)
    size = c1.slider("Input size", 1, 32, key=KEYS["size"], help="The input's height (and width) in cells.")
    kernel = c2.slider("Kernel size", 1, 15, key=KEYS["kernel"], help="The window's height (and width).")
    c3, c4 = st.columns(2)
    stride = c3.slider("Stride", 1, 8, key=KEYS["stride"], help="How many cells the window moves each step.")
    padding = c4.radio("Padding", ["valid", "same"], key=KEYS["padding"], horizontal=True)
    fit = window_fit(size, kernel, stride, padding)
    st.markdown(f"`{fit.formula}`")
    if not fit.fits:
        st.error(f"Does not fit: {fit.problem}.", icon=":material/error:")
        return
    st.success(f"Output: {fit.output}×{fit.output} for an input of {size}×{size}.", icon=":material/check_circle:")
    if fit.note:
        st.caption(fit.note)
    positions = fit.output * fit.output
    step = 0
    if positions > 1:
        session.default_widget_value(keys.ShapeSandbox.STEP, 0)
        if session.widget_value(keys.ShapeSandbox.STEP, 0) >= positions:
            session.set_widget_value(keys.ShapeSandbox.STEP, 0)
        step = st.slider("Window position (slide it)", 0, positions - 1, key=keys.ShapeSandbox.STEP)
    row, col = divmod(step, fit.output)
    st.plotly_chart(sliding_window_figure(fit, row, col), key="sandbox_grid")
