"""AppTest: augmentation on Build (the 8-image preview, the flip warning) and the coaching note on Results;
the map of what a run learned on Results and, for two runs, on Compare."""

import json
import re

import pytest
from helpers import APP, TIMEOUT, open_page, rerun, restart_app_server
from streamlit.testing.v1 import AppTest

from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from dashboard.components.hover_chart import PLOTLY_JS_COMPONENT

OWNER = "0123456789abcdef"  # a valid anonymous user id: the AppTest session opens with it
TEST_EXAMPLES = 100
PLAIN = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 16, "activation": "relu"},
        {"type": "Dense", "units": 5, "activation": "softmax"},
    ],
}
AUGMENTED = {**PLAIN, "layers": [{"type": "RandomRotation", "factor": 0.05}, *PLAIN["layers"]]}


def preview_grids(app) -> list:
    """The st.image elements holding eight images (the preview's versions)."""
    return [image for image in app.get("image") if len(image.value) == 8]


def add_first_layer(app, kind: str):
    app.selectbox(key="add_layer_type").select(kind)
    app.selectbox(key="add_layer_position").select(0)
    app.button(key="add_layer").click()
    return rerun(app)


def test_adding_augmentation_shows_one_training_image_eight_times_and_redraws_on_a_change(app):
    assert "Augmentation preview" not in [s.value for s in app.header]
    add_first_layer(app, "RandomRotation")
    assert "Augmentation preview" in [s.value for s in app.header]
    (grid,) = preview_grids(app)
    before = list(grid.value)
    app.slider(key=next(k for k in app.session_state if str(k).endswith("_0_factor"))).set_value(0.3)
    rerun(app)
    (grid,) = preview_grids(app)
    assert list(grid.value) != before  # a setting changed: other versions


def test_an_upside_down_flip_of_clothes_is_warned_about_and_a_left_right_one_is_not(app):
    add_first_layer(app, "RandomFlip")  # left-right by default, on Fashion-MNIST
    assert not [w for w in app.warning if "flip" in w.value.lower()]
    assert len(preview_grids(app)) == 1
    app.selectbox(key=next(k for k in app.session_state if str(k).endswith("_0_mode"))).select("vertical")
    rerun(app)
    assert any("upside-down flip" in w.value for w in app.warning)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A store with two finished runs on shapes owned by OWNER: a model without and with augmentation."""
    home = tmp_path_factory.mktemp("augmap_app_home")
    manager = RunManager(RunStore(home), max_concurrent=1)
    hp = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=TEST_EXAMPLES, validation_split=0.2)
    runs = [
        manager.start(spec, "shapes", hp, owner=OWNER, name=name)
        for spec, name in ((PLAIN, "plain"), (AUGMENTED, "augmented"))
    ]
    for run in runs:
        assert run.wait(300) and run.status == "finished", run.message
    return home, runs


@pytest.fixture
def opened(monkeypatch, finished):
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(finished[0]))
    restart_app_server()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["_user_id"] = OWNER  # as if its browser sent the owner's cookie
    return rerun(at)


def hover_charts(app) -> list[dict]:
    """What every hover chart on the page was given (dashboard/components/hover_chart.py): the figure as
    Plotly's JSON, a card per point, the address of Plotly.js."""
    return [given for given in map(json.loads, raw_charts(app)) if "figure" in given]


def raw_charts(app) -> list[str]:
    """The hover charts' elements as Streamlit sends them (their JSON data)."""
    return [chart.proto.json for chart in app.get("bidi_component") if '"figure"' in chart.proto.json]


def overlays(app) -> dict[str, list[dict]]:
    """The traces drawn over each hover chart (the ring of the dot opened), by the chart's key."""
    given = [json.loads(chart.proto.json) for chart in app.get("bidi_component")]
    return {g["chart"]: g["traces"] for g in given if "traces" in g}


def map_charts(app) -> list[list[dict]]:
    """The traces of every map on the page: its points carry [position, test index, hover words]."""
    charts = []
    for given in hover_charts(app):
        traces = given["figure"]["data"]
        rows = [row for t in traces for row in t.get("customdata") or []]
        if rows and all(isinstance(row, list) and len(row) == 3 and isinstance(row[2], str) for row in rows):
            charts.append(traces)
    return charts


