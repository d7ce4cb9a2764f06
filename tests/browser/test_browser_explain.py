"""Real Chromium: on Inside the network, clicking a square of a feature map explains that square, and the
worked-out sum (with bias and ReLU) equals the value the map shows there."""

from __future__ import annotations

import re

import pytest
from kit import ARTIFACTS, FIRST_LOAD_MS, UI_MS, expect, go_to, idle, no_app_errors

from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

pytestmark = pytest.mark.browser
OWNER = "0123456789abcdef0123"  # the anonymous user id of the browser (its cookie)


@pytest.fixture
def trained_home(app_url, tmp_path):
    """One finished run on shapes in the served app's store (app_url's tmp_path/home), trained here: the
    app reads its runs from the store, so it finds the run on its next page load."""
    store = RunStore(tmp_path / "home")
    hp = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=50)
    run = RunManager(store, max_concurrent=1).start(PRESETS["model1"].spec((28, 28, 1), 5), "shapes", hp, owner=OWNER)
    assert run.wait(120) and run.status == "finished", run.message
    return run


@pytest.fixture
def served(trained_home, app_url):
    return app_url


CELL_CENTRE_JS = """([row, col]) => {
    // The page position of a cell's centre, from the plot's own axes (no guessing at margins).
    const gd = document.querySelector('.st-key-arith_map_conv2d .js-plotly-plot');
    const layout = gd._fullLayout, box = gd.getBoundingClientRect();
    const x = layout.xaxis._offset + layout.xaxis.l2p(col) + box.left;  // _offset: the axis' own start
    const y = layout.yaxis._offset + layout.yaxis.l2p(row) + box.top;
    return [x, y];
}"""

SECOND_STRONGEST_JS = """() => {
    // The square with the second largest value: a positive one (ReLU passes it on, so the sum is not
    // hidden behind a 0), and not the strongest, where the section starts.
    const gd = document.querySelector('.st-key-arith_map_conv2d .js-plotly-plot');
    const points = gd.data.find(t => t.name === 'cells');
    const order = points.text.map((v, i) => [parseFloat(v), i]).sort((a, b) => b[0] - a[0]);
    return points.customdata[order[1][1]];
}"""

SHOWN_VALUE_JS = """([row, col]) => {
    // The value the feature map shows for this cell (the hover text of its point).
    const gd = document.querySelector('.st-key-arith_map_conv2d .js-plotly-plot');
    const points = gd.data.find(t => t.name === 'cells');
    const i = points.customdata.findIndex(([r, c]) => r === row && c === col);
    return points.text[i];
}"""


def metric(page, label: str) -> str:
    block = page.locator('[data-testid="stMetric"]', has_text=label)
    return block.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_clicking_a_feature_map_square_shows_its_sum_equal_to_the_shown_value(served, page):
    page.context.add_cookies([{"name": "cnn_playground_user", "value": OWNER, "url": served}])
    page.goto(f"{served}/", timeout=FIRST_LOAD_MS)
    expect(page.get_by_role("heading", name="Build your network", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    go_to(page, "Inside the network", "Inside the network")
    heading = page.get_by_role("heading", name="How this number was computed")
    expect(heading).to_be_visible(timeout=FIRST_LOAD_MS)
    idle(page)
    chart = page.locator(".st-key-arith_map_conv2d .js-plotly-plot")
    chart.scroll_into_view_if_needed()
    page.wait_for_function("() => !!document.querySelector('.st-key-arith_map_conv2d .js-plotly-plot')?._fullLayout")
    cell = page.evaluate(SECOND_STRONGEST_JS)
    x, y = page.evaluate(CELL_CENTRE_JS, cell)
    page.mouse.click(x, y)
    expect(page.locator(".st-key-arith_row_conv2d input")).to_have_value(str(cell[0]), timeout=UI_MS)
    expect(page.locator(".st-key-arith_col_conv2d input")).to_have_value(str(cell[1]))
    idle(page)
    shown = page.evaluate(SHOWN_VALUE_JS, cell)
    worked_out = metric(page, "Worked out here")
    assert re.fullmatch(r"\d+\.\d{4}", worked_out) and float(worked_out) > 0
    assert worked_out == shown == metric(page, "The network's value")
    # The sum written out ends in the same number: 3×3 kernel on the grey image, plus the bias, then ReLU.
    equation = re.compile(rf"Sum of all 9 products.*relu\(-?[\d.]+\) = {re.escape(worked_out)}", re.S)
    expect(page.get_by_text(equation)).to_be_visible()
    section = page.locator('[data-testid="stVerticalBlock"]', has=heading).last
    section.screenshot(path=str(ARTIFACTS / "inside-how-computed.png"))
    no_app_errors(page)
