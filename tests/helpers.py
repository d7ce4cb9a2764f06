"""Small helpers shared by the test modules."""

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

import core.runs.manager
from core.model.presets import PRESETS
from core.runs.record import Run, Status
from core.training.hyperparams import Hyperparameters

REAL_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist


def wait_for(condition, timeout: float = 60.0, interval: float = 0.02) -> None:
    """Poll until condition() is true; fail the test after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(interval)


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


def table_with(at: AppTest, column: str):
    """The first table on the page that has this column (AppTest does not expose dataframe keys)."""
    for frame in at.dataframe:
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


def wait_until_ended(at: AppTest, run_id: str, timeout: float = 120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        rerun(at)  # AppTest does not fire run_every: poll by hand
        run = app_run(run_id)
        if not run.active:
            break
        time.sleep(0.5)
    rerun(at)
    return run
