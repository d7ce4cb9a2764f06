"""Real-browser end-to-end test: the app served by `streamlit run`, driven by headless Chromium.

Data → Build → Train (live chart, refresh mid-run, stop) → Results → Compare (the two runs), on the
synthetic shapes set so the runs take seconds; then a zip of image folders imported on Data. Full-page
screenshots land in test-artifacts/screenshots/<test name>/ (git-ignored) and the server log in
test-artifacts/browser-streamlit.log (-gw0... under pytest-xdist); both paths are printed (run pytest with -s)
and listed in the screenshots' index.txt.

Deselect with `-m "not browser"`. Needs Debian's /usr/bin/chromium (Playwright cannot download one here).
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

from kit import (
    BATCH_SIZE,
    EPOCHS,
    FIRST_LOAD_MS,
    PAGE_MS,
    RUN_MS,
    SHAPES_INPUT,
    Shots,
    button,
    choose,
    colour_zip,
    expect,
    go_to,
    heatmap_with,
    idle,
    no_app_errors,
    run_id_in,
    start_run,
    type_into,
    wait_for_more_points,
)

from core.data.datasets import SHAPE_CLASSES
from core.model.spec import analyze
from core.training.presets import PRESETS


def test_build_data_train_refresh_results_in_a_real_browser(app_url, page):
    shots = Shots()
    try:
        # Build is the default page; the first load waits for TensorFlow's import in the server.
        page.goto(app_url + "/", timeout=FIRST_LOAD_MS)
        expect(page.get_by_role("heading", name="Build your network")).to_be_visible(timeout=FIRST_LOAD_MS)
        expect(page.get_by_text("Total params:")).to_be_visible(timeout=FIRST_LOAD_MS)
        # The anonymous user id is kept in a cookie, never in the URL.
        page.wait_for_function("() => document.cookie.includes('cnn_playground_user=')")
        assert "u" not in parse_qs(urlparse(page.url).query), page.url

        # Data: the synthetic shapes set, which needs no download and trains in seconds.
        go_to(page, "Data", "Look at the data")
        choose(page, "dataset_choice", "Shapes (synthetic)")
        expect(page.get_by_text("2,500 grey 28×28 drawings")).to_be_visible()
        expect(page.locator('[data-testid="stMetric"]', has_text="Training images")).to_contain_text("2,000")
        expect(page.locator('[data-testid="stMetric"]', has_text="Classes")).to_contain_text("5")
        expect(page.get_by_text("Samples from each class")).to_be_visible()
        expect(page.locator(".st-key-balance .js-plotly-plot")).to_be_visible()
        idle(page)
        no_app_errors(page)
        # The sidebar's summary shows the data set just chosen, in the same rerun (no later rerun helps).
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert "Shapes (synthetic)" in sidebar.inner_text(), sidebar.inner_text()
        shots.take(page, "data")

        # Build: load the notebook's first model, sized for 5 classes.
        preset = PRESETS["model1"]
        expected_params = analyze(preset.spec(SHAPES_INPUT, len(SHAPE_CLASSES))).total_params
        go_to(page, "Build", "Build your network")
        choose(page, "preset_choice", preset.title)
        button(page, "load_preset").click()
        expect(page.get_by_text(f"Total params: {expected_params:,}")).to_be_visible()
        expect(page.get_by_text("Ready to train — go to")).to_be_visible()
        expect(page.get_by_text("images of 28×28×1 from Shapes (synthetic)")).to_be_visible()
        expect(sidebar).to_contain_text(f"Shapes (synthetic) · {len(preset.layers)} layers")
        expect(sidebar).to_contain_text(f"{expected_params:,} params · ready to train")
        idle(page)
        no_app_errors(page)
        shots.take(page, "build")

        # Train: settings, then Train; the live chart grows while the run goes on.
        go_to(page, "Train", "Train")
        type_into(page, "hp_epochs", EPOCHS)
        choose(page, "hp_batch_size", BATCH_SIZE)
        idle(page)
        expect(page.locator(".st-key-hp_epochs input")).to_have_value(str(EPOCHS))
        expect(button(page, "stop")).to_be_disabled()
        stopped_id = start_run(page, previous=None)
        first = wait_for_more_points(page, 0)
        second = wait_for_more_points(page, first)
        print(f"live chart: {first} then {second} per-batch points")
        shots.take(page, "train-during")

        # Stop, with the app's own button (never the toolbar's "Stop", shown while a script runs), once an epoch
        # is done: a run stopped in its first epoch has no curve for Compare to draw below.
        expect(page.get_by_text(re.compile(rf"^Training: epoch ([2-9]|\d\d+) of {EPOCHS}"))).to_be_visible(
            timeout=RUN_MS
        )
        button(page, "stop").click()
        expect(
            page.get_by_text(re.compile(r"^Stopped after \d+ epochs? in .* test accuracy \d+\.\d+ %$"))
        ).to_be_visible(timeout=RUN_MS)
        expect(page.get_by_text("Stopped by you")).to_be_visible()
        expect(button(page, "train")).to_be_enabled()
        expect(button(page, "stop")).to_be_disabled()
        idle(page)
        no_app_errors(page)
        shots.take(page, "train-stopped")

        # A second run with the same settings, refreshed mid-run: a new session finds it again from the
        # URL (?run=...) and the user from the cookie, and it trains to its end.
        run_id = start_run(page, previous=stopped_id)
        before_reload = wait_for_more_points(page, 0)
        page.reload(timeout=FIRST_LOAD_MS)
        expect(page.get_by_role("heading", name=re.compile(rf"^Run {run_id}: "))).to_be_visible()
        assert run_id_in(page.url) == run_id, page.url
        status = page.get_by_text(re.compile(r"^(Training: epoch|Finished after)"))
        expect(status).to_be_visible()
        print(f"after the refresh: {status.inner_text()!r}")
        if status.inner_text().startswith("Training"):  # still training: the live chart goes on growing
            resumed = wait_for_more_points(page, 0)
            print(
                f"after the refresh the live chart shows {resumed} per-batch points, then "
                f"{wait_for_more_points(page, resumed)}"
            )

        # The end of the run: the page redraws once with the final status and chart.
        expect(
            page.get_by_text(re.compile(rf"^Finished after {EPOCHS} epochs in .* test accuracy \d+\.\d+ %$"))
        ).to_be_visible(timeout=RUN_MS)
        expect(button(page, "train")).to_be_enabled()
        expect(button(page, "stop")).to_be_disabled()
        # The final chart is drawn just after the status line: wait for it rather than read it at once.
        final_points = wait_for_more_points(page, before_reload)
        assert final_points > before_reload, (final_points, before_reload)
        idle(page)
        no_app_errors(page)
        shots.take(page, "train-after")

        # Results of the followed run: test accuracy and the confusion matrix.
        go_to(page, "Results", "Results")
        accuracy = page.locator('[data-testid="stMetric"]', has_text="Test accuracy")
        expect(accuracy).to_contain_text(re.compile(r"\d+\.\d+ %"))
        expect(page.get_by_role("heading", name="Confusion matrix")).to_be_visible()
        # Found by content, not widget key: the Results page names its charts per run.
        x, y = heatmap_with(page, list(SHAPE_CLASSES))
        assert sorted(x) == sorted(y) == sorted(SHAPE_CLASSES), (x, y)
        print(f"results: {accuracy.inner_text()!r}".replace("\n", " "))
        idle(page)
        no_app_errors(page)
        shots.take(page, "results")

        # Compare: by default the two newest runs (the followed one has no parent), curves overlaid.
        go_to(page, "Compare", "Compare runs")
        chosen = page.locator(".st-key-compare_runs")
        for rid in (run_id, stopped_id):
            expect(chosen).to_contain_text(rid)
        curves = page.wait_for_function(
            """ids => {
            // The overlay chart, found by its traces' run ids (one legend group per run).
            for (const plot of document.querySelectorAll('.js-plotly-plot')) {
                const groups = new Set((plot.data || []).map(t => t.legendgroup));
                if (ids.every(id => groups.has(id))) return (plot.data || []).filter(t => ids.includes(t.legendgroup))
                    .map(t => [t.legendgroup, t.line.dash, t.x.length]);
            }
            return null;
        }""",
            arg=[run_id, stopped_id],
            timeout=PAGE_MS,  # a page's first visit (on a busy machine, failed at 30 s on main too)
        ).json_value()
        assert {dash for _, dash, _ in curves} == {"solid", "dash"}, curves  # training and validation
        assert max(n for rid, _, n in curves if rid == run_id) == EPOCHS, curves
        expect(page.get_by_role("heading", name="Leaderboard")).to_be_visible()
        expect(page.get_by_text("These runs have the same model and settings.")).to_be_visible()
        idle(page)
        no_app_errors(page)
        shots.take(page, "compare")

        # Your own images: a zip of two colour class folders, uploaded and imported on the Data page.
        go_to(page, "Data", "Look at the data")
        page.get_by_text("Import your own images").click()
        page.locator(".st-key-image_zip input[type=file]").set_input_files(
            {"name": "colours.zip", "mimeType": "application/zip", "buffer": colour_zip()}
        )
        expect(page.locator(".st-key-image_zip")).to_contain_text("colours.zip")
        idle(page)
        type_into(page, "image_name", "My colours")
        button(page, "import_images").click()
        expect(
            page.get_by_text("Imported My colours: 10 training and 2 test images of 32×32 colour in 2 classes")
        ).to_be_visible()
        expect(page.locator('[data-testid="stMetric"]', has_text="Image size")).to_contain_text("32×32×3")
        expect(page.locator(".st-key-dataset_choice input[role=combobox]")).to_have_value("My colours")
        expect(sidebar).to_contain_text("My colours ·")
        idle(page)
        no_app_errors(page)
        shots.take(page, "data-own-images")
    finally:
        shots.write_index()
        print(f"browser test body: {time.monotonic() - shots.started:.1f} s")
