"""AppTest tests of "why it errs" (Results), "Inside the network" and "Predict" on a finished run."""

import io
import json

import numpy as np
import pytest
from helpers import APP, open_page, rerun, restart_app_server
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.data.datasets import load_dataset
from core.insight.mistakes import load_predictions, pair_examples
from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import DEFAULT_PRESET, PRESETS

TIMEOUT = 60
OWNER = "0123456789abcdef"  # a valid anonymous user id: the AppTest session opens with it in the URL
CLASSES = list(load_dataset("shapes").class_names)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A store with one finished run on shapes, owned by OWNER."""
    home = tmp_path_factory.mktemp("inspect_app_home")
    spec = PRESETS[DEFAULT_PRESET].spec()
    spec["input_shape"], spec["layers"][-1]["units"] = [28, 28, 1], 5
    hp = Hyperparameters(epochs=1, batch_size=16, limit_train=300, limit_test=100)
    run = RunManager(RunStore(home)).start(spec, "shapes", hp, owner=OWNER, name="shapes test run")
    assert run.wait(120) and run.status == "finished", run.message
    return home, run


def open_app(monkeypatch, home, owner: str = OWNER) -> AppTest:
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(home))
    restart_app_server()  # the process-wide manager is rebuilt on this store folder
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["_user_id"] = owner  # as if its browser sent the owner's cookie (AppTest has none)
    return rerun(at)


@pytest.fixture
def app(monkeypatch, finished):
    return open_app(monkeypatch, finished[0])


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def bar_trace(at: AppTest) -> dict:
    """The first bar chart's bars (the class probabilities)."""
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            if trace["type"] == "bar":
                return trace
    raise AssertionError("no bar chart on the page")


# --- Results: why it errs ---------------------------------------------------------------------------


def test_results_show_a_cells_images_and_the_most_confident_mistakes(app, finished):
    home, run = finished
    open_page(app, "results")
    headings = texts(app.subheader)
    assert "Why it errs" in headings and "The most confident mistakes" in headings
    assert len(app.get("plotly_chart")) == 3  # history, confusion matrix, per-class accuracy: no extra charts
    predictions = load_predictions(RunStore(home), run.id)
    # the default cell is the most frequent confusion; pick another pair through the class pickers
    app.selectbox(key=f"errs_true_{run.id}").set_value(int(predictions.y_true[0]))
    app.selectbox(key=f"errs_pred_{run.id}").set_value(int(predictions.predicted[0]))
    rerun(app)
    true, predicted = int(predictions.y_true[0]), int(predictions.predicted[0])
    expected = pair_examples(predictions, true, predicted)
    assert f"**{len(expected)}** test image(s) of **{CLASSES[true]}**" in texts(app.markdown)
    wrong = int((predictions.predicted != predictions.y_true).sum())
    bars = app.get("progress")
    assert len(bars) == min(len(expected), 24) + min(wrong, 12)  # one confidence bar per image shown
    first = expected[0]
    assert bars[0].proto.text == f"{CLASSES[first.predicted]}: {100 * first.confidence:.0f} %"
    assert abs(bars[0].proto.value - 100 * first.confidence) <= 1  # the bar's length is the confidence


def test_a_click_on_a_cell_sets_the_class_pickers():
    """AppTest cannot click Plotly: feed the chart's selection state to the code that reads clicks."""

    def script():
        import streamlit as st

        from dashboard.components.mistakes import _take_click

        st.session_state.setdefault("chart", {"selection": {"points": [{"customdata": [3, 1, 4]}]}})
        _take_click("chart", "true", "pred")
        st.write(f"cell {st.session_state.get('true')} {st.session_state.get('pred')}")

    at = AppTest.from_function(script).run()
    assert not at.exception and at.markdown[0].value == "cell 3 1"
    at.session_state["true"] = 0  # the user then picks another class by hand: the old click does not undo it
    at.run()
    assert at.markdown[0].value == "cell 0 1"


# --- Inside the network -----------------------------------------------------------------------------


