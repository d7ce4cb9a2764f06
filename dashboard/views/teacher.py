"""Teacher: create a classroom challenge, share its link, watch and reset the class leaderboard."""

import pandas as pd
import streamlit as st

from core.classroom import (
    CONTROLS,
    Challenge,
    check_teacher_password,
    leaderboard,
    new_code,
    setup_problems,
    starting_model_warning,
)
from core.config import Settings, SettingsError
from core.data.datasets import DATASETS
from core.model.presets import PRESETS
from core.training.hyperparams import MAX_EPOCHS, OPTIMIZERS, Hyperparameters
from dashboard import session
from dashboard.components.classroom import app_link

PAGE = "teacher"


def leaderboard_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "#": r["rank"],
                "Learner": r["learner"],
                "Architecture": r["architecture"],
                "Params": f"{r['params']:,}",
                "Epochs": r["epochs"],
                "Test accuracy (%)": round(100 * r["test_accuracy"], 2),
            }
            for r in rows
        ],
        columns=["#", "Learner", "Architecture", "Params", "Epochs", "Test accuracy (%)"],
    )


def log_in() -> None:
    try:
        password = Settings.from_env().teacher_password
    except SettingsError as error:
        password = ""
        st.error(str(error))
    if check_teacher_password(session.widget_value("teacher_password", ""), password):
        session.sign_in_teacher()
    else:
        session.leave_message("teacher_login_failed")


def reset_leaderboard(code: str) -> None:
    session.challenges().reset(code)
    session.set_widget_value("confirm_reset", False)
    st.toast("The leaderboard starts afresh.")


st.title("Teacher")
st.caption(
    "Set a challenge for your class: the data set, limits such as the number of parameters and epochs, "
    "and which training controls learners may change. Learners who open its link get a builder with "
    "those limits, and their finished runs appear on a live leaderboard you can project."
)

if not Settings.from_env().teacher_password:
    st.info(
        "Classroom mode is off on this server. To turn it on, start the app with a teacher password in the "
        "environment variable CNN_PLAYGROUND_TEACHER_PASSWORD (see the README).",
        icon=":material/lock:",
    )
    st.stop()
if not session.is_teacher():
    with st.form("teacher_login"):
        st.text_input("Teacher password", type="password", key="teacher_password")
        st.form_submit_button("Log in", on_click=log_in)
    if session.take_message("teacher_login_failed"):
        st.error("That password is not right.")
    st.stop()

create, manage = st.tabs(["New challenge", "Your challenges"])

with create:
    with st.form("new_challenge"):
        title = st.text_input("Title", "Best Fashion-MNIST CNN", max_chars=80)
        names = [n for n in DATASETS if session.available_dataset(n) == n]
        c1, c2 = st.columns(2)
        dataset = c1.selectbox("Data set", names, format_func=session.dataset_title)
        preset = c2.selectbox("Starting model", list(PRESETS), format_func=lambda n: PRESETS[n].title)
        c1, c2 = st.columns(2)
        max_params = c1.number_input(
            "Most parameters a model may have", 1_000, session.manager().param_budget, 150_000, step=10_000
        )
        max_epochs = c2.number_input("Most epochs", 1, MAX_EPOCHS, 5)
        st.markdown("**Training settings** (the starting values, and the values of locked or hidden controls)")
        c1, c2, c3, c4 = st.columns(4)
        optimizer = c1.selectbox("Optimizer", list(OPTIMIZERS), format_func=lambda n: OPTIMIZERS[n].keras_name)
        learning_rate = c2.number_input("Learning rate", 0.00001, 10.0, 0.001, format="%.5f")
        epochs = c3.number_input("Epochs", 1, MAX_EPOCHS, 3)
        batch_size = c4.selectbox("Batch size", [16, 32, 64, 128, 256], index=3)
        locked = st.multiselect("Locked (shown, not changeable)", list(CONTROLS), format_func=CONTROLS.get)
        hidden = st.multiselect("Hidden", list(CONTROLS), format_func=CONTROLS.get)
        created = st.form_submit_button("Create challenge", type="primary")
    if created:
        hp = Hyperparameters(
            optimizer=optimizer, learning_rate=learning_rate, epochs=int(epochs), batch_size=int(batch_size)
        )
        problems = setup_problems(title, int(max_epochs), hp)
        for problem in problems:
            st.error(problem)
        if not problems:
            challenge = session.challenges().save(
                Challenge(
                    code=new_code(),
                    title=title.strip(),
                    dataset=dataset,
                    preset=preset,
                    max_params=int(max_params),
                    max_epochs=int(max_epochs),
                    hyperparameters=hp,
                    locked=tuple(c for c in locked if c not in hidden),
                    hidden=tuple(hidden),
                )
            )
            session.set_teacher_challenge(challenge.code)
            st.success("Challenge created. Share this link with your class:")
            st.code(app_link("", PAGE, challenge=challenge.code), language=None)
            if warning := starting_model_warning(challenge):
                st.warning(warning)


with manage:
    challenges = session.challenges().list()
    if not challenges:
        st.info("No challenges yet: create one in the first tab.")
        st.stop()
    codes = [c.code for c in challenges]
    by_code = {c.code: c for c in challenges}
    default = codes.index(session.teacher_challenge()) if session.teacher_challenge() in codes else 0
    code = st.selectbox(
        "Challenge",
        codes,
        index=default,
        key="teacher_challenge_choice",
        format_func=lambda c: f"{by_code[c].title} ({c})",
    )
    challenge = by_code[code]
    st.markdown(f"{session.dataset_title(challenge.dataset)}, {challenge.rules()}.")
    link_col, board_col = st.columns(2)
    link_col.markdown("**Link for learners**")
    link_col.code(app_link("", PAGE, challenge=code), language=None)
    board_col.markdown("**Leaderboard for the projector**")
    board_col.code(app_link("projector", PAGE, board=code), language=None)

    @st.fragment(run_every=3)
    def live_leaderboard() -> None:
        rows = leaderboard(session.manager().classroom_runs(code), session.challenges().get(code) or challenge)
        st.subheader(f"Class leaderboard: {len(rows)} finished run{'' if len(rows) == 1 else 's'}")
        if rows:
            st.dataframe(leaderboard_table(rows), hide_index=True, width="stretch")
        else:
            st.caption("Finished runs of your learners appear here as they come in.")

    live_leaderboard()
    sure = st.checkbox("Yes, start the leaderboard afresh", key="confirm_reset")
    st.button(
        "Reset leaderboard",
        key="reset_leaderboard",
        disabled=not sure,
        icon=":material/restart_alt:",
        on_click=reset_leaderboard,
        args=(code,),
        help="Earlier runs stay stored for the learners, but no longer count on the board.",
    )
