"""Real-browser end-to-end test: the app served by `streamlit run`, driven by headless Chromium.

Data → Build → Train (live chart, refresh mid-run, stop) → Results → Compare (the two runs), on the
synthetic shapes set so the runs take seconds; then a zip of image folders imported on Data. Full-page
screenshots land in test-artifacts/screenshots/ (git-ignored) and the server log in
test-artifacts/browser-streamlit.log; both paths are printed (run pytest with -s) and listed in
test-artifacts/screenshots/index.txt.

Deselect with `-m "not browser"`. Needs Debian's /usr/bin/chromium (Playwright cannot download one here).
"""
from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from core.datasets import SHAPE_CLASSES
from core.presets import PRESETS
from core.spec import analyze

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
SERVER_LOG = ARTIFACTS / "browser-streamlit.log"

STARTUP_SECONDS = 60  # the health check answers early; the first page load also imports TensorFlow
FIRST_LOAD_MS = 90_000
UI_MS = 30_000  # one rerun on a slow, busy 2-core machine
RUN_MS = 90_000  # one whole training run
EPOCHS = 10  # shapes with batch 32: well under a second per epoch on an idle machine, so ~5–15 s per run
BATCH_SIZE = "32"

SHAPES_INPUT = (28, 28, 1)

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser test "
                "(playwright install cannot download browsers here).", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed in this venv")
expect = sync_api.expect
expect.set_options(timeout=30_000)  # one rerun on a slow, busy 2-core machine (default: 5 s)


# --- the server ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def log_tail(limit: int = 6000) -> str:
    text = SERVER_LOG.read_text(errors="replace") if SERVER_LOG.exists() else "(no log)"
    return text[-limit:]


@pytest.fixture
def app_url(tmp_path, request):
    """`streamlit run dashboard/app.py` on a free port with its own run store; stopped at the end."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    env = dict(os.environ, CNN_PLAYGROUND_HOME=str(tmp_path / "home"), CNN_PLAYGROUND_OFFLINE="1",
               TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    log = SERVER_LOG.open("w")
    server = subprocess.Popen(
        [python(), "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    failed_before = request.session.testsfailed

    def stop() -> None:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # its own session: this server and nothing else
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=15)
        log.close()
        if request.session.testsfailed > failed_before:
            print(f"\n--- streamlit server log (full log: {SERVER_LOG}) ---\n{log_tail()}")

    request.addfinalizer(stop)

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if server.poll() is not None:
            pytest.fail(f"the Streamlit server exited with code {server.returncode}:\n{log_tail()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    break
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the Streamlit server did not answer on {url} within {STARTUP_SECONDS} s:\n{log_tail()}")
        time.sleep(0.5)
    return url


# --- the browser ---------------------------------------------------------------------------------

@pytest.fixture
def page():
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(UI_MS)
            tab = context.new_page()
            tab.on("pageerror", lambda error: errors.append(str(error)))
            tab.js_errors = errors
            yield tab
        finally:
            browser.close()


class Shots:
    """Full-page screenshots, numbered in the order taken, with an index file a reviewer can open."""

    def __init__(self):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()
        self.paths: list[Path] = []
        self.started = time.monotonic()

    def take(self, page, name: str) -> Path:
        """The whole page: Streamlit scrolls inside <main>, so the window is made tall enough for all of it."""
        path = SCREENSHOTS / f"{len(self.paths) + 1:02d}-{name}.png"
        viewport = page.viewport_size
        try:
            page.mouse.move(0, 0)  # no tooltip of the last button clicked
            height = viewport["height"]
            for _ in range(4):  # images and charts drawn late can make the page longer: measure again
                content = page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollHeight || 0")
                if content <= height:
                    break
                height = min(content, 15_000)
                page.set_viewport_size({"width": viewport["width"], "height": height})
                page.wait_for_timeout(500)  # let the charts redraw at the new size
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.set_viewport_size(viewport)
        self.paths.append(path)
        print(f"[{time.monotonic() - self.started:5.1f} s] screenshot: {path}")
        return path

    def write_index(self) -> None:
        index = SCREENSHOTS / "index.txt"
        index.write_text("".join(f"{p}\n" for p in self.paths))
        print(f"\nscreenshots ({len(self.paths)}), listed in {index}:")
        for p in self.paths:
            print(f"  {p}")
        print(f"server log: {SERVER_LOG}")


def idle(page, timeout: int = UI_MS) -> None:
    """Wait until no script run is in progress (the app sets this attribute on its root)."""
    expect(page.locator(".stApp")).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)


def no_app_errors(page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    assert not page.js_errors, f"JavaScript errors in the page: {page.js_errors}"


def go_to(page, link: str, title: str) -> None:
    """Switch pages through the sidebar navigation, then wait for the page's title."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=link).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()


def choose(page, key: str, option: str) -> None:
    """Pick an option of the selectbox with this widget key."""
    box = page.locator(f".st-key-{key} input[role=combobox]")
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)


def button(page, key: str):
    """The app's own button by widget key (Streamlit draws a second, hidden copy of each button)."""
    return page.locator(f".st-key-{key} button:visible")


BATCH_TRACE_JS = """() => {
    // The per-batch line of the Train page's chart, found by its legend name, not by position or widget key.
    for (const plot of document.querySelectorAll('.js-plotly-plot'))
        for (const trace of plot.data || [])
            if ((trace.name || '').includes('per batch') && Array.isArray(trace.x)) return trace;
    return null;
}"""


def batch_points(page) -> int:
    """Points of the chart's per-batch training trace; 0 before it appears."""
    return page.evaluate(f"() => {{ const t = ({BATCH_TRACE_JS})(); return t ? t.x.length : 0; }}")