def class_points(traces) -> int:
    return sum(len(t["x"]) for t in traces if not t["name"].startswith("✕"))


def test_results_map_every_test_image_once_opened_and_note_what_augmentation_did(opened, finished):
    home, (plain, augmented) = finished
    open_page(opened, "results")  # the newest run: the augmented one
    assert not map_charts(opened)  # made only once its expander is opened
    notes = [i.value for i in opened.info if "augmentation" in i.value.lower()]
    assert notes and f"Run {plain.id}, the same model without augmentation" in notes[0]
    assert "points" in notes[0]
    opened.session_state["results_map"] = True  # what opening the expander does
    rerun(opened)
    (traces,) = map_charts(opened)
    assert class_points(traces) == TEST_EXAMPLES
    assert opened.selectbox(key=f"map_{augmented.id}_layer").value == "dense"

    # The hover chart is given the figure and, per dot, its image as a 28×28 PNG with alt text and its answer.
    (given,) = hover_charts(opened)
    dots = {row[0]: row[1] for t in given["figure"]["data"] for row in t.get("customdata") or []}
    assert sorted(dots) == list(range(TEST_EXAMPLES)) and len(given["cards"]) == TEST_EXAMPLES
    for position, index in dots.items():
        card = given["cards"][position]
        assert card["src"].startswith("data:image/png;base64,") and len(card["src"]) < 2_000
        assert re.fullmatch(rf"Test image #{index}, class \w+", card["alt"])
        assert card["lines"][0].startswith(f"#{index} · class: ")
        assert re.fullmatch(r"predicted: \w+ \(\d+ %\), (right|wrong)", card["lines"][1])
    assert given["plotly"] == f"/component/{PLOTLY_JS_COMPONENT}/plotly.min.js"
    print(f"the Results map's payload: {len(json.dumps(given)):,} bytes for {TEST_EXAMPLES} dots")

    # From the keyboard: the list under the map opens a test image with the network's answer, as a click does.
    pick = opened.selectbox(key=f"map_{augmented.id}_pick")
    assert pick.value is None and any("Point at a dot to see its image" in c.value for c in opened.caption)
    first = pick.options[0]  # mistakes first
    assert "(wrong)" in first
    index = int(re.match(r"#(\d+)", first).group(1))
    assert overlays(opened) == {f"map_{augmented.id}_chart": []}  # no ring yet
    before = raw_charts(opened)
    pick.select(next(position for position, shown in dots.items() if shown == index))  # a dot's position
    rerun(opened)
    # The figure and its thumbnails are the same message as before (Streamlit's cache sends them only once):
    # what opening an image changes is the small overlay, a ring around its dot.
    assert raw_charts(opened) == before
    (ring,) = overlays(opened)[f"map_{augmented.id}_chart"]
    assert ring["name"] == "the one shown" and len(json.dumps(ring)) < 500
    shown = [img for image in opened.get("image") for img in image.proto.imgs if img.caption.startswith(f"#{index} · ")]
    assert shown and re.fullmatch(rf"Test image #{index}, class \w+, predicted as \w+", shown[0].alt)
    assert any(re.search(r"predicted: \w+\n\d+ % sure · wrong", t.value) for t in opened.text)
    dot = next(  # that image's dot on the map (a mistake: also under a cross, drawn at the same place)
        (t["x"][i], t["y"][i])
        for t in map_charts(opened)[0]
        for i, row in enumerate(t["customdata"])
        if row[1] == index
    )
    assert (ring["x"][0], ring["y"][0]) == dot  # the ring is on it


def test_compare_shows_the_two_runs_maps_side_by_side(opened, finished):
    home, runs = finished
    open_page(opened, "compare")
    opened.multiselect(key="compare_runs").set_value([r.id for r in runs])
    rerun(opened)
    opened.session_state["compare_maps"] = True
    rerun(opened)
    maps = map_charts(opened)
    assert len(maps) == 2 and all(class_points(traces) == TEST_EXAMPLES for traces in maps)
    given = hover_charts(opened)  # each with its own thumbnails and its own list to open an image from
    assert all(len(g["cards"]) == TEST_EXAMPLES and g["cards"][0]["src"].startswith("data:image/") for g in given)
    assert {s.key for s in opened.selectbox if str(s.key).endswith("_pick")} == {
        f"compare_map_{r.id}_pick" for r in runs
    }
