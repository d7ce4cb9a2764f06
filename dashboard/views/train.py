"""Train: pick the training settings, press Train, watch accuracy and loss live, stop any time."""

import streamlit as st

from core.data.datasets import REGRESSION
from core.messages import counted
from core.numbers import as_typed
from core.runs.manager import RunRejected
from core.training.hyperparams import FIELDS_BY_NAME as FIELDS
from core.training.hyperparams import LOSSES, OPTIMIZERS, SCHEDULES
from core.training.lr_finder import smooth
from dashboard import session
from dashboard.charts.experiments import lr_finder_figure
from dashboard.components.history_chart import history_chart
from dashboard.components.jobs import job_failure, job_progress
from dashboard.components.number_field import number_field
from dashboard.components.run_status import run_status
from dashboard.components.user_text import markdown_literal
from dashboard.session import keys

POLL_SECONDS = 1.0
FIRST_POINT_POLL_SECONDS = 0.25
WAITING_POLL_SECONDS = 2.0
BATCH_SIZES = list(FIELDS["batch_size"].options)  # labels, help, ranges and steps: the field table


def _set(name: str, key: str, transform=lambda v: v) -> None:
    session.set_hyperparameters(**{name: transform(as_typed(session.widget_value(key)))})


def _set_learning_rate() -> None:
    session.choose_learning_rate(as_typed(session.widget_value(keys.Train.LEARNING_RATE)))


def _set_optimizer() -> None:
    # core's rule (Hyperparameters.with_optimizer): a learning rate the learner chose stays; any other
    # becomes the new optimizer's own.
    session.change_optimizer(session.widget_value(keys.Train.OPTIMIZER))
    # Set, not forgotten: a browser keeps showing a keyed field's old value when only its default changes.
    session.set_widget_value(keys.Train.LEARNING_RATE, session.playground().hyperparameters.effective_learning_rate)


def start_training() -> None:
    pg = session.playground()
    current = session.followed_run()
    if current is not None and current.active:
        return  # a second quick click on Train: the first run is already starting
    try:
        run = session.manager().start(
            pg.spec,
            pg.dataset,
            pg.hyperparameters,
            owner=session.user_id(),
            name=_run_name(pg),
            parent_id=pg.parent_id,
            challenge=session.active_challenge(),
            learner=session.learner_name(),
        )
    except RunRejected as rejected:
        session.set_training_problems(rejected.problems)
        return
    session.set_training_problems([])
    session.follow_run(run.id)


def _run_name(pg) -> str:
    """Preset and optimizer: what stays true of the run; its epochs are shown from its history, which
    Stop and Train more change."""
    hp = pg.hyperparameters
    return f"{pg.preset} · {hp.optimizer} lr {hp.effective_learning_rate:g}"


def train_more(run_id: str) -> None:
    try:
        session.train_more(run_id, int(session.widget_value(keys.Train.MORE_EPOCHS)))
    except RunRejected as rejected:
        session.set_training_problems(rejected.problems)
        return
    session.set_training_problems([])


