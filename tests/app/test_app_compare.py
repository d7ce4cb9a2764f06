"""AppTest tests of "change one thing", Compare, coaching on Results, and share links."""

from helpers import APP, TIMEOUT, app_run, rerun, shape_rows, table_with, wait_for
from streamlit.testing.v1 import AppTest

import core.runs.manager
from core.share import encode
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

QUICK = Hyperparameters(epochs=2, batch_size=32, limit_train=300, limit_test=100, seed=5)


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def test_clone_change_one_thing_train_and_compare(app):
    uid = app.session_state["_user_id"]
    spec = PRESETS["model1"].spec(num_classes=5)
    parent = core.runs.manager.default_manager().start(spec, "shapes", QUICK, owner=uid, name="the original")
    assert wait_for(app_run(parent.id)).status == "finished"

    # Results: coaching under the chart, then "Clone and edit" opens the builder with the run's settings.
    app.switch_page("views/results.py")
    rerun(app)
    assert any("Try:" in t for t in texts(app.success) + texts(app.warning))
    downloads = {d.proto.label: d.proto for d in app.get("download_button")}
    assert not downloads["Download everything (.zip)"].disabled
    app.button(key="clone_run").click()
    rerun(app)
    pg = app.session_state["playground"]
    assert pg.parent_id == parent.id and pg.dataset == "shapes"
    assert pg.spec == spec and pg.hyperparameters == QUICK
    assert shape_rows(app)[0] == "conv2d (Conv2D)"  # on Build now
    assert any(f"copy of run `{parent.id}`" in t for t in texts(app.info))

    # Change one thing (the learning rate) and train: the new run records its parent.
    app.switch_page("views/train.py")
    rerun(app)
    assert app.number_input(key="hp_seed").value == 5  # the same seed
    app.number_input(key="hp_learning_rate").set_value(0.003)
    rerun(app)
    app.button(key="train").click()
    rerun(app)
    child_id = app.session_state["playground"].run_id
    assert child_id != parent.id
    child = wait_for(app_run(child_id))
    assert child.status == "finished" and child.parent_id == parent.id

    # Compare pairs them by default and shows the one difference.
    app.switch_page("views/compare.py")
    rerun(app)
    assert app.multiselect(key="compare_runs").value == [child_id, parent.id]
    assert len(app.get("plotly_chart")) == 1
    board = table_with(app, "Test accuracy (%)")
    assert sorted(board["Run"]) == sorted([child_id, parent.id])
    assert list(board["Cloned from"][board["Run"] == child_id]) == [parent.id]
    assert board["Test accuracy (%)"].notna().all() and board["Params"].tolist() == [107_973, 107_973]
    diff = table_with(app, "Differs")
    assert list(diff["Setting"]) == ["Learning rate"]  # only what differs, at first
    assert diff.iloc[0][child_id] == "0.003" and diff.iloc[0][parent.id] == "0.001"
    assert any("**1** setting(s) differ" in t for t in texts(app.markdown))

    app.toggle(key="compare_only_differences").set_value(False)  # every setting, differences highlighted
    rerun(app)
    diff = table_with(app, "Differs").set_index("Setting")
    assert len(diff) > 30 and diff["Differs"].sum() == 1 and diff.loc["Learning rate", "Differs"]
    assert diff.loc["Seed", child_id] == diff.loc["Seed", parent.id] == "5"
    assert diff.loc["conv2d_1 · filters"].tolist() == ["32", "32", False]

    # A different choice is kept while the followed run stays the same.
    app.multiselect(key="compare_runs").set_value([parent.id])
    rerun(app)
    app.switch_page("views/results.py")
    rerun(app)
    app.switch_page("views/compare.py")
    rerun(app)
    assert app.multiselect(key="compare_runs").value == [parent.id]
    assert any("Pick a second run" in t for t in texts(app.caption))


def test_compare_without_runs_explains_what_to_do(app):
    app.switch_page("views/compare.py")
    rerun(app)
    assert any("No runs yet" in t for t in texts(app.info))


def shared_model() -> dict:
    spec = PRESETS["model2"].spec(num_classes=5)
    spec["layers"].insert(
        0, {"type": "Conv2D", "filters": 8, "kernel_size": 5, "padding": "same", "activation": "relu"}
    )
    hp = Hyperparameters(optimizer="rmsprop", learning_rate=0.0005, epochs=7, batch_size=128, seed=11)
    return {"dataset": "shapes", "preset": "model2", "spec": spec, "hyperparameters": hp.to_dict()}


def open_app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    return rerun(at)


def test_opening_a_share_link_restores_the_builder_exactly():
    model = shared_model()
    at = open_app(s=encode(model))
    assert at.session_state["playground"].to_dict() == model
    assert shape_rows(at)[:2] == ["conv2d (Conv2D)", "conv2d_1 (Conv2D)"]
    assert any("shared model" in t for t in texts(at.info))
    assert "s" not in at.query_params  # consumed: the address no longer claims to be the shared model
    # Its settings reach the Train page.
    at.switch_page("views/train.py")
    rerun(at)
    assert at.number_input(key="hp_epochs").value == 7 and at.selectbox(key="hp_batch_size").value == 128
    assert at.selectbox(key="hp_optimizer").value == "rmsprop"


def test_a_damaged_share_link_loads_the_default_model_with_a_plain_message():
    token = encode(shared_model())
    at = open_app(s=token[: len(token) // 2])
    assert any("copy the whole link again" in t and "default model" in t for t in texts(at.info))
    assert at.session_state["playground"].preset == "model1"


def test_build_page_shows_a_share_link_of_the_current_model(app):
    app.button(key=f"b{app.session_state['playground'].builder_version}_1_del").click()  # remove a pooling layer
    rerun(app)
    assert not [c for c in app.code if "?s=" in c.value]  # made only when its expander is opened
    app.session_state["share_model"] = True  # what opening "Share this model" does
    rerun(app)
    [code] = [c.value for c in app.code if "?s=" in c.value]
    token = code.split("?s=", 1)[1]
    at = open_app(s=token)
    assert at.session_state["playground"].to_dict() == app.session_state["playground"].to_dict()
    assert len(shape_rows(at)) == 6
