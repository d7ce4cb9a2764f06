"""Teacher: create, edit, close and delete classroom challenges; share their links; watch and reset the
class leaderboard."""

import streamlit as st

from core.classroom.challenges import ChallengeRejected, starting_model_warning
from core.classroom.leaderboard import leaderboard
from core.classroom.teacher import NotTeacher
from core.data.datasets import CLASSIFICATION, DATASETS, DatasetUnavailable, load_dataset
from core.runs.challenges import CONTROLS
from core.training.hyperparams import FIELDS_BY_NAME as FIELDS
from core.training.hyperparams import MAX_EPOCHS, OPTIMIZERS, Hyperparameters
from core.training.presets import PRESETS
from core.training.speed import describe_seconds
from dashboard import session
from dashboard.components.classroom import app_link
from dashboard.components.jobs import job_failure, job_progress
from dashboard.components.leaderboard import leaderboard_frame
from dashboard.components.user_text import markdown_literal
from dashboard.session import keys

PAGE = "teacher"
POLL_SECONDS = 1.0
BATCH_SIZES = list(FIELDS["batch_size"].options)


CLASS_COLUMNS = ["#", "Learner", "Architecture", "Params", "Epochs", "Test accuracy (%)", "Time to target"]


def starting_spec(preset: str, dataset: str) -> dict:
    """A challenge's starting model on its data set, as a learner gets it."""
    data = load_dataset(dataset)
    return session.fit_spec_to_data(PRESETS[preset].spec(data.input_shape, data.output_units), dataset)


# --- the form's values, read by the buttons' callbacks (a form's values are read when it is drawn) ----


def _hyperparameters(form: keys.ChallengeForm) -> Hyperparameters:
    images = int(session.widget_value(form.train_images) or 0)
    target = float(session.widget_value(form.target_accuracy) or 0)  # a percentage; 0 = no target
    return Hyperparameters(
        optimizer=session.widget_value(form.optimizer),
        learning_rate=float(session.widget_value(form.learning_rate)),
        epochs=int(session.widget_value(form.epochs)),
        batch_size=int(session.widget_value(form.batch_size)),
        limit_train=images or None,
        target_accuracy=target / 100 or None,
    )


def _locks(form: keys.ChallengeForm) -> tuple[tuple[str, ...], tuple[str, ...]]:
    hidden = tuple(session.widget_value(form.hidden) or ())
    locked = tuple(c for c in session.widget_value(form.locked) or () if c not in hidden)
    return locked, hidden


def default_title(dataset: str) -> str:
    """The title a challenge gets when the teacher leaves it empty: it names the data set it trains on."""
    return f"Best CNN on {session.dataset_title(dataset)}"


def refused(error: NotTeacher) -> None:
    """The teacher's login expired (or was never there): the page shows the login form, saying why."""
    session.leave_message(keys.Teacher.LOGIN_FAILED, str(error))


def create() -> None:
    form = keys.Teacher.NEW_CHALLENGE
    locked, hidden = _locks(form)
    try:
        challenge = session.classroom().create(
            session.teacher_token(),
            teacher=session.user_id(),
            title=session.widget_value(form.title) or default_title(session.widget_value(form.dataset)),
            dataset=session.widget_value(form.dataset),
            preset=session.widget_value(form.preset),
            max_params=int(session.widget_value(form.max_params)),
            max_epochs=int(session.widget_value(form.max_epochs)),
            hyperparameters=_hyperparameters(form),
            locked=locked,
            hidden=hidden,
            hidden_test=int(session.widget_value(form.hidden_test) or 0),
        )
    except NotTeacher as error:
        refused(error)
        return
    except (ChallengeRejected, DatasetUnavailable) as error:
        session.leave_message(keys.Teacher.CREATED, ("error", getattr(error, "problems", [str(error)])))
        return
    session.set_teacher_challenge(challenge.code)
    session.set_widget_value(keys.Teacher.CHALLENGE_CHOICE, challenge.code)  # the new one is shown selected
    session.leave_message(keys.Teacher.CREATED, ("created", challenge.code))


def teacher_change(action):
    """A teacher's change of a challenge through the classroom's teacher-only service: what it refuses
    (an expired login, a form to put right, a store that cannot take it) is said on the page."""

    def change(*args) -> None:
        try:
            action(*args)
        except NotTeacher as error:
            refused(error)
        except ChallengeRejected as error:
            session.leave_message(keys.Teacher.EDITED, ("error", error.problems))

    return change


