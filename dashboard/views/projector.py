"""Projector: a class leaderboard or one run's live chart, in type readable from the back of a room."""

import streamlit as st

from core.classroom import leaderboard
from core.experiments.engine import results_table
from dashboard import session
from dashboard.charts import training as charts
from dashboard.components.classroom import big_numbers
from dashboard.components.experiments import pareto_views
from dashboard.components.labels import percent, run_label, status_label
from dashboard.components.leaderboard import leaderboard_frame

LARGE_FONT = 22


def large(fig):
    fig.update_layout(font={"size": LARGE_FONT}, height=560, title_font={"size": LARGE_FONT + 6})
    fig.update_annotations(font_size=LARGE_FONT + 4)
    return fig


@st.fragment(run_every=3)
def class_board(code: str) -> None:
    challenge = session.challenges().get(code)
    if challenge is None:
        st.error("There is no challenge with this code: check the link your teacher gave.")
        return
    rows = leaderboard(session.manager().classroom_runs(code), challenge)
    st.markdown(f"<div style='font-size:3rem;font-weight:700'>{challenge.title}</div>", unsafe_allow_html=True)
    if not rows:
        st.markdown(
            "<div style='font-size:2rem'>No finished runs yet — the board fills as runs finish.</div>",
            unsafe_allow_html=True,
        )
        return
    table = leaderboard_frame(rows[:15], ["#", "Learner", "Test accuracy", "Params", "Architecture"])
    table["Params"] = table["Params"].map("{:,}".format)
    html = table.to_html(index=False, border=0).replace("<table", "<table style='font-size:1.7rem;width:100%'")
    st.markdown(html.replace("<th>", "<th style='text-align:left'>"), unsafe_allow_html=True)


def visible_runs():
    """The user's own runs; a logged-in teacher also sees the runs of every challenge."""
    runs = session.own_runs()
    if session.is_teacher():
        mine = {r.id for r in runs}
        runs += [r for r in session.manager().classroom_runs() if r.id not in mine]
    return runs


def visible_run(run_id: str):
    """One of the user's own runs; for a logged-in teacher, also any learner's challenge run."""
    run = session.own_run(run_id)
    if run is None and session.is_teacher():
        run = session.manager().classroom_run(run_id)
    return run


@st.fragment(run_every=1)
def live_run(run_id: str) -> None:
    run = visible_run(run_id)
    if run is None:
        return
    show_run(run)
    if not run.active:
        st.rerun()


def show_run(run) -> None:
    p = run.progress()
    epochs = run.epoch_history()
    last = epochs[-1] if epochs else {}
    big_numbers(
        [
            ("Status", status_label(run.status)),
            ("Epoch", f"{min(p.epoch + (1 if run.active else 0), p.epochs)} / {p.epochs}"),
            ("Validation accuracy", percent(last.get("val_accuracy"))),
            ("Test accuracy", percent(run.test_accuracy)),
        ]
    )
    batches = run.batch_history()
    if batches or epochs:
        fig = charts.training_chart(batches, epochs, run.batches_per_epoch or 1)
        st.plotly_chart(large(fig), key="projector_chart")


@st.fragment(run_every=3)
def experiment_pareto(experiment) -> None:
    """An experiment's Pareto views in large type; they fill in as its runs finish."""
    runs = session.experiments.projected_runs(experiment)
    st.markdown(f"<div style='font-size:2.4rem;font-weight:700'>{experiment.name}</div>", unsafe_allow_html=True)
    pareto_views(experiment, results_table(experiment, runs), key="projector_pareto", clickable=False, style=large)


st.title("Projector")
board = session.board_in_url() or session.playground().challenge
mode = st.segmented_control(
    "Show",
    ["Class leaderboard", "One run", "Experiment"],
    key="projector_mode",
    default="Class leaderboard" if board else "One run",
)
if mode == "Class leaderboard":
    codes = {c.code: c for c in session.challenges().list()} if session.is_teacher() else {}
    if board and board not in codes:
        codes[board] = session.challenges().get(board)
    if not codes:
        st.info("Open this page from a challenge link, or log in on the Teacher page to choose a challenge.")
    else:
        names = list(codes)
        code = st.selectbox(
            "Challenge",
            names,
            index=names.index(board) if board in names else 0,
            format_func=lambda c: codes[c].title if codes[c] else c,
            key="projector_board",
        )
        class_board(code)
elif mode == "One run":
    runs = visible_runs()
    if not runs:
        st.info("No runs to show yet: train one on the Train page.")
    else:
        ids = [r.id for r in runs]
        by_id = {r.id: r for r in runs}
        followed = session.playground().run_id
        run_id = st.selectbox(
            "Run",
            ids,
            index=ids.index(followed) if followed in ids else 0,
            key="projector_run",
            format_func=lambda i: run_label(by_id[i]),
        )
        run = visible_run(run_id)
        if run.active:
            live_run(run_id)
        else:
            show_run(run)
elif mode == "Experiment":
    experiments = {e.id: e for e in session.experiments.projectable_experiments()}
    if not experiments:
        st.info("No experiments yet: set one up on the Experiment page.")
    else:
        chosen = st.selectbox(
            "Experiment", list(experiments), format_func=lambda i: experiments[i].name, key="projector_experiment"
        )
        experiment_pareto(experiments[chosen])
