"""Loose ends a class hour ran into: a finished run's name and epochs match its history after Stop and
Train more; no partial parameter total while the model is invalid; the preset's description only while
the model is that preset; no "None" in the runs table; no wrong article before a class name; coaching
says rows for a table; the layer cards' icon buttons have names."""

import time

from helpers import finished_run, rerun

import core.runs.manager
from core.insight.coaching import coach
from core.runs.record import Status
from core.share import encode
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS
from core.training.tasks import TASKS
from dashboard.components.layer_card import ICON_BUTTON_NAMES

QUICK = Hyperparameters(epochs=1, batch_size=32, limit_train=300)


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def open_page(app, page: str):
    app.switch_page(page)
    rerun(app)
    assert not app.exception, app.exception
    return app


def wait_for(run, seconds: float = 60):
    assert run.wait(seconds), f"run {run.id} did not end"
    return run


def settings_table(app) -> dict:
    frame = next(d.value for d in app.dataframe if list(d.value.columns) == ["Setting", "Value"])
    return dict(zip(frame["Setting"], frame["Value"]))


def test_a_stopped_and_a_trained_on_run_say_the_epochs_they_had(app):
    uid = app.session_state["_user_id"]
    manager = core.runs.manager.default_manager()
    spec = PRESETS["model1"].spec(num_classes=5)
    run = manager.start(spec, "shapes", QUICK.__class__(**{**QUICK.to_dict(), "epochs": 50}), owner=uid, name="long")
    deadline = time.monotonic() + 60
    while run.epoch < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    manager.stop(run.id, uid)
    wait_for(run)
    assert run.status == Status.STOPPED and "ep" not in run.name.split()
    open_page(app, "views/results.py")
    app.selectbox(key="results_run").set_value(run.id)
    rerun(app)
    assert settings_table(app)["Epochs"] == f"{run.epoch} of 50 planned"


def test_no_partial_parameter_total_while_the_model_has_a_problem(app):
    app.session_state["playground"].spec["layers"][0]["kernel_size"] = [40, 40]  # larger than the 28×28 image
    app.session_state["playground"].builder_version += 1
    rerun(app)
    markdown = texts(app.markdown)
    assert any("Total params: —" in m for m in markdown)
    assert not any(m.startswith("**Total params: ") and "—" not in m for m in markdown)


def test_the_preset_description_goes_once_the_model_is_changed(app):
    preset = PRESETS[app.session_state["playground"].preset]
    assert preset.description in texts(app.caption)
    app.button(key=f"b{app.session_state['playground'].builder_version}_0_del").click()  # remove layer 1
    rerun(app)
    captions = texts(app.caption)
    assert preset.description not in captions
    assert any("has changed since" in c for c in captions)


def test_a_shared_model_does_not_get_its_presets_description(app):
    from helpers import APP
    from streamlit.testing.v1 import AppTest

    spec = PRESETS["model1"].spec()
    spec["layers"][0]["filters"] = 8  # not model 1 any more
    token = encode({"dataset": "shapes", "preset": "model1", "spec": spec, "hyperparameters": QUICK.to_dict()})
    shared = AppTest.from_file(APP, default_timeout=60)
    shared.query_params["s"] = token
    shared.run()
    captions = texts(shared.caption)
    assert PRESETS["model1"].description not in captions and any("has changed since" in c for c in captions)


def test_the_runs_table_has_no_none_for_a_regression(app):
    uid = app.session_state["_user_id"]
    store = core.runs.manager.default_manager().store
    images = finished_run(owner=uid, name="images")
    images.results["class_names"] = ["square", "circle"]
    table = finished_run(owner=uid, name="table", created=time.time() - 100)  # older: the images run is shown
    table.task = TASKS["regression"]
    table.results = {"task": "regression", "test_mae": 1.25, "test_loss": 2.0}
    for run in (images, table):
        store.save(run)
    open_page(app, "views/results.py")
    frame = next(d.value for d in app.dataframe if "Test MAE" in d.value.columns)
    cells = frame.astype(str).to_numpy().ravel().tolist()
    assert "None" not in cells and "nan" not in cells
    assert set(frame["Test MAE"]) == {"—", "1.25"} and set(frame["Test accuracy (%)"]) == {"75.00", "—"}


def test_coaching_says_rows_for_a_table():
    epochs = [
        {"epoch": e, "loss": 1.0 - 0.1 * e, "val_loss": [0.9, 0.8, 0.85, 0.9, 1.0, 1.1][e - 1]} for e in range(1, 7)
    ]
    findings = coach(epochs, examples="rows", limit_train=96)
    text = " ".join(f.statement + " " + f.suggestion for f in findings)
    assert "rows" in text and "images" not in text


def test_icon_buttons_have_accessible_names(app):
    scripts = [h.proto.body for h in app.get("html")]
    assert any("aria-label" in s and "Move layer {n} up" in s for s in scripts)
    assert set(ICON_BUTTON_NAMES) == {"_up", "_down", "_dup", "_del"}
