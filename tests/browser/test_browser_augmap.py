"""Real Chromium: adding augmentation on Build shows one training image 8 times; on Results the map of what a
finished run learned opens, and clicking a dot shows that test image with the network's answer."""

from __future__ import annotations

import re

import pytest
from kit import ARTIFACTS, FIRST_LOAD_MS, UI_MS, button, choose, expect, go_to, idle, no_app_errors

from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters

pytestmark = pytest.mark.browser
OWNER = "0123456789abcdef0123"  # the anonymous user id of the browser (its cookie)
TEST_EXAMPLES = 60
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
    """One finished run on shapes (with augmentation) in the store the served app uses."""
    hp = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=TEST_EXAMPLES)
    run = RunManager(RunStore(tmp_path / "home"), max_concurrent=1).start(SPEC, "shapes", hp, owner=OWNER)
    assert run.wait(120) and run.status == "finished", run.message
    return app_url, run


def type_in(page, key: str, option: str) -> None:
    """Pick a selectbox option by typing it (a long list draws only the options in view)."""
    box = page.locator(f".st-key-{key} input[role=combobox]")
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)


FIRST_POINT_JS = """(selector) => {
    // The page position of the first class's first dot, from the plot's own axes.
    const gd = document.querySelector(selector);
    const layout = gd._fullLayout, box = gd.getBoundingClientRect(), trace = gd.data[0];
    return [layout.xaxis._offset + layout.xaxis.l2p(trace.x[0]) + box.left,
            layout.yaxis._offset + layout.yaxis.l2p(trace.y[0]) + box.top, trace.customdata[0][1]];
}"""
POINTS_JS = """(selector) => document.querySelector(selector).data
    .filter(t => t.name !== 'the one shown' && !t.name.startsWith('✕')).reduce((n, t) => n + t.x.length, 0)"""


def test_augmentation_preview_then_the_map_of_a_finished_run(served, page):
    url, run = served
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
    chart = f".st-key-map_{run.id}_chart .js-plotly-plot"
    page.wait_for_function(f"() => !!document.querySelector('{chart}')?._fullLayout", timeout=FIRST_LOAD_MS)
    assert page.evaluate(POINTS_JS, chart) == TEST_EXAMPLES
    page.locator(chart).scroll_into_view_if_needed()
    idle(page)
    x, y, index = page.evaluate(FIRST_POINT_JS, chart)
    page.mouse.click(x, y)
    expect(page.get_by_text(f"#{index} · class:")).to_be_visible(timeout=UI_MS)
    expect(page.get_by_text(re.compile(r"predicted: \w+\s+\d+ % sure · (right|wrong)"))).to_be_visible()
    page.locator(f".st-key-map_{run.id}_chart").screenshot(path=str(ARTIFACTS / "results-map.png"))
    page.screenshot(path=str(ARTIFACTS / "results-map-page.png"), full_page=False)
    no_app_errors(page)
