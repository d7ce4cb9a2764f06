"""The one way text a user wrote (a learner's name, a challenge's title, a run's, an experiment's, a data
set's or a class's name) reaches a page or a chart: shown literally, never read as Markdown or HTML.

- ``markdown_literal`` for everything Streamlit reads as Markdown: st.markdown, st.caption, st.info and
  the other messages, st.toast, headers, and the labels of widgets, expanders, tabs and metrics.
  Not for st.selectbox/multiselect options, st.dataframe cells or text inputs: those show plain text.
- ``html_literal`` for the few places that write HTML (``unsafe_allow_html``): only this module's
  ``html_block`` uses it, so every other page and part leaves HTML alone.
- ``plotly_literal`` for Plotly's labels: trace names (legends), hover text, tick and axis texts,
  annotations and titles, which Plotly reads as a subset of HTML (<b>, <a href>, <br>...).
- ``script_literal`` for text a component's own script shows (the map's hover cards,
  ``hover_chart.js``): the script sets it with ``textContent`` or an attribute, never as HTML.

A unit test (tests/unit/test_user_text.py) checks that no other dashboard file allows HTML, and that no
component script writes HTML (innerHTML, outerHTML, insertAdjacentHTML, document.write).
"""

from __future__ import annotations

import html
import re

from core.text import WORD_JOINER, markdown_literal

__all__ = ["markdown_literal", "html_literal", "plotly_literal", "script_literal", "html_block"]

_SHORTCODE_START = re.compile(r":(?=[\w+-])")


def html_literal(text: object) -> str:
    """``text`` as HTML text (``&``, ``<``, ``>`` and quotes as entities), for HTML the page writes itself.

    Streamlit still reads its ``:material/icon:`` and ``:emoji:`` shortcodes inside that HTML: an invisible
    word joiner after a shortcode's first ":" keeps them text, as ``markdown_literal`` does.
    """
    return _SHORTCODE_START.sub(":" + WORD_JOINER, html.escape(str(text), quote=True))


def plotly_literal(text: object) -> str:
    """``text`` for a Plotly label: ``&``, ``<`` and ``>`` as the entities Plotly turns back into characters,
    so ``<b>`` or ``<a href=...>`` in a name shows as typed instead of bold or as a link."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def script_literal(text: object) -> str:
    """``text`` for a component's script, which shows it as text (``textContent``, an ``alt`` attribute)
    and never as HTML: a plain string of it, every character kept (nothing in it is read as markup there)."""
    return str(text)


def html_block(markup: str) -> None:
    """Write HTML the app made itself (large type for the projector); every user text in ``markup`` must
    have gone through ``html_literal``."""
    import streamlit as st  # here, so the pure Plotly charts can import this module without Streamlit

    st.markdown(markup, unsafe_allow_html=True)