@teacher_change
def save_edit(code: str) -> None:
    form = keys.Teacher.edit(code)
    locked, hidden = _locks(form)
    edited = session.classroom().edit(
        session.teacher_token(),
        code,
        title=session.widget_value(form.title) or "",
        max_params=int(session.widget_value(form.max_params)),
        max_epochs=int(session.widget_value(form.max_epochs)),
        hyperparameters=_hyperparameters(form),
        locked=locked,
        hidden=hidden,
    )
    if edited is not None:
        session.leave_message(keys.Teacher.EDITED, ("saved", []))


@teacher_change
def set_closed(code: str, closed: bool) -> None:
    session.classroom().set_closed(session.teacher_token(), code, closed)


@teacher_change
def delete(code: str) -> None:
    session.classroom().delete(session.teacher_token(), code)
    session.reset_widgets(keys.Teacher.CHALLENGE_CHOICE, keys.Teacher.confirm_delete(code))
    session.leave_message(keys.Teacher.EDITED, ("deleted", []))


@teacher_change
def reset_leaderboard(code: str) -> None:
    session.classroom().reset_leaderboard(session.teacher_token(), code)
    session.set_widget_value(keys.Teacher.CONFIRM_RESET, False)
    st.toast("The leaderboard starts afresh.")


@teacher_change
def prepare_class_zip(code: str) -> None:
    session.prepare_class_zip(code)


def import_file() -> None:
    upload = session.widget_value(keys.Teacher.IMPORT_FILE)
    if upload is None:
        session.leave_message(keys.Teacher.IMPORTED, ("error", ["Choose a class results file (.zip) first."]))
        return
    try:
        challenge = session.classroom().import_challenge(
            session.teacher_token(), upload.getvalue(), teacher=session.user_id()
        )
    except NotTeacher as error:
        refused(error)
        return
    except ChallengeRejected as error:
        session.leave_message(keys.Teacher.IMPORTED, ("error", error.problems))
        return
    session.set_teacher_challenge(challenge.code)
    session.set_widget_value(keys.Teacher.CHALLENGE_CHOICE, challenge.code)
    session.leave_message(keys.Teacher.IMPORTED, ("imported", []))


def export_section(code: str) -> None:
    """The class's results as CSV (the leaderboard) and as a zip (also the challenge, for another server)."""
    try:
        table = session.classroom().class_results_csv(session.teacher_token(), code)
    except NotTeacher:
        return  # the login expired while the page was drawn: the next rerun asks for it again
    if table is None:
        return
    with st.expander("Export this class's results", icon=":material/download:"):
        st.caption(
            "The CSV is the leaderboard, each learner's best run marked. The zip adds the challenge itself (to "
            "import on another server), each learner's best run with its model, and the challenge's own data "
            "set and hidden test set when it has them. Learners appear by the names they chose, never by "
            "their browser's secret id."
        )
        csv_col, zip_col = st.columns(2)
        csv_col.download_button(
            "Leaderboard (.csv)",
            table,
            file_name=f"class-{code}-leaderboard.csv",
            mime="text/csv",
            key=f"export_csv_{code}",
            icon=":material/table:",
            on_click="ignore",
        )
        made = session.prepared_class_zip(code)
        if made is None:
            zip_col.button("Prepare the zip", key=f"export_prepare_{code}", on_click=prepare_class_zip, args=(code,))
        else:
            zip_col.download_button(
                "Class results (.zip)",
                made,
                file_name=f"class-{code}.zip",
                mime="application/zip",
                key=f"export_zip_{code}",
                icon=":material/folder_zip:",
                on_click="ignore",
            )


def try_login() -> None:
    given = session.widget_value(keys.Teacher.PASSWORD, "")
    session.reset_widgets(keys.Teacher.PASSWORD)  # the password is never kept in the session
    problem = session.log_in(given)
    if problem:
        session.leave_message(keys.Teacher.LOGIN_FAILED, problem)


# --- the controls a new challenge and an edit share -----------------------------------------------


