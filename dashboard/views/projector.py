"""Projector: a challenge's live race and leaderboard, or one run's live chart, readable from the back of a room."""

import streamlit as st

from core.classroom.leaderboard import leaderboard
from core.classroom.race import race
from core.experiments.engine import results_table
from core.messages import quote
from dashboard import session
from dashboard.charts import training as charts
from dashboard.charts.race import race_chart
from dashboard.components.classroom import big_numbers
from dashboard.components.experiments import pareto_views
from dashboard.components.labels import percent, run_label, status_label
from dashboard.components.leaderboard import leaderboard_frame
from dashboard.components.user_text import html_block, html_literal, markdown_literal

LARGE_FONT = 22


def large(fig):
    fig.update_layout(font={"size": LARGE_FONT}, height=560, title_font={"size": LARGE_FONT + 6})
    fig.update_annotations(font_size=LARGE_FONT + 4)
    fig.update_xaxes(tickfont={"size": LARGE_FONT}, title_font={"size": LARGE_FONT})
    fig.update_yaxes(tickfont={"size": LARGE_FONT}, title_font={"size": LARGE_FONT})
    return fig


# What the race's numbers are, next to the board's: they differ, and the room should know why.
RACE_KEY = (
    "Lines: accuracy on the training images while learning; dots: validation accuracy after each epoch; "
    "the % after a name: its latest validation accuracy."
)


def board_html(rows: list[dict], limit: int = 10) -> str:
    """The leaderboard as an HTML table in large type (the top ``limit`` runs)."""
    table = leaderboard_frame(rows[:limit], ["#", "Learner", "Test accuracy", "Params", "Epochs", "Time to target"])
    table["Params"] = table["Params"].map("{:,}".format)
    html = table.astype(str).map(html_literal).to_html(index=False, border=0, escape=False)  # learners' names
    html = html.replace("<table", "<table style='font-size:1.6rem;width:100%'")
    return html.replace("<th>", "<th style='text-align:left'>")


def title_html(text: str) -> str:
    return f"<div style='font-size:2.6rem;font-weight:700;line-height:1.2'>{html_literal(text)}</div>"


@st.cache_data(max_entries=256, show_spinner=False)
def ended_batches(run_id: str, status: str, epochs: int) -> list[dict]:
    """An ended run's per-batch history, read from the store once (the key changes if it trains more)."""
    run = session.manager().classroom_run(run_id)
    return run.batch_history() if run is not None else []


def race_batches(run) -> list[dict]:
    """A live run's batches as they come; an ended one's from the store (a listed run holds none)."""
    return run.batch_history() if run.active else ended_batches(run.id, run.status, run.epoch)


@st.fragment(run_every=2)
def class_race(code: str) -> None:
    """Every learner's current run as a live curve, the leader starred; the leaderboard beside it."""
    challenge = session.challenges().get(code)
    if challenge is None:
        st.error("There is no challenge with this code: check the link your teacher gave.")
        return
    runs = session.manager().classroom_runs(code)
    entries = race(runs, challenge, race_batches)
    rows = leaderboard(runs, challenge)
    html_block(title_html(challenge.title))
    curves, board = st.columns([2, 1], gap="large")
    with curves:
        if entries:
            st.plotly_chart(race_chart(entries, font_size=LARGE_FONT, height=600), key="race_chart")
            html_block(f"<div style='font-size:1.3rem;color:#333'>{RACE_KEY}</div>")
        else:
            html_block(
                "<div style='font-size:2rem'>No runs yet — each learner's curve appears as they press Train.</div>"
            )
    with board:
        scored = "hidden test set" if challenge.hidden_test else "test set"
        html_block(
            f"<div style='font-size:2rem;font-weight:700'>Leaderboard</div>"
            f"<div style='font-size:1.3rem;color:#333'>finished runs, scored on the {scored}: images no run "
            "learned or was validated on, so a run's score here differs a little from its validation accuracy "
            "in the race</div>"
        )
        if rows:
            html_block(board_html(rows))
        else:
            html_block("<div style='font-size:1.6rem'>The board fills as runs finish.</div>")


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
    html_block(f"<div style='font-size:2.4rem;font-weight:700'>{html_literal(experiment.name)}</div>")
    pareto_views(experiment, results_table(experiment, runs), key="projector_pareto", clickable=False, style=large)


# The whole screen for the room: the sidebar starts folded away (its arrow brings it back).
st.set_page_config(initial_sidebar_state="collapsed")
board = session.board_in_url() or session.playground().challenge
# One compact row of controls: the race and the board need the screen's height (1920×1080, no scrolling).
mode_col, choice_col = st.columns([1, 2], vertical_alignment="bottom")
mode = mode_col.segmented_control(
    "Projector",
    ["Live race", "One run", "Experiment"],
    key="projector_mode",
    default="Live race" if board else "One run",
)
if mode == "Live race":
    token = session.teacher_token()
    codes = {c.code: c for c in session.classroom().list(token)} if token else {}
    if board and board not in codes:
        codes[board] = session.challenges().get(board)
    codes = {code: c for code, c in codes.items() if c is not None}
    if board and board not in codes:
        st.warning(
            f"There is no challenge with the code {markdown_literal(quote(board, 24))} (it may have been mistyped "
            "or deleted): check the link your teacher gave.",
            icon=":material/link_off:",
        )
    if not codes:
        st.info("Open this page from a challenge link, or log in on the Teacher page to choose a challenge.")
    else:
        names = list(codes)
        code = choice_col.selectbox(
            "Challenge",
            names,
            index=names.index(board) if board in names else 0,
            format_func=lambda c: codes[c].title,
            key="projector_board",
        )
        class_race(code)
elif mode == "One run":
    runs = visible_runs()
    if not runs:
        st.info("No runs to show yet: train one on the Train page.")
    else:
        ids = [r.id for r in runs]
        by_id = {r.id: r for r in runs}
        followed = session.playground().run_id
        run_id = choice_col.selectbox(
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
        chosen = choice_col.selectbox(
            "Experiment", list(experiments), format_func=lambda i: experiments[i].name, key="projector_experiment"
        )
        experiment_pareto(experiments[chosen])
