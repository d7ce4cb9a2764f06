"""The field of one layer argument (a number, a choice, a slider, a box, a merge's earlier layer); a change goes
straight into the spec."""

from __future__ import annotations

import streamlit as st

from core.model.edit import merge_sources
from core.model.spec import Analysis
from core.numbers import as_typed, is_finite_number
from dashboard import session
from dashboard.components.number_field import number_field


def _arg_changed(index: int, arg: str, key: str) -> None:
    session.set_layer_arg(index, arg, as_typed(session.widget_value(key)))


def _merge_source_widget(index: int, layer: dict, arg, common: dict, analysis: Analysis) -> None:
    """Which earlier layer a merge takes: the ones whose shapes fit, nearest first (and the current one,
    said under the list when it does not fit, so the card shows what the model really has).

    An option's words never depend on whether it fits: the browser keeps showing the words a choice had
    when it was made, so a label marked "does not fit" stayed after the shortcut's 1×1 convolution made
    it fit."""
    sources = merge_sources(analysis, index, layer["type"], bool(layer.get("projection", False)))
    current = layer.get(arg.name)
    shown = [s for s in sources if s.fits or s.number == current] or sources
    labels = {s.number: s.label for s in shown}
    options = list(labels)
    if current not in labels:  # a number no layer has (typed into a JSON spec): keep it visible
        options.insert(0, current)
        labels[current] = f"Layer {current} — not above this layer"
    st.selectbox(
        arg.label,
        options,
        index=options.index(current),
        format_func=lambda number: labels[number],
        **common,
    )
    if not any(s.fits for s in sources):
        st.caption("No layer above gives a shape that fits here: the problem below says what would.")
    elif any(s.number == current and not s.fits for s in sources):
        st.caption(f"Layer {current}'s shape does not fit here: the problem below says what would.")


def layer_arg_widget(index: int, layer: dict, arg, key: str, analysis: Analysis | None = None) -> None:
    """The fitting widget for one layer argument; changes go straight into the spec."""
    current = layer.get(arg.name, arg.default)
    common = {"key": key, "help": arg.help, "on_change": _arg_changed, "args": (index, arg.name, key)}
    if arg.kind == "layer" and analysis is not None:
        _merge_source_widget(index, layer, arg, common, analysis)
    elif arg.kind == "int":
        # Any number typed is kept and shown (1e6 is a million); the layer registry says why it cannot be used.
        number_field(arg.label, current if is_finite_number(current) else arg.default, **common)
    elif arg.kind == "pair":
        if arg.allow_none:
            options = [None, *range(1, int(arg.maximum) + 1)]
            value = current[0] if isinstance(current, (list, tuple)) else current
            st.selectbox(
                arg.label,
                options,
                index=options.index(value) if value in options else 0,
                format_func=lambda v: "same as pool" if v is None else f"{v}×{v}",
                **common,
            )
        else:
            value = current[0] if isinstance(current, (list, tuple)) else current
            options = list(range(1, int(arg.maximum) + 1))
            st.selectbox(
                arg.label,
                options,
                index=options.index(value) if value in options else 0,
                format_func=lambda v: f"{v}×{v}",
                **common,
            )
    elif arg.kind == "float":
        value = float(current) if isinstance(current, (int, float)) else arg.default
        low = float(arg.minimum) if arg.minimum is not None else 0.0
        high = min(float(arg.maximum), 0.95) if arg.maximum is not None else 0.95  # a dropout rate stays below 1
        step = 0.01 if high <= 0.5 else 0.05  # augmentation's small shares (0.05 of a turn is 18°)
        st.slider(arg.label, low, high, value=min(max(value, low), high), step=step, **common)
    elif arg.kind == "choice":
        options = list(arg.choices)
        st.selectbox(arg.label, options, index=options.index(current) if current in options else 0, **common)
    elif arg.kind == "bool":
        st.checkbox(arg.label, value=bool(current), **common)