def settings_controls(form: keys.ChallengeForm, start, max_epochs_default: int, images_default: int) -> None:
    """Limits, training images per run, starting training settings and locks: the fields of ``form``."""
    c1, c2, c3 = st.columns(3)
    server = session.manager().policy.allowed_maxima()  # a challenge's caps are within the server's
    c1.number_input(
        "Most parameters a model may have",
        1_000,
        server.params,
        min(getattr(start, "max_params", 150_000), server.params),
        step=10_000,
        key=form.max_params,
    )
    c2.number_input("Most epochs", 1, server.epochs, max_epochs_default, key=form.max_epochs)
    c3.number_input(
        "Training images per run (0 = all)",
        0,
        10**7,
        images_default,
        step=1000,
        key=form.train_images,
        help="A quick challenge: each run trains on this many images (the first ones of the training set), "
        "so every learner gets several tries in a lesson.",
    )
    hp = start.hyperparameters if hasattr(start, "hyperparameters") else Hyperparameters(epochs=2, batch_size=128)
    st.markdown("**Training settings** (the starting values, and the values of locked or hidden controls)")
    c1, c2, c3, c4 = st.columns(4)
    names = list(OPTIMIZERS)
    c1.selectbox(
        "Optimizer",
        names,
        index=names.index(hp.optimizer),
        format_func=lambda n: OPTIMIZERS[n].keras_name,
        key=form.optimizer,
    )
    c2.number_input(
        "Learning rate",
        *FIELDS["learning_rate"].app_range,
        float(hp.effective_learning_rate),
        format="%.5f",
        key=form.learning_rate,
    )
    c3.number_input("Epochs", 1, MAX_EPOCHS, hp.epochs, key=form.epochs)
    c4.selectbox(
        "Batch size",
        BATCH_SIZES,
        index=BATCH_SIZES.index(hp.batch_size) if hp.batch_size in BATCH_SIZES else 3,
        key=form.batch_size,
    )
    st.number_input(
        "Race to a validation accuracy (%, 0 = no race)",
        0.0,
        99.9,
        float(round(100 * (hp.target_accuracy or 0.0), 1)),
        step=0.5,
        key=form.target_accuracy,
        help="Each run stops once its validation accuracy reaches this, and the leaderboard shows how long it "
        'took ("reached 90 % in 41 s"). Lock it below so every learner races to the same target.',
    )
    c1, c2 = st.columns(2)
    c1.multiselect(
        "Locked (shown, not changeable)",
        list(CONTROLS),
        default=list(getattr(start, "locked", ())),
        format_func=CONTROLS.get,
        key=form.locked,
    )
    c2.multiselect(
        "Hidden",
        list(CONTROLS),
        default=list(getattr(start, "hidden", ())),
        format_func=CONTROLS.get,
        key=form.hidden,
    )


def expected_time(form: keys.ChallengeForm, preset: str, dataset: str) -> None:
    """The expected time of one run with these settings, from this server's measured speed: a measurement
    job of the starting model, trained in a slot like a run, polled here until it has its answer."""
    try:
        hp = _hyperparameters(form)
        spec = starting_spec(preset, dataset)
    except (TypeError, ValueError, DatasetUnavailable):
        return
    job, problems = session.jobs.speed_measurement(spec, dataset, hp.batch_size)
    for problem in problems:
        st.warning(markdown_literal(problem), icon=":material/timer_off:")
    if job is None:
        return
    if job.active:
        measuring_speed(job.id)
        return
    speed = session.jobs.measured_speed(job)
    if speed is None:
        job_failure(job)
        st.button(
            "Measure the speed again",
            key=form.measure_again,
            icon=":material/timer:",
            on_click=session.jobs.speed_measurement,
            args=(spec, dataset, hp.batch_size, True),
        )
        return
    data = load_dataset(dataset)
    seconds = speed.run_seconds(hp, len(data.x_train), len(data.x_test))
    images = min(hp.limit_train or len(data.x_train), len(data.x_train))
    st.info(
        f"Expected time per run: **{describe_seconds(seconds)}** on this server with the starting model "
        f"({hp.epochs} epoch(s) of {images:,} training images, validation and the test set included; measured "
        f"here, {1000 * speed.train_seconds_per_example:.2f} ms per image per epoch). Bigger models take "
        "longer; several learners training at once share the server.",
        icon=":material/timer:",
    )


