"""The few styles Streamlit's theme cannot set, sent with every page (app.py), each for a WCAG rule:

- touch targets of at least 44×44 px (2.5.5): on a tablet Streamlit's buttons are 40 px tall and an
  icon-only button (the layer cards' move, duplicate and remove) narrower still;
- code's syntax colours at 4.5:1 or more (1.4.3): Streamlit's fixed palette draws keywords at 3.8:1 and
  numbers at 2.6:1 on its code background (theme colours do not reach them);
- the value of a select box a teacher locked, readable (4.5:1 or more) instead of at the 40 % grey of
  Streamlit's disabled text (2.6:1).
"""

from __future__ import annotations

import streamlit as st

MIN_TARGET_PX = 44
# Prism token classes -> a darker shade of Streamlit's colour for them (contrast on #fcfcfb in brackets).
CODE_COLOURS = {
    ".token.keyword, .token.tag, .token.function, .token.class-name, .token.selector": "#0b5cad",  # 6.5
    ".token.attr-name, .token.property, .token.variable": "#0b5cad",
    ".token.number, .token.regex": "#00695c",  # 6.4
    ".token.string, .token.char, .token.attr-value, .token.boolean, .token.constant, .token.symbol": "#2e6b30",
    ".token.operator, .token.entity, .token.decorator, .token.atrule": "#9a4a00",  # 6.1
    ".token.url": "#6a1b9a",
    ".token.comment, .token.prolog, .token.doctype, .token.cdata, .token.punctuation": "#5f6368",  # 5.9
}
LOCKED_TEXT = "#5f6368"


def _style() -> str:
    code = "\n".join(
        f"{', '.join(f'[data-testid=stCode] {s.strip()}' for s in selectors.split(','))} {{ color: {colour}; }}"
        for selectors, colour in CODE_COLOURS.items()
    )
    return f"""<style>
.stButton button, .stDownloadButton button, .stFormSubmitButton button {{
  min-height: {MIN_TARGET_PX}px;
  min-width: {MIN_TARGET_PX}px;
}}
{code}
.stSelectbox:has(input:disabled) p, .stMultiSelect:has(input:disabled) p {{ color: {LOCKED_TEXT}; }}
</style>"""


def page_style() -> None:
    """The styles above, once per script run (a <style>-only st.html takes no room on the page)."""
    st.html(_style())