def training_actions() -> None:
    """Train, Pause and Stop in one row at the top, with every reason Train cannot start beside them:
    visible without scrolling on a 1366×768 screen."""
    run = session.followed_run()
    analysis = session.analysis()
    busy = run is not None and run.active
    reason = ""
    if not analysis.ok:
        count = len(analysis.problems)
        reason = f"The model has {counted(count, 'problem')}: fix {'it' if count == 1 else 'them'} on Build first."
    elif busy:
        reason = "A run is already training: stop it or wait for it to end."
    hp_problems = session.settings_problems()
    if hp_problems and not reason:
        reason = " ".join(hp_problems)
    if not reason:
        session.prepare_next_run()  # what Train would start now, traced ahead by an idle worker
    train_col, pause_col, stop_col, why_col = st.columns([1, 1, 1, 4], vertical_alignment="center")
    train_col.button(
        "Train",
        key="train",
        type="primary",
        icon=":material/play_arrow:",
        disabled=bool(reason),
        on_click=start_training,
        width="stretch",
        help=reason or "Start training in the background.",
    )
    paused = busy and run.pause_requested
    pause_col.button(
        "Resume" if paused else "Pause",
        key="pause",
        icon=":material/play_arrow:" if paused else ":material/pause:",
        disabled=not busy or run.status == "stopping",
        width="stretch",
        on_click=session.toggle_pause,
        args=(run.id if run else "",),
        help="Pause after the current batch; resume where it stopped.",
    )
    stop_col.button(
        "Stop",
        key="stop",
        icon=":material/stop:",
        disabled=not busy,
        width="stretch",
        on_click=session.stop_run,
        args=(run.id if run else "",),
        help="Stop after the current batch.",
    )
    with why_col:
        if reason:
            st.warning(markdown_literal(reason), icon=":material/block:")
        for problem in session.training_problems():
            st.error(markdown_literal(problem), icon=":material/block:")


def train_more_controls(run) -> None:
    """More epochs and its button; in a challenge, at most the epochs its cap leaves this run."""
    challenge = session.active_challenge() if run.challenge else None
    if challenge is not None and challenge.code != run.challenge:
        challenge = None
    most = session.manager().policy.allowed_maxima(challenge).more_epochs(run.epoch)
    if most < 1:
        st.caption(
            f"This run has the {counted(run.epoch, 'epoch')} this challenge allows. To do better, change the model on "
            "Build or a setting here, and press Train for a new run."
        )
        return
    if (session.widget_value(keys.Train.MORE_EPOCHS) or 0) > most:
        session.set_widget_value(keys.Train.MORE_EPOCHS, min(2, most))  # kept from another run: above this one's most
    more, button = st.columns([1, 2], vertical_alignment="bottom")
    more.number_input("More epochs", 1, most, min(2, most), key=keys.Train.MORE_EPOCHS)
    button.button(
        "Train this run more",
        key="train_more",
        icon=":material/fast_forward:",
        on_click=train_more,
        args=(run.id,),
        help="Continue from the trained weights and optimizer state; the history goes on.",
    )


pg = session.playground()
hp = pg.hyperparameters
st.title("Train")
training_actions()
settings, live = st.columns([1, 3], gap="large")