def test_inside_shows_grad_cam_feature_maps_and_filters_with_captions(app, finished):
    open_page(app, "inside")
    assert app.title[0].value == "Inside the network"
    assert [h.value for h in app.header] == [  # one level below the title, in the page's order
        "The image",
        "Where it looked",
        "Its answer",
        "What each layer makes of the image",
        "How this number was computed",
        "The filters it learned",
    ]
    captions = texts(app.caption)
    assert "Grad-CAM" in captions and "Feature maps" in captions and "filter" in captions
    # answer bars + Grad-CAM + 4 conv/pool layers + 2 conv layers' filters, and how one number was computed:
    # the first conv's map, the window on the image, its patch, kernel and products (one channel: grey)
    assert len(app.get("plotly_chart")) == 8 + 5
    bars = bar_trace(app)
    assert sum(bars["x"]) == pytest.approx(100, abs=0.01)
    assert "Test image 0" in texts(app.markdown)
    app.number_input(key=f"inside_index_{finished[1].id}").set_value(7)
    rerun(app)
    assert f"Test image 7, of the class **{CLASSES[load_dataset('shapes').y_test[7]]}**" in texts(app.markdown)


def test_inside_a_random_mistake(app, finished):
    open_page(app, "inside")
    app.radio(key="inside_source").set_value("A random mistake")
    rerun(app)
    assert "taken by the network for" in texts(app.markdown)
    app.button(key="inside_next_mistake").click()
    rerun(app)
    assert len(app.get("plotly_chart")) == 8 + 5  # as for a test image


def test_inside_with_an_uploaded_image(app):
    open_page(app, "inside")
    app.radio(key="inside_source").set_value("Your own image")
    rerun(app)
    assert len(app.get("plotly_chart")) == 0
    app.file_uploader(key="inside_upload_file").upload(
        "ring.png", png(load_dataset("shapes").x_test[4, ..., 0]), "image/png"
    )
    rerun(app)
    assert "Your image." in texts(app.markdown)
    assert "inverted" not in texts(app.caption)  # a test image is already light on dark
    assert len(app.get("plotly_chart")) == 8 + 5  # as for a test image


# --- Predict ----------------------------------------------------------------------------------------


def test_predict_an_uploaded_photo_shows_what_the_network_sees_and_its_probabilities(app):
    open_page(app, "predict")
    assert app.title[0].value == "Predict on your own image"
    photo = np.full((84, 84, 3), 255, dtype=np.uint8)  # a dark disc on a light background, in colour
    yy, xx = np.mgrid[0:84, 0:84]
    photo[(yy - 42) ** 2 + (xx - 42) ** 2 < 25**2] = (30, 30, 120)
    app.file_uploader(key="predict_file").upload("disc.png", png(photo), "image/png")
    rerun(app)
    captions = texts(app.caption)
    assert "grey" in captions and "shrunk from 84×84 to 28×28" in captions and "inverted" in captions
    prediction = app.metric[0]
    assert prediction.label == "Prediction" and prediction.value in CLASSES
    bars = bar_trace(app)
    assert bars["y"] == CLASSES and sum(bars["x"]) == pytest.approx(100, abs=0.01)
    assert bars["x"][CLASSES.index(prediction.value)] == max(bars["x"])


def test_predict_explains_a_file_that_is_not_an_image(app):
    open_page(app, "predict")
    app.file_uploader(key="predict_file").upload("notes.png", b"these are notes, not pixels", "image/png")
    rerun(app)
    assert "not an image that can be read" in texts(app.error)
    assert len(app.get("plotly_chart")) == 0


def test_predict_draw_mode_shows_the_canvas_and_waits_for_a_drawing(app):
    open_page(app, "predict")
    app.radio(key="predict_source").set_value("Draw one")
    rerun(app)
    assert "The prediction appears as soon as you draw." in texts(app.caption)
    assert len(app.get("plotly_chart")) == 0


def test_pages_without_a_trained_run_say_what_to_do(monkeypatch, finished):
    at = open_app(monkeypatch, finished[0], owner="fedcba9876543210")  # someone else: sees none of OWNER's runs
    for page in ("inside", "predict"):
        open_page(at, page)
        assert "No trained model yet" in texts(at.info)
