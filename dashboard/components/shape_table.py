"""A model's summary as Keras prints it: each layer's output shape and parameters, the total and the training memory."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.model.spec import Analysis, format_shape
from dashboard.components.user_text import markdown_literal


def shape_table(analysis: Analysis) -> pd.DataFrame:
    """Layer, output shape and params, as in Keras' model summary."""
    rows = [
        {
            "Layer (type)": ("⚠️ " if analysis.problems_at(r.index) else "") + f"{r.name} ({r.type})",
            "Output shape": format_shape(r.output_shape),
            "Params": "—" if r.params is None else f"{r.params:,}",
        }
        for r in analysis.layers
    ]
    return pd.DataFrame(rows, columns=["Layer (type)", "Output shape", "Params"])


def markdown_table(frame: pd.DataFrame) -> str:
    """A Markdown table of a small frame (numbers right-aligned, as in Keras' summary)."""

    cell = markdown_literal  # a layer's name is the spec's, which a share link may carry

    numeric = [frame[c].astype(str).str.match(r"^[\d,—.]+$").all() for c in frame.columns]
    lines = [
        "| " + " | ".join(map(cell, frame.columns)) + " |",
        "| " + " | ".join("---:" if right else "---" for right in numeric) + " |",
    ]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def show_shape_table(analysis: Analysis, key: str) -> None:
    # Markdown, not a data grid or st.table: both need the browser to load Arrow's large scripts, and a
    # model summary has nothing to sort or scroll.
    with st.container(key=key):
        st.markdown(markdown_table(shape_table(analysis)))
    if not analysis.ok:  # the layers after a problem have no parameter count: a sum would be a wrong, partial total
        st.markdown("**Total params: —** (known once every layer fits: fix the problems first)")
        return
    memory = analysis.memory
    if memory is None:
        st.markdown(f"**Total params: {analysis.total_params:,}**")
        return
    st.markdown(
        f"**Total params: {analysis.total_params:,}** · **Training memory: about {format_megabytes(memory.total_mb)}** "
        f"at batch size {memory.batch_size:,}",
        help="An estimate of the memory one training step needs: every layer's output for the whole batch "
        "and its gradient, plus the weights, their gradients and the optimizer's state (4 bytes per number). "
        "A smaller batch size or smaller feature maps need less.",
    )


def format_megabytes(mb: float) -> str:
    return f"{mb / 1024:,.1f} GB" if mb >= 1024 else f"{mb:,.0f} MB" if mb >= 10 else f"{mb:,.1f} MB"