with settings:
    st.header("Settings")
    challenge = session.active_challenge()

    regression = session.current_data().task == REGRESSION

    def words(text: str) -> str:
        """The field table speaks of images; a table's examples are its rows."""
        return text.replace("images", "rows") if regression else text

    def shown(control: str) -> bool:
        return session.control(control) != "hidden"

    def locked(control: str) -> bool:
        return session.control(control) == "locked"

    def bound(field: str, key: str, *transform, lock: str | None = None) -> dict:
        """What every setting's widget shares: its key, writing its value to ``field`` (through
        ``transform``), the challenge's lock (of ``lock``, else of the field itself), and the field's help."""
        return dict(
            key=key,
            on_change=_set,
            args=(field, key, *transform),
            disabled=locked(lock or field),
            help=words(FIELDS[field].help),
        )

    opt_names = list(OPTIMIZERS)
    if shown("optimizer"):
        st.selectbox(
            FIELDS["optimizer"].label,
            opt_names,
            index=opt_names.index(hp.optimizer),
            key=keys.Train.OPTIMIZER,
            on_change=_set_optimizer,
            format_func=lambda n: OPTIMIZERS[n].keras_name,
            disabled=locked("optimizer"),
            help=FIELDS["optimizer"].help,
        )
        st.caption(OPTIMIZERS[hp.optimizer].summary)
    if shown("learning_rate"):
        number_field(
            FIELDS["learning_rate"].label,
            hp.effective_learning_rate,
            step=FIELDS["learning_rate"].step,
            **{**bound("learning_rate", keys.Train.LEARNING_RATE), "on_change": _set_learning_rate, "args": ()},
        )
        # The schedule goes with the learning rate (a teacher's lock or hiding of it covers both).
        schedules = list(SCHEDULES)
        st.selectbox(
            FIELDS["learning_rate_schedule"].label,
            schedules,
            index=schedules.index(hp.learning_rate_schedule) if hp.learning_rate_schedule in schedules else 0,
            **bound("learning_rate_schedule", keys.Train.SCHEDULE, lock="learning_rate"),
        )
    if shown("epochs"):
        number_field(FIELDS["epochs"].label, hp.epochs, **bound("epochs", keys.Train.EPOCHS))
    if shown("batch_size"):
        st.selectbox(
            FIELDS["batch_size"].label,
            BATCH_SIZES,
            index=BATCH_SIZES.index(hp.batch_size) if hp.batch_size in BATCH_SIZES else 2,
            **bound("batch_size", keys.Train.BATCH_SIZE),
        )
    if regression:
        losses = list(LOSSES)
        st.selectbox(
            FIELDS["loss"].label,
            losses,
            index=losses.index(hp.loss) if hp.loss in losses else 0,
            key=keys.Train.LOSS,
            on_change=_set,
            args=("loss", keys.Train.LOSS),
            format_func=lambda n: LOSSES[n].title,
            help=FIELDS["loss"].help,
        )
        st.caption(LOSSES[hp.loss].summary)
    if shown("validation_split"):
        st.slider(
            FIELDS["validation_split"].label,
            *FIELDS["validation_split"].app_range,
            float(hp.validation_split),
            FIELDS["validation_split"].step,
            **bound("validation_split", keys.Train.VALIDATION_SPLIT),
        )
    if shown("seed"):
        number_field(FIELDS["seed"].label, hp.seed, **bound("seed", keys.Train.SEED))
    if not regression and shown("label_smoothing"):
        st.slider(
            FIELDS["label_smoothing"].label,
            *FIELDS["label_smoothing"].app_range,
            float(hp.label_smoothing or 0.0),
            FIELDS["label_smoothing"].step,
            **bound("label_smoothing", keys.Train.LABEL_SMOOTHING),
        )
    if not regression and shown("target_accuracy"):
        # A percentage on the page (90 reads better than 0.9); the field keeps the share.
        number_field(
            FIELDS["target_accuracy"].label,
            round(100 * (hp.target_accuracy or 0.0), 2),  # 0: off
            step=100 * FIELDS["target_accuracy"].step,
            **bound("target_accuracy", keys.Train.TARGET_ACCURACY, lambda v: v / 100 or None),
        )
    if shown("early_stopping_patience"):
        number_field(
            FIELDS["early_stopping_patience"].label,
            hp.early_stopping_patience or 0,  # 0: off
            **bound("early_stopping_patience", keys.Train.PATIENCE, lambda v: v or None),
        )
    if challenge is not None and challenge.train_images:
        st.caption(words(f"Each run trains on {challenge.train_images:,} images, as your teacher set."))
    if challenge is None:
        with st.expander("Quick experiment"):
            number_field(
                words(FIELDS["limit_train"].label),
                hp.limit_train or 0,  # 0: all
                step=FIELDS["limit_train"].step,
                key=keys.Train.LIMIT_TRAIN,
                on_change=_set,
                args=("limit_train", keys.Train.LIMIT_TRAIN, lambda v: v or None),
            )


def use_learning_rate(value: float) -> None:
    session.choose_learning_rate(value)
    session.set_widget_value(keys.Train.LEARNING_RATE, value)  # shown in the field (see _set_optimizer)


