"""Compare: two runs' layers aligned side by side — added, removed and changed layers highlighted, with
each layer's output shape and parameter count on both sides."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.insight.arch_diff import ADDED, CHANGED, REMOVED, SAME, diff_architectures, shape_text, summary

STATUS_WORDS = {SAME: "same", CHANGED: "changed", ADDED: "added", REMOVED: "removed"}
STATUS_COLOURS = {
    ADDED: "background-color: rgba(76, 175, 80, 0.25)",
    REMOVED: "background-color: rgba(244, 67, 54, 0.22)",
    CHANGED: "background-color: rgba(255, 193, 7, 0.28)",
    SAME: "",
}


def _side(side) -> str:
    return f"{side.name} ({side.type})" if side is not None else ""


def _params(side) -> str:
    return f"{side.params:,}" if side is not None and side.params is not None else "—"


def _shapes(row) -> str:
    """One shape when both sides agree, else "left → right" (— for a side without the layer)."""
    left, right = shape_text(row.left) or "—", shape_text(row.right) or "—"
    return left if left == right else f"{left} → {right}"


def _params_text(row) -> str:
    left, right = _params(row.left), _params(row.right)
    if left == right:
        return left
    return f"{left} → {right} ({row.params_change:+,})"


def diff_frame(rows, left_id: str, right_id: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Change": STATUS_WORDS[r.status],
                f"Layer in {left_id}": _side(r.left),
                f"Layer in {right_id}": _side(r.right),
                "What changed": "; ".join(r.changed_settings),
                "Output shape": _shapes(r),
                "Params": _params_text(r),
            }
            for r in rows
        ]
    )


def architecture_diff(runs) -> None:
    """The diff of two of the given runs (the first two, or the two the user picks)."""
    st.header("How the models differ, layer by layer")
    if len(runs) < 2:
        st.caption("Pick a second run to see its layers next to this one's.")
        return
    ids = [r.id for r in sorted(runs, key=lambda r: r.created)]  # older on the left: what changed since
    by_id = {r.id: r for r in runs}
    left_id, right_id = ids[0], ids[1]
    if len(runs) > 2:
        c1, c2 = st.columns(2)
        left_id = c1.selectbox("Left", ids, index=0, key="arch_diff_left")
        right_id = c2.selectbox("Right", ids, index=1, key="arch_diff_right")
    rows = diff_architectures(by_id[left_id].spec, by_id[right_id].spec)
    counts = summary(rows)
    if not any(counts[k] for k in (ADDED, REMOVED, CHANGED)) and all(not r.shape_changed for r in rows):
        st.markdown(f"Runs {left_id} and {right_id} have the same layers.")
    else:
        st.markdown(
            f"From {left_id} to {right_id}: **{counts[ADDED]}** layer(s) added, **{counts[REMOVED]}** removed, "
            f"**{counts[CHANGED]}** changed; parameters {counts['params_change']:+,}."
        )
    frame = diff_frame(rows, left_id, right_id)
    styled = frame.style.apply(lambda row: [STATUS_COLOURS[rows[row.name].status]] * len(row), axis=1)
    st.dataframe(styled, hide_index=True, width="stretch", key="arch_diff_table")
    st.caption(
        "Green rows are layers only the right run has, red ones only the left run, yellow ones changed "
        "settings, or an Add or Concatenate that takes a different earlier layer (one only renumbered by a "
        "layer added above is the same); \"a → b\" is the left run's value, then the right one's. Layers are "
        "paired where the two models match; a changed layer above can change the shapes and parameters of the "
        "layers below it."
    )
