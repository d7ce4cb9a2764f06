"""The Build page's card of one layer: its shape and parameters, move/duplicate/remove buttons, its fields,
the layers inside a residual block and the layer's problems."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.model.spec import LAYER_TYPES, Analysis, format_shape
from dashboard import session
from dashboard.components.layer_fields import layer_arg_widget
from dashboard.components.shape_sandbox import sandbox_link
from dashboard.components.shape_table import markdown_table
from dashboard.components.user_text import markdown_literal
from dashboard.session import keys

# Names of the layer cards' icon-only buttons, by the end of their keys: their aria-label (Streamlit gives
# a button none, so a screen reader would say just "button") and their hover tooltip (title).
ICON_BUTTON_NAMES = {
    "_up": "Move layer {n} up",
    "_down": "Move layer {n} down",
    "_dup": "Duplicate layer {n}",
    "_del": "Remove layer {n}",
}
_NAME_ICON_BUTTONS = """<script>
(() => {
  const names = %s;
  const label = () => document.querySelectorAll('[class*="st-key-b"] button').forEach((button) => {
    const holder = button.closest('[class*="st-key-b"]');
    const key = [...holder.classList].find((c) => c.startsWith('st-key-b'));
    const match = key && key.match(/^st-key-b\\d+_(\\d+)(_[a-z]+)$/);
    if (!match || !names[match[2]]) return;
    const name = names[match[2]].replace('{n}', Number(match[1]) + 1);
    if (button.getAttribute('aria-label') !== name) button.setAttribute('aria-label', name);
    if (button.title !== name) button.title = name;  // the hover tooltip
  });
  label();
  if (!window.__cnnIconNames) {
    // Once per frame at most: a new session's page arrives in a few hundred mutations.
    let queued = false;
    window.__cnnIconNames = new MutationObserver(() => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; label(); });
    });
    window.__cnnIconNames.observe(document.body, {childList: true, subtree: true});
  }
})();
</script>"""


def name_icon_buttons() -> None:
    """Give the layer cards' icon buttons names a screen reader says ("Move layer 2 up")."""
    st.html(_NAME_ICON_BUTTONS % json.dumps(ICON_BUTTON_NAMES), unsafe_allow_javascript=True)


def _inner_layers(report) -> None:
    """A residual block's (or a merge's) own Keras layers, as the model summary would list them."""
    rows = [
        {
            "Layer (type)": f"{part.name} ({part.type})" + (" · shortcut" if part.branch == "shortcut" else ""),
            "Output shape": format_shape(part.output_shape),
            "Params": f"{part.params:,}",
        }
        for part in report.inner
    ]
    st.markdown(markdown_table(pd.DataFrame(rows, columns=["Layer (type)", "Output shape", "Params"])))


def _arg_grid(index: int, layer: dict, args, prefix: str, analysis: Analysis) -> None:
    if not args:
        return
    sources = [a for a in args if a.kind == "layer"]  # a merge's earlier layer: a long label, a row of its own
    for arg in sources:
        layer_arg_widget(index, layer, arg, f"{prefix}_{arg.name}", analysis)
    # A checkbox's label is its only words (an error may name it): a row of its own, never cut to a third.
    boxes = [a for a in args if a.kind == "bool"]
    args = [a for a in args if a.kind not in ("layer", "bool")]
    columns = st.columns(3) if args else []
    for n, arg in enumerate(args):
        with columns[n % 3]:
            layer_arg_widget(index, layer, arg, f"{prefix}_{arg.name}", analysis)
    for arg in boxes:
        layer_arg_widget(index, layer, arg, f"{prefix}_{arg.name}", analysis)


def layer_card(index: int, layer: dict, analysis: Analysis, version: int, count: int) -> None:
    kind = layer.get("type", "?")
    layer_type = LAYER_TYPES.get(kind)
    report = analysis.layers[index] if index < len(analysis.layers) else None
    with st.container(border=True, key=f"layer_card_{index}"):
        head, buttons = st.columns([3, 2])
        shape = format_shape(report.output_shape) if report else "—"
        params = f"{report.params:,}" if report and report.params is not None else "—"
        head.markdown(f"**{index + 1}. {kind}**  \n`{shape}` · {params} params")
        prefix = keys.LayerCard.prefix(version, index)
        # No help=: Streamlit draws a button with help twice (a tooltip copy and a plain one), 17 elements
        # instead of 7, for 28 buttons on a new session's page. Their names, said by a screen reader and
        # shown on hover, come from name_icon_buttons().
        for column, (end, icon, disabled, callback, args) in zip(
            buttons.columns(4, gap="xxsmall"),
            (
                ("_up", ":material/arrow_upward:", index == 0, session.move_layer, (index, -1)),
                ("_down", ":material/arrow_downward:", index == count - 1, session.move_layer, (index, 1)),
                ("_dup", ":material/content_copy:", False, session.duplicate_layer, (index,)),
                ("_del", ":material/delete:", False, session.remove_layer, (index,)),
            ),
            strict=True,
        ):
            column.button("", key=f"{prefix}{end}", icon=icon, disabled=disabled, on_click=callback, args=args)
        if layer_type is not None:
            st.caption(layer_type.summary)
            main_args = [a for a in layer_type.args if not a.advanced]
            more_args = [a for a in layer_type.args if a.advanced]
            _arg_grid(index, layer, main_args, prefix, analysis)
            if more_args:
                # Lazy: the advanced widgets are made only while it is open (most cards stay closed).
                more = st.expander("More settings", key=f"{prefix}_more", on_change="rerun")
                if more.open:
                    with more:
                        _arg_grid(index, layer, more_args, prefix, analysis)
            if kind == "ResidualBlock" and report is not None and report.inner:
                inside = st.expander(
                    f"Inside this block: {len(report.inner)} layers", key=f"{prefix}_inner", on_change="rerun"
                )
                if inside.open:
                    with inside:
                        _inner_layers(report)
        for problem in analysis.problems_at(index):
            st.error(
                f"{markdown_literal(problem.message)} — **{markdown_literal(problem.fix)}**.", icon=":material/error:"
            )
        sandbox_link(index, layer, analysis)  # a window that does not fit: try the numbers in the sandbox
