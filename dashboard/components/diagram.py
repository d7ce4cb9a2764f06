"""The architecture as a picture (Build and Results), with SVG and PNG downloads."""

from __future__ import annotations

from functools import partial

import streamlit as st

from core.insight.compare import describe_architecture
from core.model.diagram import build_diagram, to_png, to_svg


def architecture_picture(spec: dict, title: str, key: str, file_stem: str = "architecture") -> None:
    """The drawing of ``spec`` and its two downloads; ``key`` keeps the widgets of two pages apart."""
    diagram = build_diagram(spec, title)
    svg = to_svg(diagram)
    st.image(svg, width="content", alt=f"The network as a picture: {describe_architecture(spec)}")
    st.caption(
        "Each block is what a layer outputs: its height and depth follow the feature maps' size, its thickness "
        "the number of channels. Bars are flat lists of numbers (Flatten, Dense), taller for longer lists."
    )
    svg_col, png_col = st.columns(2)
    svg_col.download_button(
        "Picture as SVG",
        svg,
        file_name=f"{file_stem}.svg",
        mime="image/svg+xml",
        key=f"{key}_svg",
        icon=":material/download:",
        on_click="ignore",
        width="stretch",
    )
    png_col.download_button(
        "Picture as PNG",
        partial(to_png, diagram),
        file_name=f"{file_stem}.png",
        mime="image/png",
        key=f"{key}_png",
        icon=":material/download:",
        on_click="ignore",
        width="stretch",
    )
