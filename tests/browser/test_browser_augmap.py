"""Real Chromium: adding augmentation on Build shows one training image 8 times; on Results the map of what a
finished run learned opens, pointing at a dot shows its image (a thumbnail with alt text) and the network's
answer beside it, clicking it opens that test image with the prediction (without the page being sent the
map's figure and thumbnails again), and axe finds nothing wrong with
the page; on Compare the two runs' maps are drawn side by side."""

from __future__ import annotations

import re

import pytest
from accessibility import axe_violations, describe, of_the_app
from kit import ARTIFACTS, FIRST_LOAD_MS, UI_MS, button, choose, expect, go_to, idle, no_app_errors
from plotly.offline import get_plotlyjs_version

from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from dashboard.components.hover_chart import PLOTLY_JS_COMPONENT

pytestmark = pytest.mark.browser
OWNER = "0123456789abcdef0123"  # the anonymous user id of the browser (its cookie)
TEST_EXAMPLES = 60
CLICK_BYTES = 20_000  # a click's messages: the ring and the image opened (the map's thumbnails alone: ~40 kB)
SPEC = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1},
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 16, "activation": "relu"},
        {"type": "Dense", "units": 5, "activation": "softmax"},
    ],
}


@pytest.fixture
def served(tmp_path, app_url):
    """Two finished runs on shapes (with augmentation) in the store the served app uses; the newest last."""
    hp = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=TEST_EXAMPLES)
    manager = RunManager(RunStore(tmp_path / "home"), max_concurrent=1)
    runs = []
    for _ in range(2):
        runs.append(manager.start(SPEC, "shapes", hp, owner=OWNER))
        assert runs[-1].wait(120) and runs[-1].status == "finished", runs[-1].message
    return app_url, runs


def type_in(page, key: str, option: str) -> None:
    """Pick a selectbox option by typing it (a long list draws only the options in view)."""
    box = page.locator(f".st-key-{key} input[role=combobox]")
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)


LONE_POINT_JS = """(selector) => {
    // The dot farthest from every other dot (dead units can put several test images on one spot, and
    // Plotly then shows any of them): its page position, its test index and its place in the data.
    const gd = document.querySelector(selector);
    const layout = gd._fullLayout, box = gd.getBoundingClientRect();
    const dots = [];
    gd.data.forEach((trace) => {
        if (!Array.isArray(trace.customdata) || trace.hoverinfo === 'skip') return;
        trace.x.forEach((x, i) => dots.push({
            px: layout.xaxis._offset + layout.xaxis.l2p(x) + box.left,
            py: layout.yaxis._offset + layout.yaxis.l2p(trace.y[i]) + box.top,
            x, y: trace.y[i], index: trace.customdata[i][1],
        }));
    });
    let best = null, room = -1;
    for (const dot of dots) {
        const nearest = Math.min(...dots.filter((o) => o.index !== dot.index)
            .map((o) => Math.hypot(o.px - dot.px, o.py - dot.py)));
        if (nearest > room) { best = dot; room = nearest; }
    }
    return [best.px, best.py, best.index, best.x, best.y];
}"""
POINTS_JS = """(selector) => document.querySelector(selector).data
    .filter(t => t.name !== 'the one shown' && !t.name.startsWith('✕')).reduce((n, t) => n + t.x.length, 0)"""


def wait_for_map(page, chart: str) -> None:
    page.wait_for_function(f"() => !!document.querySelector('{chart}')?._fullLayout", timeout=FIRST_LOAD_MS)


def point_at_a_lone_dot(page, key: str) -> tuple[float, float, int, list[float]]:
    """Move the pointer onto the loneliest dot of the map with this widget key: its page position, its test
    index and its data coordinates."""
    chart = f".st-key-{key} .js-plotly-plot"
    page.locator(chart).scroll_into_view_if_needed()
    idle(page)
    x, y, index, *dot = page.evaluate(LONE_POINT_JS, chart)
    page.mouse.move(x - 30, y - 30)
    page.mouse.move(x, y, steps=4)  # as a hand moves a mouse: Plotly reads the pointer's moves
    return x, y, index, dot


def opened(page, run_id: str):
    """Where the map shows the image opened (by a click or from the list) with the network's answer."""
    return page.locator(f".st-key-map_{run_id}_opened")


RING_JS = """([selector, x, y]) => {
    // The map is drawn again with its ring on the dot at (x, y): the image opened is that dot's.
    const ring = (document.querySelector(selector)?.data || []).find(t => t.name === 'the one shown');
    return !!ring && ring.x[0] === x && ring.y[0] === y;
}"""


def expect_thumbnail(page, key: str, index: int):
    """The hover card of the map with this widget key shows test image #index: a drawn <img> with alt text,
    its class and the network's answer."""
    card = page.locator(f".st-key-{key} .cnn-hover-card")
    expect(card).to_be_visible(timeout=UI_MS)
    thumbnail = card.get_by_role("img", name=re.compile(rf"^Test image #{index}, class \w+$"))
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 28  # the 28×28 thumbnail, drawn
    expect(card).to_contain_text(f"#{index} · class: ")
    expect(card).to_contain_text(re.compile(r"predicted: \w+ \(\d+ %\), (right|wrong)"))
    return card