@st.fragment(run_every=POLL_SECONDS)
def measuring_speed(job_id: str) -> None:
    job = session.jobs.job(job_id)
    if job is None:
        return
    st.caption("Measuring this server's speed with the starting model, for the expected time of a run…")
    job_progress(job, "Measuring", key=f"speed_stop_{job_id}")
    if not job.active:
        st.rerun()  # measured: redraw the page once, which shows the expected time and stops the polling


def dataset_choices() -> list[str]:
    """The built-in data sets this server has, then the teacher's own imported ones."""
    built_in = [n for n in DATASETS if session.available_dataset(n) == n]
    own = [n for n in session.dataset_options() if n not in DATASETS]
    return built_in + own


# --- the page -------------------------------------------------------------------------------------

st.title("Teacher")
st.caption(
    "Set a challenge for your class: the data set (yours too), limits such as the number of parameters and "
    "epochs, and which training controls learners may change. Learners who open its link get a builder with "
    "those limits, and their runs race live on the Projector and fill the class leaderboard."
)

if not session.teacher_password():
    st.info(
        "Classroom mode is off on this server. To turn it on, start the app with a teacher password in the "
        "environment variable CNN_PLAYGROUND_TEACHER_PASSWORD (see docs/classroom.md).",
        icon=":material/lock:",
    )
    st.stop()
if not session.is_teacher():
    # Only the button logs in (no Enter), like every form on this page.
    with st.form("teacher_login", enter_to_submit=False, clear_on_submit=True):
        st.text_input("Teacher password", type="password", key=keys.Teacher.PASSWORD)
        st.form_submit_button("Log in", on_click=try_login)
    if problem := session.take_message(keys.Teacher.LOGIN_FAILED):
        st.error(problem)
    st.stop()

st.button("Log out", key="teacher_log_out", icon=":material/logout:", on_click=session.log_out)
create_tab, manage_tab = st.tabs(["New challenge", "Your challenges"])

with create_tab:
    # Plain widgets and one button, not a form: Enter in a field creates nothing, and the expected time
    # follows every change.
    choices = dataset_choices()
    form = keys.Teacher.NEW_CHALLENGE
    untitled = default_title(session.widget_value(form.dataset) or choices[0])
    st.text_input(
        "Title", max_chars=80, key=form.title, placeholder=untitled, help=f"Left empty: {markdown_literal(untitled)}."
    )
    c1, c2, c3 = st.columns(3)
    dataset = c1.selectbox(
        "Data set",
        choices,
        format_func=session.dataset_title,
        key=form.dataset,
        help="Your own imported data sets (Data page) are offered too: learners train on them but cannot "
        "download them.",
    )
    preset = c2.selectbox("Starting model", list(PRESETS), format_func=lambda n: PRESETS[n].title, key=form.preset)
    data = load_dataset(dataset)
    most_hidden = len(data.x_test) // 2 if data.task == CLASSIFICATION else 0
    c3.number_input(
        "Hidden test images (0 = none)",
        0,
        max(most_hidden, 0),
        0,
        step=100,
        key=form.hidden_test,
        disabled=not most_hidden,
        help="Keep this many test images back: learners never see them or their labels; the leaderboard "
        "scores every run on them.",
    )
    settings_controls(form, None, 5, 10_000 if len(data.x_train) > 10_000 else 0)
    expected_time(form, preset, dataset)
    st.button("Create challenge", key="create_challenge", type="primary", icon=":material/add:", on_click=create)
    outcome = session.take_message(keys.Teacher.CREATED)
    if outcome and outcome[0] == "error":
        for problem in outcome[1]:
            st.error(markdown_literal(problem))
    elif outcome:
        made = session.challenges().get(outcome[1])
        st.success("Challenge created; it is selected under **Your challenges**. Share this link with your class:")
        st.code(app_link("", PAGE, challenge=outcome[1]), language=None, wrap_lines=True)
        if made is not None and (warning := starting_model_warning(made)):
            st.warning(markdown_literal(warning))
    with st.expander("Import a challenge from another server", icon=":material/upload:"):
        st.file_uploader(
            "Class results file (.zip, exported on a Teacher page)", type=["zip"], key=keys.Teacher.IMPORT_FILE
        )
        st.button("Import the challenge", key="import_challenge", on_click=import_file)
        imported = session.take_message(keys.Teacher.IMPORTED)
        if imported and imported[0] == "error":
            for problem in imported[1]:
                st.error(markdown_literal(problem))
        elif imported:
            st.success("Challenge imported: it is selected under **Your challenges**.")


