"""The map of what a network learned, with the clicked example's image and prediction beside it.

Used by Results (one run) and Compare (two side by side). The map itself is computed and kept by core
(core.insight.embedding_map.run_map): PCA at once, t-SNE when asked.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.datasets import DatasetUnavailable, load_dataset
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
from dashboard.charts.embedding_map import embedding_figure, selected_point
from dashboard.charts.inspection import enlarge

EXPLANATION = (
    "Each dot is one test image, placed by what the chosen layer makes of it: images the network sees as "
    "alike land close together. Colours are the true classes, ✕ marks a mistake; tight, separate clusters "
    "mean the layer tells the classes apart, and mistakes sit where clusters overlap. PCA keeps the two "
    "directions along which the layer's values vary most; t-SNE keeps neighbours together (distances between "
    f"clusters mean little). At most {MAX_POINTS:,} test images, each class in its share."
)


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
    if image is not None and np.ndim(image) == 3:
        st.image(enlarge(image), caption=f"#{index} · class: {names[true] if true < len(names) else true}")
    verdict = "right" if true == predicted else "wrong"
    name = names[predicted] if predicted < len(names) else str(predicted)
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


def embedding_map_section(run, key: str, height: int = 460, side_by_side: bool = True) -> None:
    """The layer and method pickers, the map and the clicked example (beside it, or below when narrow)."""
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
    chart_key = f"{key}_chart"
    position = selected_point(session.widget_value(chart_key))
    position = position if position is not None and position < len(found) else None
    names = list((run.results or {}).get("class_names") or [])
    chart_col, detail_col = st.columns([3, 1]) if side_by_side else (st.container(), st.container())
    with chart_col:
        st.plotly_chart(
            embedding_figure(found, names, selected=position, height=height),
            key=chart_key,
            on_select="rerun",
            selection_mode="points",
            width="stretch",
        )
    with detail_col:
        if position is None:
            st.caption("Click a dot to see its image and the network's answer.")
        else:
            _example(run, found, position)
    wrong = int(found.mistakes.sum())
    st.caption(
        f"{len(found):,} test images mapped by {layer} with {METHODS[found.method]}"
        + ("" if found.regression else f", {wrong:,} of them mistakes")
        + "."
    )
