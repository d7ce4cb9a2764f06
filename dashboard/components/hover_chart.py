"""A Plotly figure drawn by Plotly.js in the page, showing a card (a small image and a few lines) beside
the point under the pointer, and telling Python which point was clicked.

st.plotly_chart shows only Plotly's own hover text, so the map of what a network learned draws its figure
(the same pure figure function, dashboard/charts/) with this Streamlit component (st.components.v2: its
JavaScript is hover_chart.js beside this file). Plotly.js is the plotly package's own copy, served by this
Streamlit server: the page needs no internet.

A click must cost little: the figure and the cards (about 1.7 MB at 2,000 dots) are one element whose
data never changes with what is opened, so Streamlit's message cache sends the browser a reference to it
again, not the bytes; what does change (the ring around the dot opened) is a second, small element, the
chart's ``overlay`` (hover_chart_overlay.js), whose traces the chart's script draws over its figure.

The cards' text reaches the page through ``user_text.script_literal``; the script sets it with
``textContent`` only, so a class name is shown as typed.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go
import streamlit as st
from plotly.io.json import to_json_plotly
from streamlit.components import v1 as components_v1

from core.data.pixels import to_uint8
from dashboard import session
from dashboard.components.user_text import script_literal

HERE = Path(__file__).resolve().parent
PLOTLY_JS_DIR = Path(plotly.__file__).resolve().parent / "package_data"  # plotly.min.js, matching plotly.py
PLOTLY_JS_COMPONENT = f"{__name__}.plotly_js"  # Streamlit names a component by the module declaring it
THUMBNAIL_PIXELS = 28  # the longest side of a hover thumbnail: 2,000 of them stay around a megabyte
CARD_PIXELS = 84  # drawn this big (pixels kept sharp)
GREY_LEVELS = 16  # a grey thumbnail is a 4-bit PNG: half the bytes of an 8-bit one, the same to the eye

CSS = f"""
.cnn-hover-chart {{ position: relative; }}
.cnn-hover-card {{
    position: absolute; z-index: 10; pointer-events: none; max-width: 16rem;
    padding: 0.4rem 0.55rem; border: 1px solid #b8bcc8; border-radius: 0.4rem;
    background: #ffffff; color: #111111; box-shadow: 0 2px 8px rgba(0, 0, 0, 0.18);
    font-size: 0.85rem; line-height: 1.3;
}}
.cnn-hover-card[hidden], .cnn-hover-card img[hidden], .cnn-hover-chart-problem[hidden] {{ display: none; }}
.cnn-hover-card img {{
    display: block; width: {CARD_PIXELS}px; height: {CARD_PIXELS}px; margin-bottom: 0.3rem;
    image-rendering: pixelated; border: 1px solid #dddddd;
}}
.cnn-hover-card-lines {{ overflow-wrap: anywhere; }}
"""
_chart = st.components.v2.component(
    "cnn_playground.hover_chart",
    css=CSS,
    js=(HERE / "hover_chart.js").read_text(encoding="utf-8"),
    isolate_styles=False,  # Plotly.js styles its charts from the document's head
)
_overlay = st.components.v2.component(
    "cnn_playground.hover_chart_overlay",
    js=(HERE / "hover_chart_overlay.js").read_text(encoding="utf-8"),
    isolate_styles=False,  # no content of its own: it hands traces to the chart's script
)


@dataclass(frozen=True)
class Card:
    """What hovering one point shows: its image as a data URL (or none), the image's alt text, its lines."""

    lines: tuple[str, ...]
    src: str | None = None
    alt: str = ""

    def payload(self) -> dict:
        return {
            "lines": [script_literal(line) for line in self.lines],
            "src": self.src,
            "alt": script_literal(self.alt),
        }


