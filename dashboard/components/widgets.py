"""Widgets shared by several pages: layer editor, shape table, run status, history chart."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.messages import counted
from core.model.edit import merge_sources
from core.model.spec import LAYER_TYPES, Analysis, format_shape
from core.numbers import as_typed, is_finite_number
from core.runs.record import Run, Status
from core.timing import format_duration
from dashboard import session
from dashboard.charts import training as charts
from dashboard.components.labels import status_label
from dashboard.components.number_field import number_field
from dashboard.components.shape_sandbox import sandbox_link
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


def sidebar_status() -> None:
    pg = session.playground()
    with st.sidebar:
        st.caption("Current model")
        title = markdown_literal(session.dataset_title(pg.dataset))
        st.markdown(f"**{title}** · {len(pg.spec.get('layers', []))} layers")
        analysis = session.analysis()
        if analysis.ok:
            st.markdown(f"{analysis.total_params:,} params · ready to train")
        else:
            st.markdown(f"{len(analysis.problems)} problem(s) to fix on **Build**")
        run = session.followed_run()
        if run is not None:
            # The sidebar is not polled: say nothing here that goes stale while the run trains.
            if run.active:
                line = f"Run `{run.id}` is training: follow it on **Train**."
            else:
                line = f"Run `{run.id}`: {status_label(run.status).lower()}"
                if run.headline():
                    line += f", {run.headline()}"
            st.markdown(line)


def run_status(run: Run) -> None:
    """Status line, progress bar and any message of a run."""
    p = run.progress()
    label = status_label(run.status)
    if run.active:
        if run.status == Status.QUEUED:
            position = session.manager().queue_position(run.id)
            text = (
                f"{label}: number {position} in the queue. Other trainings are running; press Stop to cancel."
                if position
                else f"{label}…"
            )
        elif run.status == Status.PAUSED:
            text = (
                f"Paused in epoch {min(p.epoch + 1, p.epochs)} of {p.epochs}, after batch {p.batch}: "
                "press Resume to go on."
            )
        elif p.phase == "testing":
            tested = (run.eval_sizes or {}).get("test")
            text = (
                f"{label}: training done; now measuring the test set"
                + (f" ({tested:,} examples)" if tested else "")
                + f"… · elapsed {format_duration(p.elapsed)}"
            )
        else:
            doing = (
                "checking the validation set"
                if p.phase == "validating"
                else f"batch {p.batch} of {p.batches_per_epoch}"
            )
            left = (
                f"about {format_duration(p.eta)} left" if p.eta is not None else "time left known after a few batches"
            )
            text = (
                f"{label}: epoch {min(p.epoch + 1, p.epochs)} of {p.epochs}, {doing} · "
                f"elapsed {format_duration(p.elapsed)} · {left} (test set included)"
            )
        st.progress(p.fraction, text=text)
    else:
        # The same training time as Results shows (the run's clock: validation in, pauses and the test out).
        trained = run.training_seconds()
        text = f"{label} after {counted(p.epoch, 'epoch')} in {format_duration(trained if trained is not None else p.elapsed)}"
        if run.headline():
            text += f" — {run.headline(decimals=2, bold=True)}"
        {Status.FINISHED: st.success, Status.STOPPED: st.info}.get(run.status, st.error)(text)
    if run.message and not run.active:
        (st.error if run.status == Status.FAILED else st.caption)(markdown_literal(run.message))


def history_chart(run: Run, key: str, findings=()) -> None:
    """The run's accuracy and loss; coaching findings (core.insight.coaching) are marked at their epoch."""
    batches = run.batch_history()
    epochs = run.epoch_history()
    if not batches and not epochs:
        st.caption("The chart appears with the first batch.")
        return
    per = run.batches_per_epoch or max((b["step"] for b in batches), default=1)
    figure = charts.mark_findings(charts.training_chart(batches, epochs, per), findings)
    st.plotly_chart(figure, key=key, width="stretch")


def _arg_changed(index: int, arg: str, key: str) -> None:
    session.set_layer_arg(index, arg, as_typed(session.widget_value(key)))


def _merge_source_widget(index: int, layer: dict, arg, common: dict, analysis: Analysis) -> None:
    """Which earlier layer a merge takes: the ones whose shapes fit, nearest first (and the current one,
    marked, when it does not fit, so the card shows what the model really has)."""
    sources = merge_sources(analysis, index, layer["type"], bool(layer.get("projection", False)))
    current = layer.get(arg.name)
    shown = [s for s in sources if s.fits or s.number == current] or sources
    labels = {s.number: s.label + ("" if s.fits else " — does not fit") for s in shown}
    options = list(labels)
    if current not in labels:  # a number no layer has (typed into a JSON spec): keep it visible
        options.insert(0, current)
        labels[current] = f"Layer {current} — not above this layer"
    st.selectbox(
        arg.label,
        options,
        index=options.index(current),
        format_func=lambda number: labels[number],
        **common,
    )
    if not any(s.fits for s in sources):
        st.caption("No layer above gives a shape that fits here: the problem below says what would.")


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


def layer_arg_widget(index: int, layer: dict, arg, key: str, analysis: Analysis | None = None) -> None:
    """The fitting widget for one layer argument; changes go straight into the spec."""
    current = layer.get(arg.name, arg.default)
    common = {"key": key, "help": arg.help, "on_change": _arg_changed, "args": (index, arg.name, key)}
    if arg.kind == "layer" and analysis is not None:
        _merge_source_widget(index, layer, arg, common, analysis)
    elif arg.kind == "int":
        # Any number typed is kept and shown (1e6 is a million); the layer registry says why it cannot be used.
        number_field(arg.label, current if is_finite_number(current) else arg.default, **common)
    elif arg.kind == "pair":
        if arg.allow_none:
            options = [None, *range(1, int(arg.maximum) + 1)]
            value = current[0] if isinstance(current, (list, tuple)) else current
            st.selectbox(
                arg.label,
                options,
                index=options.index(value) if value in options else 0,
                format_func=lambda v: "same as pool" if v is None else f"{v}×{v}",
                **common,
            )
        else:
            value = current[0] if isinstance(current, (list, tuple)) else current
            options = list(range(1, int(arg.maximum) + 1))
            st.selectbox(
                arg.label,
                options,
                index=options.index(value) if value in options else 0,
                format_func=lambda v: f"{v}×{v}",
                **common,
            )
    elif arg.kind == "float":
        value = float(current) if isinstance(current, (int, float)) else arg.default
        low = float(arg.minimum) if arg.minimum is not None else 0.0
        high = min(float(arg.maximum), 0.95) if arg.maximum is not None else 0.95  # a dropout rate stays below 1
        step = 0.01 if high <= 0.5 else 0.05  # augmentation's small shares (0.05 of a turn is 18°)
        st.slider(arg.label, low, high, value=min(max(value, low), high), step=step, **common)
    elif arg.kind == "choice":
        options = list(arg.choices)
        st.selectbox(arg.label, options, index=options.index(current) if current in options else 0, **common)
    elif arg.kind == "bool":
        st.checkbox(arg.label, value=bool(current), **common)


def _arg_grid(index: int, layer: dict, args, prefix: str, analysis: Analysis) -> None:
    if not args:
        return
    sources = [a for a in args if a.kind == "layer"]  # a merge's earlier layer: a long label, a row of its own
    for arg in sources:
        layer_arg_widget(index, layer, arg, f"{prefix}_{arg.name}", analysis)
    args = [a for a in args if a.kind != "layer"]
    columns = st.columns(3) if args else []
    for n, arg in enumerate(args):
        with columns[n % 3]:
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
        prefix = f"b{version}_{index}"
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
