"""Real-browser test of the Experiment page: a 2×2 experiment on a small subset (300 training images) runs to
its end and shows the Pareto view; clicking a point opens that run on Results.

Screenshots land in test-artifacts/screenshots/<test name>/ like the other browser tests'.
"""

from __future__ import annotations

import re

from kit import FIRST_LOAD_MS, RUN_MS, Shots, button, choose, expect, go_to, idle, no_app_errors, run_id_in, use_shapes

PARETO = '[class*="st-key-xp_pareto_"][class*="_params"] .js-plotly-plot'

FIRST_POINT_JS = """selector => {
    // The first marker of the Pareto view (accuracy against parameters) and the run id it carries.
    const plot = document.querySelector(selector);
    if (!plot || !plot.data) return null;
    const traces = plot.querySelectorAll('.scatterlayer .trace');
    for (let t = 0; t < plot.data.length; t++) {
        const data = plot.data[t];
        if (data.mode !== 'markers' || !data.customdata || !data.customdata.length) continue;
        const point = traces[t] && traces[t].querySelector('.points path');
        if (!point) continue;
        const box = point.getBoundingClientRect();
        return {run: data.customdata[0], x: box.x + box.width / 2, y: box.y + box.height / 2};
    }
    return null;
}"""


def set_number(page, key: str, value: int) -> None:
    field = page.locator(f".st-key-{key} input")
    field.fill(str(value))
    field.press("Enter")
    idle(page)
    expect(field).to_have_value(str(value))


def test_a_two_by_two_experiment_runs_and_its_pareto_points_open_their_runs(app_url, page):
    shots = Shots()
    try:
        page.goto(app_url + "/", timeout=FIRST_LOAD_MS)
        expect(page.get_by_role("heading", name="Build your network")).to_be_visible(timeout=FIRST_LOAD_MS)
        use_shapes(page)
        go_to(page, "Train", "Train")
        expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Shapes (synthetic)")
        set_number(page, "hp_epochs", 2)

        go_to(page, "Experiment", "Experiment")
        choose(page, "xp_factor_0", "Layer 1 (Conv2D): kernel size")  # values 3 and 5
        idle(page)
        expect(page.locator(".st-key-xp_factor_1 input[role=combobox]")).to_have_value("Optimizer")  # adam, sgd
        set_number(page, "xp_limit_train", 300)
        expect(page.get_by_text(re.compile(r"batch \d+\) on Shapes \(synthetic\)"))).to_be_visible()
        # What really trains: Train's 2 epochs, and each optimizer at its own rate (core's with_optimizer)
        expect(
            page.get_by_text(re.compile(r"^Each run trains 2 epochs at learning rate adam [\d.]+, sgd 0\.01"))
        ).to_be_visible()
        expect(page.locator('[data-testid="stMetric"]', has_text="Runs")).to_contain_text("4")
        expect(page.locator('[data-testid="stMetric"]', has_text="Break a limit")).to_contain_text("0")
        no_app_errors(page)
        shots.take(page, "experiment-setup")

        button(page, "xp_start").click()
        expect(page.get_by_text(re.compile(r"^\d of 4 runs done"))).to_be_visible()
        shots.take(page, "experiment-running")
        expect(page.get_by_role("heading", name="What mattered")).to_be_visible(timeout=4 * RUN_MS)
        expect(page.get_by_role("heading", name="Pareto view")).to_be_visible()
        expect(page.locator(PARETO)).to_be_visible()
        expect(page.get_by_text(re.compile(r"^Best: Layer 1 \(Conv2D\): kernel size [35], Optimizer "))).to_be_visible()
        idle(page)
        no_app_errors(page)
        shots.take(page, "experiment-done")

        point = page.wait_for_function(FIRST_POINT_JS, arg=PARETO).json_value()
        page.mouse.click(point["x"], point["y"])
        expect(page.get_by_role("heading", name="Results", exact=True)).to_be_visible()
        page.wait_for_url(lambda url: run_id_in(url) == point["run"])
        run_choice = page.locator(".st-key-results_run input[role=combobox]")
        expect(run_choice).to_have_value(re.compile(r"Experiment #\d: layer 1 kernel size [35] · optimizer "))
        idle(page)
        no_app_errors(page)
        shots.take(page, "experiment-point-opened")
    finally:
        shots.write_index()
