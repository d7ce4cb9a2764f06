"""Inside the network: "How this number was computed" — one value of a convolution, pooling, Dense, Add or
Concatenate layer worked out from its inputs and the model's own weights, next to the value the network
computed (an Add or Concatenate of feature maps or of flat vectors)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.insight.arithmetic import (
    NotExplainable,
    add_arithmetic,
    concat_arithmetic,
    conv_arithmetic,
    conv_result,
    dense_arithmetic,
    dense_result,
    explainable_layers,
    layer_values,
    pool_arithmetic,
    reads_the_image,
    receptive_field,
)
from dashboard import session
from dashboard.charts import arithmetic as charts
from dashboard.charts.inspection import selected_cell
from dashboard.components.user_text import markdown_literal
from dashboard.session import keys

SHOWN_CHANNELS = 3  # input channels drawn as number grids (the biggest contributors)
TOP_INPUTS = 8
DIGITS = 4
ARROWS = (("←", 0, -1, "left"), ("↑", -1, 0, "up"), ("↓", 1, 0, "down"), ("→", 0, 1, "right"))
KIND_WORDS = {
    "Conv2D": "convolution",
    "MaxPooling2D": "max pooling",
    "AveragePooling2D": "average pooling",
    "Dense": "Dense",
    "Add": "add: a skip connection",
    "Concatenate": "concatenate: a skip connection",
}


def _fmt(value: float) -> str:
    return f"{value:.{DIGITS}f}"


def _within(key: str, count: int) -> None:
    """Keep a kept position or filter number below ``count``: another run's layer of the same name can
    be smaller, and a number field refuses a value above its maximum."""
    value = session.widget_value(key)
    if value is not None and value >= count:
        session.set_widget_value(key, count - 1)


def _step(row_key: str, col_key: str, d_row: int, d_col: int, height: int, width: int) -> None:
    """An arrow button: move the position one cell, staying on the map."""
    row = min(max(int(session.widget_value(row_key, 0)) + d_row, 0), height - 1)
    col = min(max(int(session.widget_value(col_key, 0)) + d_col, 0), width - 1)
    session.set_widget_value(row_key, row)
    session.set_widget_value(col_key, col)


def _position(layer_name: str, feature_map: np.ndarray) -> tuple[int, int]:
    """The chosen (row, column): from a click on the map, the arrows or the number fields; at first, where
    the map is strongest (the most interesting number to explain)."""
    height, width = feature_map.shape
    row_key, col_key, map_key = (
        keys.Arithmetic.row(layer_name),
        keys.Arithmetic.col(layer_name),
        keys.Arithmetic.map(layer_name),
    )
    clicked = selected_cell(session.widget_value(map_key))
    if session.is_new_click(map_key, clicked):
        session.set_widget_value(row_key, min(clicked[0], height - 1))
        session.set_widget_value(col_key, min(clicked[1], width - 1))
    strongest = np.unravel_index(int(np.argmax(feature_map)), feature_map.shape)
    _within(row_key, height)
    _within(col_key, width)
    session.default_widget_value(row_key, int(strongest[0]))
    session.default_widget_value(col_key, int(strongest[1]))
    row_col, col_col, *arrow_cols = st.columns([1.2, 1.2, 0.5, 0.5, 0.5, 0.5], vertical_alignment="bottom")
    row = row_col.number_input(f"Row (0 to {height - 1})", 0, height - 1, key=row_key)
    col = col_col.number_input(f"Column (0 to {width - 1})", 0, width - 1, key=col_key)
    for column, (label, d_row, d_col, name) in zip(arrow_cols, ARROWS):
        column.button(
            label,
            key=f"arith_{name}_{layer_name}",
            on_click=_step,
            args=(row_key, col_key, d_row, d_col, height, width),
            help=f"Move the window one step {name}",
            width="stretch",
        )
    return int(row), int(col)


def _chosen_map(layer_name: str, layer_output: np.ndarray, word: str) -> tuple[int, np.ndarray, int, int]:
    """The field that picks one filter or channel (``word``) of the layer's output, and the position chosen
    on its map: (number, map, row, column)."""
    count = layer_output.shape[-1]
    key = keys.Arithmetic.filter(layer_name)
    _within(key, count)
    number = int(st.number_input(f"{word} (0 to {count - 1})", 0, count - 1, key=key))
    feature_map = layer_output[..., number]
    row, col = _position(layer_name, feature_map)
    return number, feature_map, row, col


def _map_and_window(
    layer_name: str,
    feature_map,
    row,
    col,
    input_values,
    top,
    left,
    height,
    width,
    input_caption,
    field=None,
    image=None,
):
    """The output to click, the window on the layer's input and, for a deeper layer, the part of the
    image (``field``: top, left, bottom, right) the chosen value depends on."""
    columns = st.columns(3 if field is not None else 2, gap="medium")
    with columns[0]:
        st.markdown("**The output** — click a square to explain it")
        st.plotly_chart(
            charts.clickable_map_figure(feature_map, (row, col)),
            key=keys.Arithmetic.map(layer_name),
            on_select="rerun",
            selection_mode="points",
        )
    with columns[1]:
        st.markdown(f"**{input_caption}** — the window in red")
        st.plotly_chart(charts.window_figure(input_values, top, left, height, width), key=f"arith_window_{layer_name}")
    if field is not None:
        f_top, f_left, f_bottom, f_right = field
        with columns[2]:
            st.markdown("**The image** — the part this value sees")
            st.plotly_chart(
                charts.window_figure(image.mean(axis=-1), f_top, f_left, f_bottom - f_top + 1, f_right - f_left + 1),
                key=f"arith_field_{layer_name}",
            )


def _result_metrics(worked_out: float, network: float) -> None:
    left, right = st.columns(2)
    left.metric("Worked out here", _fmt(worked_out))
    right.metric("The network's value", _fmt(network))
    if abs(worked_out - network) < 1e-4:
        st.caption("The same number: this is exactly how the network computed it.")
    else:  # only float rounding in a very deep sum could get here
        st.caption(f"They differ by {abs(worked_out - network):.2g}: rounding in the network's own arithmetic.")


def _conv_view(model, image, layer, values) -> None:
    layer_input, layer_output = values
    filter_index, feature_map, row, col = _chosen_map(layer.name, layer_output, "Filter")
    step = conv_arithmetic(model, image, layer.name, filter_index, row, col)
    kh, kw, channels = step.kernel.shape
    shares = step.channel_sums()
    shown = sorted(np.argsort(-np.abs(shares), kind="stable")[:SHOWN_CHANNELS].tolist())
    strongest = int(np.argmax(np.abs(shares)))
    first_layer = reads_the_image(model, layer)
    drawn = layer_input.mean(axis=-1) if first_layer else layer_input[..., strongest]
    caption = "The image" if first_layer else f"Its input, channel {strongest} (the biggest share)"
    field = None if first_layer else receptive_field(model, layer.name, row, col)
    _map_and_window(layer.name, feature_map, row, col, drawn, step.top, step.left, kh, kw, caption, field, image)
    st.markdown(
        f"Filter {filter_index} lays its {kh}×{kw} kernel on the input at row {step.top}, column {step.left}"
        + (" (partly over the zero padding)" if not step.inside.all() else "")
        + f", stride {step.stride[0]}×{step.stride[1]}, over all {channels} input channel(s). Each "
        ":blue[input value] is multiplied by the :orange[weight] on top of it, and the :green[products] are added up."
    )
    for channel in shown:
        st.markdown(
            f"Channel {channel}: :blue[input patch] × :orange[kernel weights] = :green[products] "
            f"(sum {_fmt(float(shares[channel]))})"
        )
        patch_col, kernel_col, product_col = st.columns(3)
        patch_col.plotly_chart(
            charts.numbers_figure(step.patch[..., channel], step.inside, signed=False),
            key=f"arith_patch_{layer.name}_{channel}",
        )
        kernel_col.plotly_chart(
            charts.numbers_figure(step.kernel[..., channel]), key=f"arith_kernel_{layer.name}_{channel}"
        )
        product_col.plotly_chart(
            charts.numbers_figure(step.products[..., channel], step.inside, digits=3),
            key=f"arith_products_{layer.name}_{channel}",
        )
    if channels > len(shown):
        rest = float(shares.sum() - shares[shown].sum())
        st.caption(f"The other {channels - len(shown)} channels' products add up to {_fmt(rest)}.")
    result = conv_result(step, model)
    st.markdown(
        f"Sum of all {step.products.size} :green[products] = :green[{_fmt(step.weighted_sum)}]  \n"
        f"\\+ :violet[bias {_fmt(step.bias)}] = **{_fmt(step.pre_activation)}**  \n"
        f"{step.activation}({_fmt(step.pre_activation)}) = **{_fmt(result)}**"
        + (" (ReLU keeps a positive number, turns a negative one into 0)" if step.activation == "relu" else "")
    )
    _result_metrics(result, step.model_value)


def _pool_view(model, image, layer, values) -> None:
    layer_input, layer_output = values
    channel, feature_map, row, col = _chosen_map(layer.name, layer_output, "Channel")
    step = pool_arithmetic(model, image, layer.name, channel, row, col)
    ph, pw = step.window.shape
    _map_and_window(
        layer.name,
        feature_map,
        row,
        col,
        layer_input[..., channel],
        step.top,
        step.left,
        ph,
        pw,
        f"Its input, channel {channel}",
        receptive_field(model, layer.name, row, col),
        image,
    )
    st.plotly_chart(charts.pool_window_figure(step.window, step.winner), key=f"arith_pool_{layer.name}")
    inside = int(step.inside.sum())
    if step.type == "MaxPooling2D":
        r, c = step.winner
        st.markdown(
            f"Max pooling keeps the largest of the {inside} values in its {ph}×{pw} window: "
            f"**{_fmt(step.value)}** (outlined, row {r}, column {c} of the window); the others are dropped."
        )
    else:
        st.markdown(
            f"Average pooling adds the {inside} values in its {ph}×{pw} window and divides by {inside}: "
            f"{_fmt(float(np.nansum(step.window)))} / {inside} = **{_fmt(step.value)}**"
            + (" (padding cells are left out)" if inside < ph * pw else "")
        )
    _result_metrics(step.value, step.model_value)


def _add_view(model, image, layer, values) -> None:
    inputs, layer_output = values
    channel, feature_map, row, col = _chosen_map(layer.name, layer_output, "Channel")
    step = add_arithmetic(model, image, layer.name, channel, row, col)
    _map_and_window(
        layer.name,
        feature_map,
        row,
        col,
        inputs[-1][..., channel],
        row,
        col,
        1,
        1,
        f"The shortcut's value ({step.sources[-1]}), channel {channel}",
        receptive_field(model, layer.name, row, col),
        image,
    )
    paths = ["the main path", *(["the shortcut"] * (len(step.values) - 1))]
    st.markdown(
        "An Add layer (a skip connection) adds its inputs number by number: at the same row, column and channel, "
        "the value the main path computed plus the value the shortcut brings from earlier in the network."
    )
    st.markdown(
        "  \n".join(
            f"{path} ({source}): :blue[{_fmt(value)}]" for path, source, value in zip(paths, step.sources, step.values)
        )
        + f"  \nSum = **{_fmt(step.value)}**"
    )
    _result_metrics(step.value, step.model_value)


def _input_label(model, layer, index: int) -> str:
    """Where a Dense input came from: (row, column, channel) of the map a Flatten just above unrolled."""
    position = model.layers.index(layer)
    above = model.layers[position - 1] if position > 0 else None
    if above is not None and type(above).__name__ == "Flatten" and len(above.input.shape) == 4:
        _, height, width, channels = above.input.shape
        r, rest = divmod(index, width * channels)
        c, k = divmod(rest, channels)
        return f"{index} (row {r}, column {c}, channel {k})"
    return str(index)


def _dense_view(model, image, layer, class_names) -> None:
    units = int(layer.units)
    is_output = layer is model.layers[-1] and units == len(class_names)
    probabilities = layer_values(model, image)[layer.name][1]
    if is_output:
        unit = st.selectbox(
            "Class",
            range(units),
            index=int(np.argmax(probabilities)),
            format_func=lambda u: class_names[u],
            key=keys.Arithmetic.unit(layer.name),
        )
    else:
        _within(keys.Arithmetic.unit(layer.name), units)
        unit = st.number_input(f"Unit (0 to {units - 1})", 0, units - 1, key=keys.Arithmetic.unit(layer.name))
    step = dense_arithmetic(model, image, layer.name, int(unit))
    top = step.top_inputs(TOP_INPUTS)
    st.markdown(
        f"This unit multiplies each of its {len(step.inputs):,} :blue[inputs] by its own :orange[weight] and adds "
        f"the :green[products] up. The {len(top)} inputs that moved the sum most:"
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Input": [_input_label(model, layer, i) for i in top],
                "Value": [round(float(step.inputs[i]), DIGITS) for i in top],
                "Weight": [round(float(step.weights[i]), DIGITS) for i in top],
                "Product": [round(float(step.products[i]), DIGITS) for i in top],
            }
        ),
        hide_index=True,
        key=f"arith_dense_{layer.name}",
    )
    result = dense_result(step, model)
    st.markdown(
        f"Those {len(top)} products: :green[{_fmt(float(step.products[top].sum()))}], the other "
        f"{len(step.inputs) - len(top):,}: :green[{_fmt(step.rest_sum(TOP_INPUTS))}]  \n"
        f"Sum :green[{_fmt(float(step.products.sum()))}] + :violet[bias {_fmt(step.bias)}] = **{_fmt(step.pre_activation)}**"
        + (
            f" — the score of **{markdown_literal(class_names[unit])}**"
            if step.activation == "softmax" and is_output
            else f"  \n{step.activation}({_fmt(step.pre_activation)}) = **{_fmt(result)}**"
        )
    )
    if step.activation == "softmax":
        names = class_names if is_output else [str(u) for u in range(units)]
        st.markdown(
            "Softmax turns every class's score into a probability: e^score divided by the sum of e^score over "
            f"all classes. For {markdown_literal(names[unit])}: **{100 * result:.2f} %**."
        )
        st.plotly_chart(charts.logits_figure(step.logits, step.probabilities, names, int(unit)), key="arith_logits")
    _result_metrics(result, step.model_value)


def _value_index(layer_name: str, layer_output: np.ndarray) -> int:
    """The field that picks one value of a flat vector; at first the largest one (by size)."""
    count = layer_output.shape[-1]
    key = f"arith_unit_{layer_name}"
    _within(key, count)
    session.default_widget_value(key, int(np.argmax(np.abs(layer_output))))
    return int(st.number_input(f"Value (0 to {count - 1})", 0, count - 1, key=key))


def _flat_add_view(model, image, layer, values) -> None:
    """An Add of flat vectors (e.g. two Dense layers' outputs): one index of each, added."""
    index = _value_index(layer.name, values[1])
    step = add_arithmetic(model, image, layer.name, index)
    paths = ["the main path", *(["the shortcut"] * (len(step.values) - 1))]
    st.markdown(
        f"An Add layer (a skip connection) adds its inputs number by number: value {index} of the main path's "
        f"output plus value {index} of the output the shortcut brings from earlier in the network."
    )
    st.markdown(
        "  \n".join(
            f"{path} ({source}), value {index}: :blue[{_fmt(value)}]"
            for path, source, value in zip(paths, step.sources, step.values)
        )
        + f"  \nSum = **{_fmt(step.value)}**"
    )
    _result_metrics(step.value, step.model_value)


def _concat_view(model, image, layer, values) -> None:
    """A Concatenate: its inputs side by side; the chosen value is one input's own, copied."""
    inputs, layer_output = values
    flat = layer_output.ndim == 1
    if flat:
        channel, row, col = _value_index(layer.name, layer_output), None, None
    else:
        channels = layer_output.shape[-1]
        _within(f"arith_filter_{layer.name}", channels)
        channel = int(
            st.number_input(f"Channel (0 to {channels - 1})", 0, channels - 1, key=f"arith_filter_{layer.name}")
        )
        row, col = _position(layer.name, layer_output[..., channel])
    step = concat_arithmetic(model, image, layer.name, channel, row, col)
    source = step.sources[step.source]
    if not flat:
        _map_and_window(
            layer.name,
            layer_output[..., channel],
            row,
            col,
            inputs[step.source][..., step.source_channel],
            row,
            col,
            1,
            1,
            f"{source}, channel {step.source_channel}",
            receptive_field(model, layer.name, row, col),
            image,
        )
    unit = "values" if flat else "channels"
    paths = ["the main path", *(["the shortcut"] * (len(step.sources) - 1))]
    parts = [
        f"{unit} {first} to {last} are {path}'s ({name})"
        for (first, last), path, name in zip(step.ranges(), paths, step.sources)
    ]
    where = "" if flat else f" at row {row}, column {col}"
    st.markdown(
        "A Concatenate layer (a skip connection) puts its inputs side by side, adding nothing up: "
        + "; ".join(parts)
        + f". {unit[:-1].capitalize()} {channel} is {paths[step.source]}'s {unit[:-1]} {step.source_channel}"
        f"{where}, copied as it is: **{_fmt(step.value)}**"
    )
    _result_metrics(step.value, step.model_value)


def how_this_number_was_computed(model, image: np.ndarray, class_names) -> None:
    """The section: pick a layer, a filter and a position; see the arithmetic with this model's numbers."""
    st.header("How this number was computed")
    st.caption(
        "Pick a layer and a position: the numbers below are this network's own weights and this image's "
        "values, and the result is exactly the value in the layer's output."
    )
    layers = explainable_layers(model)
    if not layers:
        st.info("This model has no convolution, pooling or Dense layer to explain.")
        return
    by_name = {layer.name: layer for layer in layers}
    name = st.selectbox(
        "Layer",
        list(by_name),
        format_func=lambda n: f"{n} ({KIND_WORDS.get(type(by_name[n]).__name__, type(by_name[n]).__name__)})",
        key="arith_layer",
    )
    layer = by_name[name]
    kind = type(layer).__name__
    try:
        if kind == "Dense":
            _dense_view(model, image, layer, class_names)
        elif kind == "Conv2D":
            _conv_view(model, image, layer, layer_values(model, image)[name])
        elif kind == "Add":
            values = layer_values(model, image)[name]
            (_flat_add_view if values[1].ndim == 1 else _add_view)(model, image, layer, values)
        elif kind == "Concatenate":
            _concat_view(model, image, layer, layer_values(model, image)[name])
        else:
            _pool_view(model, image, layer, layer_values(model, image)[name])
    except NotExplainable as error:
        st.info(markdown_literal(error))
