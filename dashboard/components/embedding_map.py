"""The map of what a network learned: hovering a dot shows its image (a thumbnail) and the network's answer,
clicking it (or choosing it in the list under the map, from the keyboard) opens it beside the map.

Used by Results (one run) and Compare (two side by side). The map itself is computed and kept by core
(core.insight.embedding_map.run_map): PCA at once, t-SNE when asked. The figure is the pure
dashboard.charts.embedding_map.embedding_figure, drawn by the hover chart (dashboard/components/hover_chart.py).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.datasets import DatasetUnavailable, load_dataset
from core.data.names import display_names
from core.insight.embedding_map import (
    MAX_POINTS,
    METHODS,
    MapUnavailable,
    default_layer,
    mappable_layers,
    run_map,
    saved_map,
)
from dashboard import session
from dashboard.charts.embedding_map import embedding_figure, selected_ring
from dashboard.charts.inspection import enlarge
from dashboard.components.hover_chart import Card, clicked, hover_chart, thumbnail_url
from dashboard.components.user_text import markdown_literal

EXPLANATION = (
    "Each dot is one test image, placed by what the chosen layer makes of it: images the network sees as "
    "alike land close together. Colours are the true classes, ✕ marks a mistake; tight, separate clusters "
    "mean the layer tells the classes apart, and mistakes sit where clusters overlap. PCA keeps the two "
    "directions along which the layer's values vary most; t-SNE keeps neighbours together (distances between "
    f"clusters mean little). At most {MAX_POINTS:,} test images, each class in its share."
)


def _class_name(names: list[str], index: int) -> str:
    return names[index] if 0 <= index < len(names) else str(index)


def _test_images(run) -> np.ndarray | None:
    """The run's test images (H×W×C each), or None for a table or a data set no longer here."""
    try:
        images = load_dataset(run.dataset).x_test
    except DatasetUnavailable:
        return None
    return images if np.ndim(images) == 4 else None


@st.cache_data(max_entries=8, show_spinner=False)
def _thumbnails(images: np.ndarray) -> list[str]:
    """The hover thumbnails of these images (kept: the map is drawn again on every rerun)."""
    return [thumbnail_url(image) for image in images]


def _cards(run, found, names: list[str]) -> list[Card]:
    """What hovering each dot shows: its thumbnail (an image data set), its number and the network's answer."""
    if found.regression:
        return [
            Card(
                (f"Test row #{int(i)}", f"true {float(t):,.4g}", f"predicted {float(p):,.4g}", f"error {float(e):,.4g}")
            )
            for i, t, p, e in zip(found.indices, found.y_true, found.predicted, found.confidence)
        ]
    images = _test_images(run)
    indices = np.asarray(found.indices, dtype=int)
    thumbnails = (
        _thumbnails(np.ascontiguousarray(images[indices]))
        if images is not None and len(indices) and indices.max() < len(images)
        else [None] * len(indices)
    )
    cards = []
    for index, true, predicted, sure, src in zip(indices, found.y_true, found.predicted, found.confidence, thumbnails):
        true_name, predicted_name = _class_name(names, int(true)), _class_name(names, int(predicted))
        verdict = "right" if true == predicted else "wrong"
        cards.append(
            Card(
                (
                    f"#{index} · class: {true_name}",
                    f"predicted: {predicted_name} ({100 * float(sure):.0f} %), {verdict}",
                ),
                src=src,
                alt=f"Test image #{index}, class {true_name}",
            )
        )
    return cards


def _choices(found, names: list[str]) -> tuple[list[int], dict[int, str]]:
    """The map's points for the list under it, mistakes first, each labelled with its number and answer."""
    order = sorted(range(len(found)), key=lambda p: (not bool(found.mistakes[p]), int(found.indices[p])))
    labels = {}
    for position in order:
        index = int(found.indices[position])
        if found.regression:
            labels[position] = f"#{index} · true {float(found.y_true[position]):,.4g}"
            continue
        true, predicted = int(found.y_true[position]), int(found.predicted[position])
        verdict = "right" if true == predicted else "wrong"
        labels[position] = (
            f"#{index} · class {_class_name(names, true)} · predicted {_class_name(names, predicted)} ({verdict})"
        )
    return order, labels