def wait_for_more_points(page, than: int, timeout: int = UI_MS) -> int:
    page.wait_for_function(f"n => {{ const t = ({BATCH_TRACE_JS})(); return !!t && t.x.length > n; }}",
                           arg=than, timeout=timeout)
    return batch_points(page)


def heatmap_with(page, names: list[str]) -> list:
    """[x, y] of the first Plotly heatmap whose x axis lists all these names (waits for it to appear)."""
    found = page.wait_for_function("""names => {
        for (const plot of document.querySelectorAll('.js-plotly-plot'))
            for (const trace of plot.data || [])
                if (trace.type === 'heatmap' && Array.isArray(trace.x) && names.every(n => trace.x.includes(n)))
                    return [trace.x, trace.y];
        return null;
    }""", arg=names)
    return found.json_value()


def start_run(page, previous: str | None) -> str:
    """Press Train; return the new run's id once its live panel shows it training."""
    button(page, "train").click()
    page.wait_for_url(lambda url: run_id_in(url) not in (None, previous))
    run_id = run_id_in(page.url)
    expect(page.get_by_role("heading", name=re.compile(rf"^Run {run_id}: .*· {EPOCHS} ep$"))).to_be_visible()
    expect(page.get_by_text(re.compile(rf"^Training: epoch \d+ of {EPOCHS}"))).to_be_visible()
    expect(button(page, "stop")).to_be_enabled()
    expect(button(page, "train")).to_be_disabled()
    return run_id


def colour_zip() -> bytes:
    """A zip of two class folders of small colour PNGs (red and blue squares), for the image import."""
    from PIL import Image

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, colour in (("reds", (220, 30, 30)), ("blues", (30, 30, 220))):
            for i in range(6):
                image = io.BytesIO()
                Image.new("RGB", (40 + i, 30), colour).save(image, "PNG")
                archive.writestr(f"{name}/{i}.png", image.getvalue())
    return buffer.getvalue()


def run_id_in(url: str) -> str | None:
    return parse_qs(urlparse(url).query).get("run", [None])[0]


# --- the test ------------------------------------------------------------------------------------

def test_build_data_train_refresh_results_in_a_real_browser(app_url, page):
    shots = Shots()
    try:
        # Build is the default page; the first load waits for TensorFlow's import in the server.
        page.goto(app_url + "/", timeout=FIRST_LOAD_MS)
        expect(page.get_by_role("heading", name="Build your network")).to_be_visible(timeout=FIRST_LOAD_MS)
        expect(page.get_by_text("Total params:")).to_be_visible(timeout=FIRST_LOAD_MS)
        assert parse_qs(urlparse(page.url).query).get("u"), f"no anonymous user id in the URL: {page.url}"

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
        sidebar = page.locator('[data-testid="stSidebar"]')
        if "Shapes (synthetic)" not in sidebar.inner_text():
            # Known app bug: app.py draws the sidebar before the page runs, and data.py switches the data
            # set in its body, so the sidebar shows the previous data set until the next rerun.
            print("NOTE (app bug): after choosing Shapes the sidebar still shows the previous data set")
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
        epochs = page.locator(".st-key-hp_epochs input")
        epochs.fill(str(EPOCHS))
        epochs.press("Enter")
        idle(page)
        choose(page, "hp_batch_size", BATCH_SIZE)
        idle(page)
        expect(epochs).to_have_value(str(EPOCHS))
        expect(button(page, "stop")).to_be_disabled()
        stopped_id = start_run(page, previous=None)
        first = wait_for_more_points(page, 0)
        second = wait_for_more_points(page, first)
        print(f"live chart: {first} then {second} per-batch points")
        shots.take(page, "train-during")

        # Stop, with the app's own button (never the toolbar's "Stop", shown while a script runs).
        button(page, "stop").click()
        expect(page.get_by_text(re.compile(r"^Stopped after \d+ epoch\(s\) in .* test accuracy \d+\.\d+ %$"))
               ).to_be_visible(timeout=RUN_MS)
        expect(page.get_by_text("Stopped by you")).to_be_visible()
        expect(button(page, "train")).to_be_enabled()
        expect(button(page, "stop")).to_be_disabled()
        idle(page)
        no_app_errors(page)
        shots.take(page, "train-stopped")

        # A second run with the same settings, refreshed mid-run: a new session finds it again from the
        # URL (?u=...&run=...) and it trains to its end.
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
            print(f"after the refresh the live chart shows {resumed} per-batch points, then "
                  f"{wait_for_more_points(page, resumed)}")

        # The end of the run: the page redraws once with the final status and chart.
        expect(page.get_by_text(re.compile(rf"^Finished after {EPOCHS} epoch\(s\) in .* test accuracy \d+\.\d+ %$"))
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
        curves = page.wait_for_function("""ids => {
            // The overlay chart, found by its traces' run ids (one legend group per run).
            for (const plot of document.querySelectorAll('.js-plotly-plot')) {
                const groups = new Set((plot.data || []).map(t => t.legendgroup));
                if (ids.every(id => groups.has(id))) return (plot.data || []).filter(t => ids.includes(t.legendgroup))
                    .map(t => [t.legendgroup, t.line.dash, t.x.length]);
            }
            return null;
        }""", arg=[run_id, stopped_id]).json_value()
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
            {"name": "colours.zip", "mimeType": "application/zip", "buffer": colour_zip()})
        expect(page.locator(".st-key-image_zip")).to_contain_text("colours.zip")
        idle(page)
        name_box = page.locator(".st-key-image_name input")
        name_box.fill("My colours")
        name_box.press("Enter")
        idle(page)
        button(page, "import_images").click()
        expect(page.get_by_text("Imported My colours: 10 training and 2 test images of 32×32 colour in 2 classes")
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
