"""Small helpers shared by the test modules: waiting, a fake trainer, hand-made runs, AppTest pages."""

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

import core.runs.manager
from core.classroom.challenges import new_code
from core.runs.challenges import Challenge
from core.runs.record import Ending, Run, Status
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS
from dashboard import session

REAL_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist


# Specs beyond the presets that exercise the other shape rules (strides, 'same', pairs, no bias...).
EXTRA_SPECS = {
    "strides_and_pairs": {
        "input_shape": [28, 28, 1],
        "layers": [
            {"type": "Conv2D", "filters": 8, "kernel_size": [3, 5], "strides": 2, "activation": "relu"},
            {"type": "AveragePooling2D", "pool_size": 3, "strides": 1},
            {"type": "Conv2D", "filters": 4, "kernel_size": 2, "strides": [1, 2], "padding": "same", "use_bias": False},
            {"type": "MaxPooling2D", "pool_size": [2, 3], "padding": "same"},
            {"type": "BatchNormalization"},
            {"type": "GlobalMaxPooling2D"},
            {"type": "Dense", "units": 7, "activation": "softmax", "use_bias": False},
        ],
    },
    "colour_same_padding": {
        "input_shape": [32, 32, 3],
        "layers": [
            {"type": "Conv2D", "filters": 12, "kernel_size": 5, "padding": "same", "activation": "relu"},
            {"type": "MaxPooling2D", "pool_size": 2, "strides": 3, "padding": "same"},
            {"type": "Dropout", "rate": 0.5},
            {"type": "Flatten"},
            {"type": "Dense", "units": 20, "activation": "tanh"},
            {"type": "BatchNormalization"},
            {"type": "Dense", "units": 10, "activation": "softmax"},
        ],
    },
}


def wait_for(target, timeout: float = 60.0, interval: float = 0.01):
    """Wait until ``target`` holds and return it; fail the test after ``timeout`` seconds.

    ``target`` is a Run (waited for until it has ended, on the run's own event) or a condition, a
    function polled every ``interval`` seconds until it returns something true.
    """
    if isinstance(target, Run):
        assert target.wait(timeout), f"run still {target.status} after {timeout} s"
        return target
    deadline = time.monotonic() + timeout
    while not (value := target()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(interval)
    return value


FAKE_RESULTS = {"test_accuracy": 0.5, "test_loss": 1.0, "test_examples": 2}


class FakeTrainer:
    """A trainer that trains nothing, for tests of queueing, pausing, stopping and ordering (milliseconds).

    It records batches and epochs into the run as the Keras trainer does and honours pause and stop
    between batches. While ``gate`` is closed (``FakeTrainer(open=False)``, or ``gate.clear()``) each run
    holds before its next batch, keeping its slot, until the test opens it (``gate.set()``) or stops it.
    """

    def __init__(self, batches_per_epoch: int = 3, open: bool = True):
        self.batches_per_epoch = batches_per_epoch
        self.gate = threading.Event()
        if open:
            self.gate.set()
        self.started: list[str] = []  # run ids in the order they began training
        self.prepared = 0

    def prepare(self, threads: int) -> None:
        self.prepared += 1

    def train(self, run: Run, store, *, continue_training: bool = False) -> Ending:
        self.started.append(run.id)
        run.begin(self.batches_per_epoch)
        for epoch in range(run.epoch if continue_training else 0, run.hyperparameters.epochs):
            for batch in range(self.batches_per_epoch):
                while not self.gate.wait(0.005) and not run.stop_requested:
                    pass
                if not run.stop_requested:
                    run.record_batch(epoch, batch, loss=1.0 / (epoch + batch + 1), accuracy=0.5)
                    run.wait_while_paused()
                if run.stop_requested:
                    return Ending(Status.STOPPED, f"Stopped by you after {run.epoch} complete epoch(s).", FAKE_RESULTS)
            run.record_epoch({"epoch": epoch + 1, "loss": 0.5, "accuracy": 0.5, "seconds": 0.001})
        return Ending(Status.FINISHED, "", FAKE_RESULTS)


def rerun(at):
    """One AppTest script run, failing the test on any exception the page raised."""
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at, page: str):
    """Switch the AppTest session to dashboard/views/<page>.py and run it."""
    at.switch_page(f"views/{page}.py")
    return rerun(at)


def finished_run(owner="alice", name="first try", created=None, epochs=2, batches_per_epoch=3) -> Run:
    """A finished run with history and results, built by hand (no training needed to test the store)."""
    run = Run(
        PRESETS["model1"].spec(num_classes=5),
        "shapes",
        Hyperparameters(epochs=epochs, batch_size=16, seed=5),
        owner=owner,
        name=name,
        created=created,
        params=107_973,
    )
    run.begin(batches_per_epoch)
    for epoch in range(epochs):
        for batch in range(batches_per_epoch):
            run.record_batch(epoch, batch, loss=1.5 - 0.1 * batch, accuracy=0.3 + 0.05 * batch)
        run.record_epoch(
            {
                "epoch": epoch + 1,
                "loss": 1.2 - epoch / 10,
                "accuracy": 0.5,
                "val_loss": 1.3,
                "val_accuracy": 0.45,
                "seconds": 0.7,
            }
        )
    run.finish(
        Status.FINISHED,
        "",
        {
            "test_accuracy": 0.75,
            "test_loss": 0.8,
            "test_examples": 4,
            "confusion_matrix": [[1, 0], [1, 2]],
            "per_class_accuracy": [1.0, 0.6667],
        },
    )
    return run