with manage_tab:
    try:
        challenges = session.classroom().list(session.teacher_token())  # newest first
    except NotTeacher as error:
        st.error(markdown_literal(str(error)))
        st.stop()
    if message := session.take_message(keys.Teacher.EDITED):
        kind, problems = message
        if kind == "error":
            for problem in problems:
                st.error(markdown_literal(problem))
        else:
            st.success({"saved": "Changes saved.", "deleted": "Challenge deleted."}[kind])
    if not challenges:
        st.info("No challenges yet: create one in the first tab.")
        st.stop()
    codes = [c.code for c in challenges]
    by_code = {c.code: c for c in challenges}
    if session.widget_value(keys.Teacher.CHALLENGE_CHOICE) not in codes:
        made = session.teacher_challenge()
        session.set_widget_value(keys.Teacher.CHALLENGE_CHOICE, made if made in codes else codes[0])
    code = st.selectbox(
        "Challenge",
        codes,
        key=keys.Teacher.CHALLENGE_CHOICE,
        format_func=lambda c: f"{by_code[c].title} ({c})" + (" · closed" if by_code[c].closed else ""),
    )
    challenge = by_code[code]
    status = "**Closed**: it takes no new runs. " if challenge.closed else ""
    hidden_note = (
        f" {challenge.hidden_test:,} test images are hidden and score the board." if challenge.hidden_test else ""
    )
    st.markdown(
        f"{status}{markdown_literal(session.dataset_title(challenge.dataset))}, {challenge.rules()}.{hidden_note}"
    )
    link_col, board_col = st.columns(2)
    link_col.markdown("**Link for learners**")
    link_col.code(app_link("", PAGE, challenge=code), language=None, wrap_lines=True)
    board_col.markdown("**Live race and leaderboard for the projector**")
    board_col.code(app_link("projector", PAGE, board=code), language=None, wrap_lines=True)

    with st.expander("Edit, close or delete this challenge"):
        edit_form = keys.Teacher.edit(code)
        st.text_input("Title", challenge.title, max_chars=80, key=edit_form.title)
        settings_controls(edit_form, challenge, challenge.max_epochs, challenge.hyperparameters.limit_train or 0)
        st.caption(
            "The data set and the hidden test set stay as created: runs already on the board were "
            "trained and scored on them. Learners get the new rules within seconds."
        )
        save_col, close_col, delete_col = st.columns(3)
        save_col.button("Save changes", key=f"save_{code}", type="primary", on_click=save_edit, args=(code,))
        close_col.button(
            "Reopen" if challenge.closed else "Close",
            key=f"close_{code}",
            icon=":material/lock_open:" if challenge.closed else ":material/lock:",
            on_click=set_closed,
            args=(code, not challenge.closed),
            help="A closed challenge takes no new runs; its leaderboard stays.",
        )
        sure = delete_col.checkbox("Yes, delete it", key=keys.Teacher.confirm_delete(code))
        delete_col.button(
            "Delete",
            key=f"delete_{code}",
            icon=":material/delete:",
            disabled=not sure,
            on_click=delete,
            args=(code,),
            help="The learners keep their runs; the link and the leaderboard stop working.",
        )

    @st.fragment(run_every=3)
    def live_leaderboard() -> None:
        rows = leaderboard(session.manager().classroom_runs(code), session.challenges().get(code) or challenge)
        st.header(f"Class leaderboard: {len(rows)} finished run{'' if len(rows) == 1 else 's'}")
        if rows:
            table = leaderboard_frame(rows, CLASS_COLUMNS).style.format({"Params": "{:,}"})
            st.dataframe(table, hide_index=True, width="stretch")
        else:
            st.caption("Finished runs of your learners appear here as they come in.")

    live_leaderboard()
    export_section(code)
    sure = st.checkbox("Yes, start the leaderboard afresh", key=keys.Teacher.CONFIRM_RESET)
    st.button(
        "Reset leaderboard",
        key="reset_leaderboard",
        disabled=not sure,
        icon=":material/restart_alt:",
        on_click=reset_leaderboard,
        args=(code,),
        help="Earlier runs stay stored for the learners, but no longer count on the board.",
    )