def lr_finder_section(model_ok: bool) -> None:
    """The range test is a job of the run manager: it waits for a slot like any run, trains there (never in
    the web server), and this section polls it."""
    job = session.jobs.lr_job()
    with st.expander("Learning-rate finder", expanded=job is not None, icon=":material/speed:"):
        st.caption(
            "Trains a copy of your model for a few hundred batches while the learning rate grows from very small "
            "to very large, and draws the loss against it. Your model and settings are not changed until you "
            "press *Use it*."
        )
        reason = "" if model_ok else "Fix the model's problems on Build first."
        reason = reason or ("The finder is trying learning rates already." if job is not None and job.active else "")
        st.button(
            "Find a learning rate",
            key="lr_find",
            icon=":material/search:",
            disabled=bool(reason),
            help=reason or "Queued like a run: it starts when a training slot is free.",
            on_click=session.jobs.start_lr_finder,
        )
        for problem in session.jobs.lr_problems():
            st.error(markdown_literal(problem), icon=":material/block:")
        if job is not None and job.active:
            lr_finder_progress(job.id)
        elif job is not None:
            lr_finder_result(job)


@st.fragment(run_every=POLL_SECONDS)
def lr_finder_progress(job_id: str) -> None:
    job = session.jobs.job(job_id)
    if job is None:
        return
    job_progress(job, "Trying learning rates", key="lr_stop")
    batches = [b for b in job.batch_history() if "learning_rate" in b]
    if batches:
        losses = [b["loss"] for b in batches]
        st.plotly_chart(
            lr_finder_figure([b["learning_rate"] for b in batches], losses, smooth(losses).tolist(), None),
            key="lr_live_chart",
        )
    if not job.active:
        st.rerun()  # it ended: redraw the page once, which shows the finding and stops the polling


def lr_finder_result(job) -> None:
    finding = session.jobs.lr_finding()
    if finding is None:
        job_failure(job)
        return
    st.plotly_chart(
        lr_finder_figure(finding.learning_rates, finding.losses, finding.smoothed, finding.suggestion),
        key="lr_chart",
    )
    st.markdown(finding.reason)
    st.caption(f"{len(finding.losses)} batches in {finding.seconds:.0f} s. " + " ".join(finding.notes))
    if job.status == "stopped":
        st.caption(markdown_literal(job.message))
    if finding.suggestion is not None:
        st.button(
            f"Use it: {finding.suggestion:g}",
            key="lr_use",
            type="primary",
            icon=":material/check:",
            on_click=use_learning_rate,
            args=(finding.suggestion,),
        )


def poll_seconds(run) -> float:
    """How often the live panel polls its run: often while the first chart point is due (it comes a second
    or so after Train), every second while it trains, every two while it only waits in the queue (a class
    of thirty waiting pages costs the server little)."""
    if run.status == "queued":
        return WAITING_POLL_SECONDS
    has_points = run.epoch > 0 or run.batch > 0  # a batch recorded in this epoch, or an epoch done
    return POLL_SECONDS if has_points else FIRST_POINT_POLL_SECONDS


def live_panel(run_id: str, period: float) -> None:
    run = session.own_run(run_id)
    if run is None:
        return
    run_status(run)
    history_chart(run, key="live_chart")
    if not run.active or poll_seconds(run) != period:
        st.rerun()  # the run ended, or its polling pace changed: redraw the whole page once


with live:
    run = session.followed_run()
    if run is None:
        st.header("Live training chart")
        st.info(
            f"Press **Train** to start. {'The MAE' if regression else 'Accuracy'} and loss appear here "
            "while the network learns; "
            "you can switch pages meanwhile — training goes on in the background."
        )
    else:
        st.header(f"Run {run.id}: {markdown_literal(run.name)}")
        if run.active:
            period = poll_seconds(run)
            st.fragment(run_every=period)(live_panel)(run.id, period)
        else:
            run_status(run)
            history_chart(run, key="final_chart")
            if st.button("See the results of this run", key="to_results", icon=":material/insights:"):
                st.switch_page("views/results.py")
            if run.status in ("finished", "stopped"):
                train_more_controls(run)
    if shown("learning_rate") and not locked("learning_rate"):
        lr_finder_section(session.analysis().ok)
