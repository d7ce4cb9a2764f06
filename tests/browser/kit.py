"""Shared by the browser tests: the served app's settings, headless Chromium and small page helpers."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
# The shared server's log: one per pytest-xdist worker (each worker that runs browser tests has a server).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
SERVER_LOG = ARTIFACTS / f"browser-streamlit{'-' + WORKER if WORKER else ''}.log"

STARTUP_SECONDS = 60  # the health check answers early; the first page load also imports TensorFlow
FIRST_LOAD_MS = 90_000
UI_MS = 30_000  # one rerun on a slow, busy 2-core machine
RUN_MS = 90_000  # one whole training run
EPOCHS = 10  # shapes with batch 32: well under a second per epoch on an idle machine, so ~5–15 s per run
BATCH_SIZE = "32"

SHAPES_INPUT = (28, 28, 1)
TEACHER_PASSWORD = "classroom-secret"  # classroom mode of the served app (conftest.py: classroom_url)

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium package to run the browser test "
        "(playwright install cannot download browsers here).",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed in this venv")
expect = sync_api.expect
expect.set_options(timeout=30_000)  # one rerun on a slow, busy 2-core machine (default: 5 s)


# The server: `dashboard.launch.AppServer` (shared with the benchmarks), started by conftest.py.


# --- the browser ---------------------------------------------------------------------------------


# True once the page's length and width are the same at two polls in a row: charts drawn again after a
# change of the window's size are done (a length that still changes is measured again).
STEADY_JS = """() => {
    const main = document.querySelector('[data-testid=stMain]');
    const size = main ? `${main.scrollHeight}x${main.clientWidth}` : '';
    const steady = window.__shotsLastSize === size;
    window.__shotsLastSize = size;
    return steady;
}"""


class Shots:
    """Full-page screenshots, numbered in the order taken, with an index file a reviewer can open: in a
    folder of the test's own under test-artifacts/screenshots (tests running at once in two workers never
    clear or overwrite each other's)."""

    def __init__(self):
        test = os.environ.get("PYTEST_CURRENT_TEST", "browser").split("::")[-1].split(" ")[0]
        self.folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "-", test)[:80]
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.paths: list[Path] = []
        self.started = time.monotonic()

    def take(self, page, name: str) -> Path:
        """The whole page: Streamlit scrolls inside <main>, so the window is made tall enough for all of it."""
        path = self.folder / f"{len(self.paths) + 1:02d}-{name}.png"
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
                page.wait_for_function(STEADY_JS, polling=100)  # the charts drawn again at the new size
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.set_viewport_size(viewport)
        self.paths.append(path)
        print(f"[{time.monotonic() - self.started:5.1f} s] screenshot: {path}")
        return path

    def write_index(self) -> None:
        index = self.folder / "index.txt"
        index.write_text("".join(f"{p}\n" for p in self.paths))
        print(f"\nscreenshots ({len(self.paths)}), listed in {index}:")
        for p in self.paths:
            print(f"  {p}")
        print(f"server log: {SERVER_LOG}")


def new_tab(browser, viewport: dict | None = None):
    """A tab in a browser context of its own (its own cookies, so its own anonymous user), with the
    default timeout for one rerun and the page's JavaScript errors collected in ``tab.js_errors``."""
    context = browser.new_context(viewport=viewport or {"width": 1300, "height": 950})
    context.set_default_timeout(UI_MS)
    tab = context.new_page()
    tab.js_errors = []
    tab.on("pageerror", lambda error: tab.js_errors.append(str(error)))
    return tab


def idle(page, timeout: int = UI_MS) -> None:
    """Wait until no script run is in progress (the app sets this attribute on its root)."""
    expect(page.locator(".stApp")).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)