def thumbnail_url(image: np.ndarray, pixels: int = THUMBNAIL_PIXELS) -> str:
    """An H×W×C image (uint8 or 0..1 floats) as a small PNG (grey) or WebP (colour) data URL.

    Shrunk to at most ``pixels`` on its longest side; grey in 16 levels (a 4-bit PNG, about 600 bytes),
    colour as a WebP of quality 70 (400 to 900 bytes).
    """
    from PIL import Image, features

    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = to_uint8(image)
    grey = image.ndim == 2 or image.shape[-1] == 1
    picture = Image.fromarray(image.reshape(image.shape[:2]) if grey else image[..., :3])
    picture.thumbnail((pixels, pixels), Image.Resampling.BOX)
    buffer = io.BytesIO()
    if grey:
        levels = (np.asarray(picture, dtype=np.uint16) * GREY_LEVELS // 256).astype(np.uint8)
        paletted = Image.fromarray(levels, "P")
        paletted.putpalette([round(i * 255 / (GREY_LEVELS - 1)) for i in range(GREY_LEVELS) for _ in range(3)])
        paletted.save(buffer, "PNG", bits=4, optimize=True)
        kind = "png"
    elif features.check("webp"):  # Pillow's wheels have it; a third of a JPEG's bytes at this size
        picture.save(buffer, "WEBP", quality=70)
        kind = "webp"
    else:
        picture.save(buffer, "JPEG", quality=80)
        kind = "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def plotly_js_url() -> str:
    """Where this server serves the plotly package's plotly.min.js: its folder is registered (for the session's
    runtime) as the files of a component, which Streamlit serves at /component/<name>/."""
    served = components_v1.declare_component("plotly_js", path=str(PLOTLY_JS_DIR))
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{'/' + base if base else ''}/component/{served.name}/plotly.min.js"


def payload(figure: go.Figure, cards: list[Card], revision: str) -> dict:
    """What the component is given: the figure as Plotly's JSON, the cards by position, Plotly.js's address."""
    return {
        "figure": json.loads(figure.to_json()),
        "cards": [card.payload() for card in cards],
        "plotly": plotly_js_url(),
        "revision": revision,
    }


def overlay_payload(chart_key: str, traces: Sequence[go.Scatter]) -> dict:
    """What the overlay element is given: the key of the chart to draw over and its traces (Plotly's JSON)."""
    return {"chart": chart_key, "traces": [json.loads(to_json_plotly(trace.to_plotly_json())) for trace in traces]}


def clicked_position(state, count: int) -> int | None:
    """The position the chart's script sent for the point just clicked (its trigger ``{"clicked": n}``),
    or None: no click in this rerun, or not a position of the ``count`` points drawn now."""
    position = state.get("clicked") if hasattr(state, "get") else None
    if isinstance(position, bool) or not isinstance(position, int):
        return None
    return position if 0 <= position < count else None


def hover_chart(
    figure: go.Figure,
    cards: list[Card],
    key: str,
    on_click: Callable[[], None] | None = None,
    overlay: Sequence[go.Scatter] = (),
) -> int | None:
    """Draw ``figure``; hovering a point whose customdata[0] is a position in ``cards`` shows that card.

    ``overlay``: traces drawn over the figure (the ring around the point opened), sent apart from it: keep
    ``figure`` and ``cards`` the same from one rerun to the next, and a rerun costs only the overlay's bytes.
    Returns the position of the point whose click started this rerun, else None; ``on_click`` runs before
    that rerun, at every click, the same point again too (read the position there with :func:`clicked`).
    """
    with st.container(gap=None):  # the overlay takes no room: no gap under the chart for it either
        result = _chart(
            key=key,
            data=payload(figure, cards, revision=key),
            on_clicked_change=on_click or (lambda: None),
            height="content",
        )
        _overlay(key=f"{key}_overlay", data=overlay_payload(key, overlay), height="content")
    return clicked_position(result, len(cards))


def clicked(key: str, count: int) -> int | None:
    """In ``on_click``: the position of the point just clicked on the hover chart with this key."""
    return clicked_position(session.widget_value(key), count)