def _example(run, found, position: int) -> None:
    """The clicked example: its image (or a table's numbers) and what the network answered."""
    index = int(found.indices[position])
    names = list((run.results or {}).get("class_names") or [])
    if found.regression:
        st.text(
            f"Test row #{index}\ntrue {float(found.y_true[position]):,.4g}\n"
            f"predicted {float(found.predicted[position]):,.4g}\nerror {float(found.confidence[position]):,.4g}"
        )
        return
    true, predicted = int(found.y_true[position]), int(found.predicted[position])
    try:
        image = load_dataset(run.dataset).x_test[index]
    except (DatasetUnavailable, IndexError):
        image = None
    true_name, name = _class_name(names, true), _class_name(names, predicted)
    verdict = "right" if true == predicted else "wrong"
    if image is not None and np.ndim(image) == 3:
        st.image(
            enlarge(image),
            caption=f"#{index} · class: {markdown_literal(true_name)}",
            alt=f"Test image #{index}, class {true_name}, predicted as {name}",  # an attribute: shown literally
        )
    st.text(f"predicted: {name}\n{100 * float(found.confidence[position]):.0f} % sure · {verdict}")


def _compute(run, layer: str, method: str, key: str):
    """The kept map, or a new one (t-SNE only after a click: it takes tens of seconds)."""
    store = session.manager().store
    if method == "tsne" and saved_map(store, run.id, layer, method) is None:
        st.caption(f"t-SNE takes about half a minute for {MAX_POINTS:,} images; it is kept for next time.")
        if not st.button("Compute the t-SNE map", key=f"{key}_tsne", icon=":material/scatter_plot:"):
            return None
        with st.status(f"Placing up to {MAX_POINTS:,} test images with t-SNE…", expanded=False) as status:
            found = run_map(store, run, layer, method)
            status.update(label=f"t-SNE placed {len(found):,} test images.", state="complete")
        return found
    with st.spinner("Mapping the test images…"):
        return run_map(store, run, layer, method)


@st.fragment
def embedding_map_section(run, key: str, height: int = 460, side_by_side: bool = True) -> None:
    """The layer and method pickers, the map and the clicked example (beside it, or below when narrow).

    A fragment: a click on the map, a pick from its list or another layer reruns only this section, so the
    page is not sent again around it (and the map's figure and thumbnails are not either: see hover_chart)."""
    if run.active:
        st.caption("The map appears when the run has finished.")
        return
    layers = mappable_layers(run.spec)
    if not layers:
        st.info("This model has no layer before its output whose values could be mapped.")
        return
    by_name = {m.name: m for m in layers}
    names = list(by_name)
    layer_col, method_col = st.columns([3, 2])
    layer = layer_col.selectbox(
        "Layer to map",
        names,
        index=names.index(default_layer(run.spec)),
        format_func=lambda n: by_name[n].label(),
        key=f"{key}_layer",
        help="By default the layer before the output: the network's last summary of an image before it answers.",
    )
    method = method_col.radio("Method", list(METHODS), format_func=METHODS.get, horizontal=True, key=f"{key}_method")
    try:
        found = _compute(run, layer, method, key)
    except MapUnavailable as error:
        st.info(str(error))
        return
    if found is None:
        return
    chart_key, pick_key = f"{key}_chart", f"{key}_pick"
    opened = session.widget_value(pick_key)  # the image opened: by a click on the map or from the list
    position = opened if isinstance(opened, int) and 0 <= opened < len(found) else None
    if opened is not None and position is None:  # of a map no longer shown
        session.set_widget_value(pick_key, None)
    names = list((run.results or {}).get("class_names") or [])
    shown_names = display_names(names)
    chart_col, detail_col = st.columns([3, 1]) if side_by_side else (st.container(), st.container())
    with chart_col:
        hover_chart(
            embedding_figure(found, names, height=height),  # the same at every click: sent once (cached)
            _cards(run, found, shown_names),
            key=chart_key,
            on_click=lambda: session.set_widget_value(pick_key, clicked(chart_key, len(found))),
            overlay=selected_ring(found, position),  # what a click changes: a few hundred bytes
        )
        order, labels = _choices(found, names)
        st.selectbox(
            "Open a test image of the map",
            order,
            index=None,
            format_func=labels.get,
            key=pick_key,
            placeholder="Type a number or a class, or click a dot",
            filter_mode="contains",  # "#3 ·" finds #3 alone (fuzzy matching ranked #37 first)
            help="The same as clicking its dot: mistakes are listed first.",
        )
    with detail_col, st.container(key=f"{key}_opened"):
        if position is None:
            st.caption("Point at a dot to see its image; click it to open it with the network's answer.")
        else:
            _example(run, found, position)
    wrong = int(found.mistakes.sum())
    st.caption(
        f"{len(found):,} test images mapped by {layer} with {METHODS[found.method]}"
        + ("" if found.regression else f", {wrong:,} of them mistakes")
        + "."
    )