def no_app_errors(page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    assert not page.js_errors, f"JavaScript errors in the page: {page.js_errors}"


PAGE_MS = 90_000  # a page's first visit in a server: it may load a data set first (Fashion-MNIST's 70,000 images)


def go_to(page, link: str, title: str) -> None:
    """Switch pages through the sidebar navigation, then wait for the page's title (generously: a busy machine
    took over 30 s to show the Data page the first time it loaded Fashion-MNIST)."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=link).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible(timeout=PAGE_MS)


def choose(page, key: str, option: str) -> None:
    """Pick an option of the selectbox with this widget key, once no script runs and the box is there once.

    A rerun that moves the box shows its old copy beside the new one until it ends, and a fragment polling on
    the page (the Teacher page's speed measurement, say) can start a rerun at any moment, which may also close
    the list just opened: a click that finds two boxes, or a list without the option, waits for the next
    quiet moment and opens the list again (within a generous time, never a fixed wait)."""
    box = page.locator(f".st-key-{key} input[role=combobox]")
    choice = page.get_by_role("option", name=option, exact=True)
    deadline = time.monotonic() + 2 * UI_MS / 1000
    while True:
        idle(page)
        expect(box).to_have_count(1)
        try:
            box.click()
            choice.click(timeout=5_000)
            break
        except sync_api.Error as problem:  # TimeoutError included
            retry = "strict mode violation" in str(problem) or isinstance(problem, sync_api.TimeoutError)
            if not retry or time.monotonic() > deadline:
                raise
            page.keyboard.press("Escape")  # a list left open by the click is closed before the next try
    expect(box).to_have_value(option)


def type_into(tab, key: str, value) -> None:
    """Type a value into the text or number field with this widget key, commit it (Enter), wait for the rerun."""
    box = tab.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    idle(tab)


def limit_images(tab, images: int) -> None:
    """Train → *Quick experiment* → train on the first ``images`` training images only (a run of the same
    epochs in a fraction of the time, where the test is not about what the model learns)."""
    tab.locator('[data-testid="stExpander"] summary', has_text="Quick experiment").click()
    type_into(tab, "hp_limit_train", images)
    expect(tab.locator(".st-key-hp_limit_train input")).to_have_value(str(images))


# True once the page's images are loaded, its Plotly charts drawn and its size the same at two polls in a row.
DRAWN_JS = f"""() => {{
    const root = document.querySelector('.stApp');
    if (!root) return false;
    if (![...root.querySelectorAll('img')].every(img => img.complete)) return false;
    if (![...root.querySelectorAll('.js-plotly-plot')].every(plot => !!plot._fullLayout)) return false;
    return ({STEADY_JS})();
}}"""


def drawn(page) -> None:
    """Wait until no script runs and what is drawn after the script ends (images, charts) is on the page."""
    idle(page)
    page.wait_for_function(DRAWN_JS, polling=150, timeout=UI_MS)


def use_shapes(tab) -> None:
    """Data → the Shapes data set, waited for until the server has it (a busy machine can take seconds) and
    the page is idle, so that leaving the page loses nothing."""
    go_to(tab, "Data", "Look at the data")
    choose(tab, "dataset_choice", "Shapes (synthetic)")
    expect(tab.get_by_text(re.compile("2,500 grey 28×28 drawings")).first).to_be_visible()
    idle(tab)


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
    page.wait_for_function(
        f"n => {{ const t = ({BATCH_TRACE_JS})(); return !!t && t.x.length > n; }}", arg=than, timeout=timeout
    )
    return batch_points(page)


def heatmap_with(page, names: list[str]) -> list:
    """[x, y] of the first Plotly heatmap whose x axis lists all these names (waits for it to appear)."""
    found = page.wait_for_function(
        """names => {
        for (const plot of document.querySelectorAll('.js-plotly-plot'))
            for (const trace of plot.data || [])
                if (trace.type === 'heatmap' && Array.isArray(trace.x) && names.every(n => trace.x.includes(n)))
                    return [trace.x, trace.y];
        return null;
    }""",
        arg=names,
    )
    return found.json_value()


def start_run(page, previous: str | None) -> str:
    """Press Train; return the new run's id once its live panel shows it training."""
    button(page, "train").click()
    page.wait_for_url(lambda url: run_id_in(url) not in (None, previous))
    run_id = run_id_in(page.url)
    expect(page.get_by_role("heading", name=re.compile(rf"^Run {run_id}: "))).to_be_visible()
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


# --- a learner's first steps, shared by the tests of a learner's work -----------------------------

YOUR_WORK = "Your work: save it, open it elsewhere, recovery code"


def open_app(tab, url: str) -> None:
    """Open the app in ``tab`` and wait for its first page (Build)."""
    tab.goto(url, timeout=FIRST_LOAD_MS)
    expect(tab.get_by_role("heading", name="Build your network", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)


QUICK_IMAGES = 300  # a quick run's training images


def train_quick_shapes_run(tab) -> str:
    """Choose the Shapes data set, train model 1 for one epoch of QUICK_IMAGES images and wait for it to
    finish; its run id."""
    use_shapes(tab)
    go_to(tab, "Train", "Train")
    type_into(tab, "hp_epochs", 1)
    limit_images(tab, QUICK_IMAGES)
    button(tab, "train").click()
    tab.wait_for_url(lambda url: run_id_in(url) is not None)
    expect(tab.get_by_text(re.compile(r"^Finished after 1 epoch"))).to_be_visible(timeout=RUN_MS)
    return run_id_in(tab.url)


def open_your_work(tab) -> None:
    """Results → the *Your work* section, opened."""
    go_to(tab, "Results", "Results")
    idle(tab)
    tab.get_by_text(YOUR_WORK).click()
    expect(button(tab, "recovery_use")).to_be_visible()
    idle(tab)