# --- AppTest pages -------------------------------------------------------------------------------

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
TIMEOUT = 60


class _MarkdownTable:
    """A Markdown table's rows as a DataFrame (empty when the Markdown is not a table)."""

    def __init__(self, markdown):
        lines = [line.strip() for line in markdown.value.splitlines() if line.strip().startswith("|")]
        rows = [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
        self.value = pd.DataFrame(rows[2:], columns=rows[0]) if len(rows) >= 2 else pd.DataFrame()


def table_with(at: AppTest, column: str):
    """The first table on the page that has this column (AppTest does not expose dataframe keys): data
    grids (st.dataframe), static tables (st.table) and Markdown tables (the model summaries) alike."""
    for frame in [*at.table, *at.dataframe, *map(_MarkdownTable, at.markdown)]:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


def shape_rows(at: AppTest) -> list[str]:
    return list(table_with(at, "Output shape")["Layer (type)"])


def use_shapes(at: AppTest) -> None:
    at.switch_page("views/data.py")
    rerun(at)
    at.selectbox(key="dataset_choice").select("shapes")
    rerun(at)


def app_run(run_id: str):
    """The app's run with this id, whoever trained it (the live object while it trains).

    Tests look as the server's operator would; the pages only ever see their own user's runs.
    """
    manager = core.runs.manager.default_manager()
    stored = manager.store.load(run_id)
    return None if stored is None else manager.get(run_id, stored.owner)


def app_opened_with(**query) -> AppTest:
    """A new app session opened at an address with these query parameters (?challenge=..., ?s=...),
    after its first script run, which must raise nothing."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    return rerun(at)


TEACHER_PASSWORD = "s3cret"


def teacher_logged_in(monkeypatch) -> AppTest:
    """A new app session on the Teacher page, logged in with the password classroom mode is set up with here
    (earlier tests' wrong passwords forgotten, so no wait)."""
    from dashboard.session import teacher as teacher_login

    monkeypatch.setenv("CNN_PLAYGROUND_TEACHER_PASSWORD", TEACHER_PASSWORD)
    teacher_login._throttle.clear()
    at = app_opened_with()
    open_page(at, "teacher")
    at.text_input(key="teacher_password").set_value(TEACHER_PASSWORD)
    at.button(key="FormSubmitter:teacher_login-Log in").click()
    return rerun(at)


def restart_app_server() -> None:
    """As if the server restarted: the process-wide run manager is rebuilt, on the store folder
    CNN_PLAYGROUND_HOME names now (each test has its own)."""
    core.runs.manager.reset_default_manager()
    session.manager.clear()


def app_trains_nothing(monkeypatch, **fake_options) -> FakeTrainer:
    """As restart_app_server, with the rebuilt manager's runs trained by the fake trainer (FakeTrainer's
    options, e.g. ``open=False``): for page tests whose runs need to queue, train, stop and end as runs do,
    with history and results, but not to learn anything (tests of training keep the Keras trainer)."""
    trainer = FakeTrainer(**fake_options)
    monkeypatch.setattr(core.runs.manager, "KerasTrainer", lambda: trainer)
    restart_app_server()
    return trainer


# A model with every kind of automatic Keras layer name (conv, pooling, batch norm, global pooling, dense).
MIXED_LAYERS_SPEC = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3},
        {"type": "MaxPooling2D"},
        {"type": "Conv2D", "filters": 4, "kernel_size": 3},
        {"type": "BatchNormalization"},
        {"type": "MaxPooling2D"},
        {"type": "GlobalAveragePooling2D"},
        {"type": "Dense", "units": 8},
        {"type": "Dense", "units": 3, "activation": "softmax"},
    ],
}


def model1_challenge(**changes) -> Challenge:
    """A classroom challenge on Shapes, not saved (model 1 preset, at most 120,000 parameters and 3 epochs,
    2 epochs of 300 training and 60 test images per run, optimizer and batch size locked), with ``changes``."""
    values = dict(
        code=new_code(),
        title="Best shapes CNN",
        dataset="shapes",
        preset="model1",
        max_params=120_000,
        max_epochs=3,
        hyperparameters=Hyperparameters(
            optimizer="adam", learning_rate=0.001, epochs=2, batch_size=32, limit_train=300, limit_test=60
        ),
        locked=("optimizer", "batch_size"),
        hidden=("seed",),
    )
    values.update(changes)
    return Challenge(**values)


def make_challenge(**changes) -> Challenge:
    """A classroom challenge on Shapes saved in the app's store (blank preset, at most 20,000 parameters and
    2 epochs, 300 training and 60 test images per run, optimizer locked), with ``changes`` applied."""
    values = dict(
        code=new_code(),
        title="Shapes sprint",
        dataset="shapes",
        preset="blank",
        max_params=20_000,
        max_epochs=2,
        hyperparameters=Hyperparameters(
            optimizer="adam", learning_rate=0.001, epochs=2, batch_size=32, limit_train=300, limit_test=60
        ),
        locked=("optimizer",),
        hidden=("seed",),
    )
    values.update(changes)
    return session.challenges().save(Challenge(**values))


def server_process(script: str, *args: str, env: dict | None = None, own_session: bool = False) -> subprocess.Popen:
    """``python -c script args`` from the project folder (as a second web server would run), its standard
    output readable as text; ``own_session`` puts it and every process it starts in a session of their own,
    to end them all together (``os.killpg``)."""
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env={**os.environ, "PYTHONPATH": os.getcwd(), "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=own_session,
    )