def test_augmentation_preview_then_the_maps_of_finished_runs(served, page):
    url, (older, run) = served
    plotly_js = []  # where the page gets Plotly.js: from the app's own server (no CDN, no internet)
    page.on("request", lambda r: plotly_js.append(r.url) if r.url.endswith("plotly.min.js") else None)
    frames = []  # the messages the server sends the page
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(frame)))
    page.context.add_cookies([{"name": "cnn_playground_user", "value": OWNER, "url": url}])
    page.goto(f"{url}/", timeout=FIRST_LOAD_MS)
    expect(page.get_by_role("heading", name="Build your network", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    idle(page)
    type_in(page, "add_layer_type", "RandomRotation")  # far down the list: typed, as a user would filter it
    choose(page, "add_layer_position", "at the top")
    button(page, "add_layer").click()
    expect(page.get_by_role("heading", name="Augmentation preview")).to_be_visible(timeout=UI_MS)
    idle(page)
    versions = page.locator(
        '.st-key-augmentation_preview [data-testid="stImage"] img'
    )  # the original and its 8 versions, all drawn
    expect(versions).to_have_count(9, timeout=UI_MS)
    page.get_by_role("heading", name="Augmentation preview").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "build-augmentation-preview.png"))
    assert all(versions.nth(i).evaluate("img => img.complete && img.naturalWidth > 0") for i in range(9))

    go_to(page, "Results", "Results")
    idle(page)
    page.get_by_text("A map of what the network learned").click()
    key = f"map_{run.id}_chart"
    chart = f".st-key-{key} .js-plotly-plot"
    wait_for_map(page, chart)
    assert page.evaluate(POINTS_JS, chart) == TEST_EXAMPLES
    x, y, index, dot = point_at_a_lone_dot(page, key)
    card = expect_thumbnail(page, key, index)
    page.screenshot(path=str(ARTIFACTS / "results-map-hover.png"), full_page=False)
    page.mouse.move(5, 5)  # off the map: the card goes
    expect(card).to_be_hidden()

    frames.clear()  # what the server sends the page for a click: not the map's figure and thumbnails again
    page.mouse.click(x, y)
    expect(opened(page, run.id)).to_contain_text(f"#{index} · class:", timeout=UI_MS)
    expect(opened(page, run.id)).to_contain_text(re.compile(r"predicted: \w+\s+\d+ % sure · (right|wrong)"))
    idle(page)
    sent = [frame if isinstance(frame, bytes) else frame.encode() for frame in frames]
    assert sent and not [frame for frame in sent if b"data:image/" in frame], "a click sent the thumbnails again"
    assert sum(map(len, sent)) < CLICK_BYTES, f"a click cost {sum(map(len, sent)):,} bytes"
    page.wait_for_function(RING_JS, arg=[chart, *dot])
    assert page.locator(f".st-key-{key} .cnn-hover-chart").count() == 1  # drawn again in place, not twice
    page.locator(f".st-key-map_{run.id}_chart").screenshot(path=str(ARTIFACTS / "results-map.png"))
    page.screenshot(path=str(ARTIFACTS / "results-map-page.png"), full_page=False)

    # From the keyboard: the list under the map opens another image; clicking that dot again opens it again.
    other, *other_dot = page.evaluate(
        """([selector, shown]) => { const t = document.querySelector(selector).data[0];
            const i = t.customdata.findIndex((c) => c[1] !== shown); return [t.customdata[i][1], t.x[i], t.y[i]]; }""",
        [chart, index],
    )
    pick = page.locator(f".st-key-map_{run.id}_pick input[role=combobox]")
    pick.focus()
    page.keyboard.type(f"#{other} ·")
    page.keyboard.press("Enter")
    expect(opened(page, run.id)).to_contain_text(f"#{other} · class:", timeout=UI_MS)
    idle(page)
    page.wait_for_function(RING_JS, arg=[chart, *other_dot])  # the map drawn again, ringing that dot
    # The ring moved the axes a little, so the loneliest dot may now be another: the one pointed at is opened.
    x, y, index, _ = point_at_a_lone_dot(page, key)
    page.mouse.click(x, y)
    expect(opened(page, run.id)).to_contain_text(f"#{index} · class:", timeout=UI_MS)
    idle(page)
    _, _, index, _ = point_at_a_lone_dot(page, key)  # the page as a pointer leaves it: with a card showing
    expect_thumbnail(page, key, index)
    problems = of_the_app(axe_violations(page))
    assert not problems, "axe on Results with the map open:\n" + describe(problems)
    no_app_errors(page)

    # Compare: the two newest runs by default, their maps side by side, each with its own hover card.
    go_to(page, "Compare", "Compare runs")
    idle(page)
    page.get_by_text("Maps of what the networks learned").click()
    for shown in (run, older):
        wait_for_map(page, f".st-key-compare_map_{shown.id}_chart .js-plotly-plot")
    boxes = [page.locator(f".st-key-compare_map_{r.id}_chart").bounding_box() for r in (run, older)]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 5 and boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] + 1
    key = f"compare_map_{older.id}_chart"
    _, _, index, _ = point_at_a_lone_dot(page, key)
    expect_thumbnail(page, key, index)
    expect(page.locator(f".st-key-compare_map_{run.id}_chart .cnn-hover-card")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "compare-maps.png"), full_page=False)
    no_app_errors(page)
    assert plotly_js == [f"{url}/component/{PLOTLY_JS_COMPONENT}/plotly.min.js"]  # once: the maps share it
    # the plotly package's own Plotly.js draws the maps (st.plotly_chart's copy stays Streamlit's)
    assert page.evaluate("() => window.__cnnPlaygroundPlotly.then(p => p.version)") == get_plotlyjs_version()
