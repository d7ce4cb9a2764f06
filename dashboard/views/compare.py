"""Compare: several of your runs side by side — curves overlaid, a leaderboard, and what differs."""

import pandas as pd
import streamlit as st

from core.insight import compare
from dashboard import session
from dashboard.charts import training as charts
from dashboard.components.arch_diff import architecture_diff
from dashboard.components.embedding_map import EXPLANATION, embedding_map_section
from dashboard.components.labels import number, run_label, status_label
from dashboard.components.leaderboard import leaderboard_frame
from dashboard.session import keys

POLL_SECONDS = 1.0
HIGHLIGHT = "background-color: rgba(255, 193, 7, 0.28)"
LEADERBOARD_FORMATS = {
    "Test accuracy (%)": "{:.2f}",
    "Test MAE": number,  # 10,820, not 1.082e+04
    "Test loss": "{:.4f}",
    "Params": "{:,}",
    "Training time (s)": "{:.1f}",
}  # (the Styler's formats: the values stay numbers, so a click on a header sorts them as numbers)


def legend_label(run) -> str:
    name = run.name if len(run.name) <= 28 else run.name[:27] + "…"
    return f"{run.id} · {name}" if name else run.id


def _remember_choice(followed_id: str | None) -> None:
    session.set_compare_choice(followed_id, session.widget_value(keys.Compare.RUNS))


def initial_choice(runs, followed_id) -> list[str]:
    """The followed run and its parent by default; the user's own choice while the followed run stays the same."""
    ids = {r.id for r in runs}
    chosen = session.compare_choice(followed_id)
    if chosen is None:
        chosen = compare.default_selection(runs, followed_id)
        session.set_compare_choice(followed_id, chosen)
    return [i for i in chosen if i in ids]  # deleted runs drop out


def leaderboard_table(runs, colours):
    frame = leaderboard_frame(compare.leaderboard(runs))
    return frame.style.apply(
        lambda col: [f"color: {colours[v]}; font-weight: bold" for v in col], subset=["Run"]
    ).format({k: f for k, f in LEADERBOARD_FORMATS.items() if k in frame.columns}, na_rep="—")


def diff_table(runs, only_differences: bool):
    rows = compare.diff_runs(runs)
    if only_differences:
        rows = [r for r in rows if r.differs]
    frame = pd.DataFrame(
        [{"Setting": r.setting, **dict(zip([run.id for run in runs], r.values)), "Differs": r.differs} for r in rows],
        columns=["Setting", *[run.id for run in runs], "Differs"],
    )
    return frame.style.apply(lambda row: [HIGHLIGHT if row["Differs"] else ""] * len(row), axis=1)


def comparison(run_ids: list[str], polling: bool) -> None:
    runs = [r for r in map(session.own_run, run_ids) if r is not None]
    if polling and not any(r.active for r in runs):
        st.rerun()  # the last live run ended: redraw the page once, which stops the polling
    colours = charts.run_colours([r.id for r in runs])
    for run in runs:
        if run.active:
            p = run.progress()
            st.caption(
                f"Run {run.id} is {status_label(run.status).lower()}: epoch "
                f"{min(p.epoch + 1, p.epochs)} of {p.epochs} — its curves grow as it trains."
            )

    series = compare.overlay_series(runs)
    metrics = {r["metric"] for r in series}
    st.header(f"{charts.METRIC_TITLES[charts.curve_metric([dict.fromkeys(metrics)])]} and loss per epoch")
    if {"accuracy", "mae"} <= metrics:
        st.caption(
            "Some of these runs classify images and others predict a number: the chart shows the MAE of "
            "the number-predicting runs only. Compare runs of one kind for a fair view."
        )
    if series:
        st.plotly_chart(
            charts.compare_chart(series, {r.id: legend_label(r) for r in runs}, colours),
            key="compare_curves",
            width="stretch",
        )
        st.caption(
            "One colour per run: solid lines are the training data, dashed lines the validation data "
            "(images held back from training). Where the dashed line of a run is higher (accuracy) or "
            "lower (loss), that run does better on images it has not learned from."
        )
    else:
        st.caption("The curves appear once a selected run has finished its first epoch.")

    st.header("Leaderboard")
    st.caption("Click a column header to sort.")
    st.dataframe(leaderboard_table(runs, colours), hide_index=True, width="stretch", key="compare_leaderboard")

    st.header("What differs")
    if len(runs) < 2:
        st.caption("Pick a second run to see which settings differ.")
        return
    only = st.toggle("Show only the settings that differ", value=True, key="compare_only_differences")
    table = diff_table(runs, only)
    differing = int(table.data["Differs"].sum())
    st.markdown(
        f"**{differing}** setting(s) differ between these runs (highlighted)."
        if differing
        else "These runs have the same model and settings."
    )
    if table.data.empty:
        return
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height="content",
        key="compare_diff",
        column_config={"Differs": st.column_config.CheckboxColumn(width="small")},
    )


st.title("Compare runs")
st.caption("Put your runs side by side: which one learns faster, which generalises better, and what you changed.")
runs = session.own_runs()
if not runs:
    st.info("No runs yet: build a model and press **Train**. Then change one thing, train again and compare.")
    st.stop()

by_id = {r.id: r for r in runs}
followed = session.followed_run()
followed_id = followed.id if followed is not None else None
session.set_widget_value(keys.Compare.RUNS, initial_choice(runs, followed_id))
chosen = st.multiselect(
    "Runs to compare",
    list(by_id),
    format_func=lambda i: run_label(by_id[i]),
    key=keys.Compare.RUNS,
    on_change=_remember_choice,
    args=(followed_id,),
    placeholder="Choose runs",
    help="Your runs, newest first. By default: the run you follow and the run it was cloned "
    "from, else your two newest runs.",
)
if not chosen:
    st.info("Choose one or more runs above.")
    st.stop()
if len(runs) == 1:
    st.caption("You have one run so far: use **Clone and edit** on Results to train a variant to compare with.")


def maps_side_by_side(runs) -> None:
    """The maps of what two finished runs learned (the first two chosen), each with its own pickers."""
    mapped = [r for r in runs if not r.active and r.results][:2]
    # Lazy: each map needs its model (TensorFlow) the first time, so they are made only once opened.
    box = st.expander("Maps of what the networks learned", key="compare_maps", on_change="rerun")
    if not box.open:
        return
    with box:
        st.caption(EXPLANATION)
        if not mapped:
            st.caption("The maps appear for finished runs with a test result.")
            return
        for column, run in zip(st.columns(2, gap="medium"), mapped):
            with column:
                st.text(legend_label(run))
                embedding_map_section(run, key=f"compare_map_{run.id}", height=380, side_by_side=False)


live = any(by_id[i].active for i in chosen)
st.fragment(run_every=POLL_SECONDS if live else None)(comparison)(chosen, live)
architecture_diff([by_id[i] for i in chosen])
maps_side_by_side([by_id[i] for i in chosen])
