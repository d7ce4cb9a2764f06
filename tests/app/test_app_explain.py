"""AppTest tests of issue 14 in the pages: how a number was computed (Inside), the shape sandbox and the
architecture picture (Build), the model card, picture and TFLite files (Results), the architecture diff
(Compare)."""

import copy

import pytest
from helpers import APP, open_page, rerun, restart_app_server, table_with
from streamlit.testing.v1 import AppTest

from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

TIMEOUT = 60
OWNER = "0123456789abcdef"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """Two finished runs on shapes owned by OWNER: model 1, and model 1 with a Dropout and a wider conv."""
    home = tmp_path_factory.mktemp("explain_app_home")
    manager = RunManager(RunStore(home), max_concurrent=1)
    hp = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=100)
    spec = PRESETS["model1"].spec((28, 28, 1), 5)
    variant = copy.deepcopy(spec)
    variant["layers"].insert(2, {"type": "Dropout", "rate": 0.2})
    variant["layers"][0]["filters"] = 8
    first = manager.start(spec, "shapes", hp, owner=OWNER, name="first")
    assert first.wait(120) and first.status == "finished", first.message
    second = manager.start(variant, "shapes", hp, owner=OWNER, name="second")
    assert second.wait(120) and second.status == "finished", second.message
    return home, first, second


@pytest.fixture
def app(monkeypatch, finished):
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(finished[0]))
    restart_app_server()  # the app's manager on the finished runs' store folder
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["_user_id"] = OWNER  # as if its browser sent the owner's cookie (AppTest has none)
    return rerun(at)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def assert_worked_out_equals_the_network(at: AppTest) -> None:
    assert metric(at, "Worked out here") == metric(at, "The network's value")


def test_inside_explains_conv_pool_and_output_values(app, finished):
    _, first, _ = finished
    open_page(app, "inside")
    app.selectbox(key="inside_run").select(first.id)
    rerun(app)
    assert any(h.value == "How this number was computed" for h in app.header)
    assert_worked_out_equals_the_network(app)
    column = app.number_input(key="arith_col_conv2d").value
    row = app.number_input(key="arith_row_conv2d").value
    step = 1 if column < 25 else -1
    app.button(key="arith_right_conv2d" if step == 1 else "arith_left_conv2d").click()
    rerun(app)
    assert app.number_input(key="arith_col_conv2d").value == column + step
    assert app.number_input(key="arith_row_conv2d").value == row
    assert_worked_out_equals_the_network(app)
    app.number_input(key="arith_filter_conv2d").set_value(3)
    rerun(app)
    assert_worked_out_equals_the_network(app)
    for layer in ("conv2d_1", "max_pooling2d", "dense", "dense_1"):
        app.selectbox(key="arith_layer").select(layer)
        rerun(app)
        assert_worked_out_equals_the_network(app)
        charts = {chart.key for chart in app.get("plotly_chart")}
        # a deeper map also shows the part of the image its value sees
        assert (f"arith_field_{layer}" in charts) == (layer in ("conv2d_1", "max_pooling2d"))
    assert any("Softmax turns every class's score" in m.value for m in app.markdown)


def test_inside_keeps_its_choices_within_another_runs_smaller_layer(app, finished):
    _, first, second = finished
    open_page(app, "inside")
    app.selectbox(key="inside_run").select(first.id)
    rerun(app)
    app.number_input(key="arith_filter_conv2d").set_value(12)  # the second run's conv2d has 8 filters
    rerun(app)
    app.selectbox(key="inside_run").select(second.id)
    rerun(app)
    assert app.number_input(key="arith_filter_conv2d").value == 7
    assert_worked_out_equals_the_network(app)


def test_build_shows_the_picture_and_the_sandbox_flags_a_window_that_does_not_fit(app):
    assert any("svg" in url for image in app.get("image") for url in image.value), "no architecture picture"
    assert not [s for s in app.slider if s.key == "sandbox_size"]  # made only when opened
    app.session_state["sandbox_open"] = True  # what opening its expander does
    rerun(app)
    app.slider(key="sandbox_size").set_value(6)
    app.slider(key="sandbox_kernel").set_value(9)
    rerun(app)
    assert any("Does not fit" in e.value and "larger than the input (6)" in e.value for e in app.error)
    app.radio(key="sandbox_padding").set_value("same")
    app.slider(key="sandbox_stride").set_value(2)
    rerun(app)
    assert any("Output: 3×3" in s.value for s in app.success)
    assert any("ceil(6 / 2) = 3" in m.value for m in app.markdown)


def test_a_layer_cards_shape_problem_links_to_the_sandbox_with_its_numbers(app):
    v = app.session_state["playground"].builder_version
    app.selectbox(key=f"b{v}_2_kernel_size").select(15)  # the second conv sees 13×13
    rerun(app)
    assert any("is only 13×13" in e.value for e in app.error)
    app.button(key="sandbox_link_2").click()
    rerun(app)
    assert app.slider(key="sandbox_size").value == 13 and app.slider(key="sandbox_kernel").value == 15
    assert any("Does not fit" in e.value for e in app.error)


def test_results_show_picture_model_card_and_make_the_tflite_files(app, finished):
    _, first, _ = finished
    open_page(app, "results")
    app.selectbox(key="results_run").select(first.id)
    rerun(app)
    # Closed, the card is not made (it loads the model and times it); opened, it is.
    assert not [m for m in app.markdown if m.value.startswith("### Model card")]
    assert not [b for b in app.get("download_button") if "results_diagram_svg" in b.proto.id]
    app.session_state["model_card_open"] = True  # what opening its expanders does
    app.session_state["results_picture_open"] = True
    rerun(app)
    assert [b for b in app.get("download_button") if "results_diagram_svg" in b.proto.id]  # the picture's
    card = next(m.value for m in app.markdown if m.value.startswith("### Model card"))
    assert f"Test accuracy: **{100 * first.test_accuracy:.1f} %**" in card
    assert "ms for one image alone" in card
    app.button(key="make_tflite").click()
    rerun(app)
    assert not [b for b in app.button if b.key == "make_tflite"]  # made: the button is gone
    table = table_with(app, "File")
    assert list(table["File"]) == ["model_float32.tflite", "model_int8.tflite"]
    assert table["Test accuracy (Keras)"][0] == f"{100 * first.test_accuracy:.2f} %"
    assert any("tf.lite.Interpreter" in c.value for c in app.code)


def test_compare_aligns_the_two_architectures(app, finished):
    _, first, second = finished
    open_page(app, "compare")
    app.multiselect(key="compare_runs").set_value([second.id, first.id])  # the older run goes left
    rerun(app)
    table = table_with(app, "Change")
    assert list(table["Change"]) == ["changed", "same", "added", "same", "same", "same", "same", "same"]
    assert table["What changed"][0] == "filters: 16 → 8"
    assert table["Params"][0] == "160 → 80 (-80)" and table["Output shape"][0] == "26×26×16 → 26×26×8"
    assert table["Output shape"][2] == "— → 13×13×8" and table["Params"][1] == "0"
    assert any("1** layer(s) added" in m.value for m in app.markdown)
