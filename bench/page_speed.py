"""How fast the app feels in a browser: new session, builder edit, page switch, Train → first chart point.

Starts the app (`streamlit run dashboard/app.py`, `--runner` process (the app's default) or thread, fresh temporary home, offline) and, as a
floor, Streamlit's own `streamlit hello` app, each on a free loopback port, and drives both with Playwright
in Debian's headless Chromium at 1366×768. Every figure is taken after a warm-up (the first page load
imports TensorFlow and loads the data set in the server), `--repeats` times, and printed as the median
(with min and max):

- **new session usable**: a new browser context (a new anonymous user) opens the app until the builder
  can be used: "Total params" shown, the first layer's filters field on the page, no script running;
- **builder edit**: the first layer's filters changed (Enter) until the parameter total shows the new
  count;
- **page switch**: a click on Train, Data or Build in the sidebar until that page's title is shown and no
  script is running (Build ↔ Train and Build ↔ Data reported apart: Data draws 50 images and two charts);
- **Train → first chart point**: a click on Train until the live chart holds its first per-batch point
  (the run is then stopped and its end awaited before the next one).

For each action it also prints what the browser did (Chrome's own counters over the action: script,
layout and style time, and the number of DOM elements afterwards), to show where a page's time goes.
The hello app gives the floor for a new session and a page switch (Hello ↔ DataFrame demo).

With `--baseline REF` the app at that git commit (a temporary worktree) is measured first, in the same run,
and the ratios printed.

    .venv/bin/python -m bench.page_speed [--repeats 5] [--no-hello] [--no-train] [--baseline REF]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import dashboard.launch
from bench._app import CHROMIUM, CHROMIUM_ARGS, FIRST_LOAD_MS, AppServer
from bench._common import ROOT
from bench.stats import spread

VIEWPORT = {"width": 1366, "height": 768}
IDLE_JS = "() => document.querySelector('.stApp')?.getAttribute('data-test-script-state') === 'notRunning'"
TOTAL_JS = """() => {
    const m = document.body.innerText.match(/Total params: ([\\d,]+)/);
    return m ? m[1] : null;
}"""
# Only the live chart of the run just started (the page also shows the previous run's final chart).
POINTS_JS = """() => {
    for (const plot of document.querySelectorAll('.st-key-live_chart .js-plotly-plot'))
        for (const trace of plot.data || [])
            if ((trace.name || '').includes('per batch') && Array.isArray(trace.x) && trace.x.length) return true;
    return false;
}"""
FIRST_FILTERS = ".st-key-b0_0_filters input"  # layer 1's filters (builder version 0 in a new session)


def hello_server(home: Path, log: Path) -> dashboard.launch.AppServer:
    """`streamlit hello` on a free loopback port (the same start, stop and process handling as the app)."""
    return dashboard.launch.AppServer(home, log, streamlit=("hello",))


class Probe:
    """One browser tab and Chrome's performance counters for it."""

    def __init__(self, page, cdp):
        self.page, self.cdp = page, cdp

    @classmethod
    async def open(cls, browser) -> Probe:
        context = await browser.new_context(viewport=VIEWPORT)
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Performance.enable")
        return cls(page, cdp)

    async def counters(self) -> dict:
        metrics = (await self.cdp.send("Performance.getMetrics"))["metrics"]
        return {m["name"]: m["value"] for m in metrics}

    async def timed(self, action, done) -> dict:
        """Seconds from the action's start until done() resolves, and the browser's work meanwhile."""
        before = await self.counters()
        start = time.perf_counter()
        await action()
        await done()
        seconds = time.perf_counter() - start
        after = await self.counters()
        work = {name: after.get(name, 0) - before.get(name, 0) for name in ("ScriptDuration", "LayoutDuration")}
        work["StyleDuration"] = after.get("RecalcStyleDuration", 0) - before.get("RecalcStyleDuration", 0)
        work["elements"] = await self.page.evaluate("() => document.querySelectorAll('*').length")
        return {"seconds": seconds, **work}

    async def idle(self, timeout=60_000):
        await self.page.wait_for_function(IDLE_JS, timeout=timeout, polling="raf")

    async def close(self):
        await self.page.context.close()


def summary(label: str, samples: list[dict], target: float | None = None) -> str:
    seconds = [s["seconds"] for s in samples]
    median = statistics.median(seconds)

    def med(key):
        return statistics.median(s[key] for s in samples)

    verdict = "" if target is None else f"  target ≤ {target:g} s: {'met' if median <= target else 'NOT met'}"
    return (
        f"{label:34} {spread(seconds)}"
        f"  browser: script {med('ScriptDuration'):.2f} s, layout {med('LayoutDuration'):.2f} s, "
        f"style {med('StyleDuration'):.2f} s, {med('elements'):.0f} elements{verdict}"
    )


async def new_session(browser, url: str, ready) -> tuple[Probe, dict]:
    probe = await Probe.open(browser)

    async def go():
        await probe.page.goto(url + "/", timeout=FIRST_LOAD_MS)

    sample = await probe.timed(go, lambda: ready(probe))
    return probe, sample


async def app_ready(probe: Probe) -> None:
    await probe.page.locator(FIRST_FILTERS).wait_for(timeout=FIRST_LOAD_MS)
    await probe.page.wait_for_function(TOTAL_JS, timeout=FIRST_LOAD_MS, polling="raf")
    await probe.idle(FIRST_LOAD_MS)


async def switch(probe: Probe, link: str, title: str) -> dict:
    async def click():
        await probe.page.locator('[data-testid="stSidebarNav"] a', has_text=link).first.click()

    async def shown():
        await probe.page.get_by_role("heading", name=title, exact=False).first.wait_for()
        await probe.idle()

    return await probe.timed(click, shown)


async def bench_app(browser, url: str, repeats: int, train: bool) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {
        "new session": [],
        "builder edit": [],
        "page switch": [],
        "page switch, Data": [],
        "train": [],
    }
    warm, _ = await new_session(browser, url, app_ready)  # the server's first load: TensorFlow, data set
    await warm.close()
    for _ in range(repeats):
        probe, sample = await new_session(browser, url, app_ready)
        results["new session"].append(sample)
        await probe.close()

    probe, _ = await new_session(browser, url, app_ready)
    field = probe.page.locator(FIRST_FILTERS)
    for n in range(repeats + 1):
        before = await probe.page.evaluate(TOTAL_JS)
        value = "17" if n % 2 == 0 else "16"

        async def edit(value=value):
            await field.fill(value)
            await field.press("Enter")

        async def changed(before=before):
            await probe.page.wait_for_function(
                f"() => {{ const t = ({TOTAL_JS})(); return t !== null && t !== '{before}'; }}", polling="raf"
            )

        sample = await probe.timed(edit, changed)
        await probe.idle()
        if n:  # the first edit of a session also loads the widgets' code: a warm-up
            results["builder edit"].append(sample)

    for n in range(repeats + 1):
        samples = [
            await switch(probe, "Train", "Train"),
            await switch(probe, "Build", "Build your network"),
            await switch(probe, "Data", "Look at the data"),
            await switch(probe, "Build", "Build your network"),
        ]
        if n:  # the first visit of each page loads its components' code: a warm-up
            results["page switch"] += samples[:2]
            results["page switch, Data"] += samples[2:]
    if train:
        await switch(probe, "Train", "Train")
        for _ in range(max(2, repeats // 2) + 1):

            async def press():
                await probe.page.locator(".st-key-train button:visible").click()

            async def first_point():
                await probe.page.wait_for_function(POINTS_JS, timeout=120_000, polling="raf")

            results["train"].append(await probe.timed(press, first_point))
            await probe.page.locator(".st-key-stop button:visible").click()
            await probe.page.get_by_text("Stopped after").first.wait_for(timeout=120_000)
            await probe.idle()
        # The first builds the Keras model's code paths (a warm-up), unless the worker prepared this model
        # ahead (core.runs.trainer.prepare_ahead: the default model, which a new learner trains first):
        # printed on its own as the server's first Train.
        results["first train"], results["train"] = results["train"][:1], results["train"][1:]
    await probe.close()
    return results


async def hello_ready(probe: Probe) -> None:
    await probe.page.get_by_role("heading", name="Welcome to Streamlit!").wait_for(timeout=FIRST_LOAD_MS)
    await probe.idle(FIRST_LOAD_MS)


async def bench_hello(browser, url: str, repeats: int) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {"new session": [], "page switch": []}
    warm, _ = await new_session(browser, url, hello_ready)
    await warm.close()
    for _ in range(repeats):
        probe, sample = await new_session(browser, url, hello_ready)
        results["new session"].append(sample)
        await probe.close()
    probe, _ = await new_session(browser, url, hello_ready)
    for n in range(repeats + 1):
        there = await switch(probe, "DataFrame demo", "DataFrame demo")
        back = await switch(probe, "Hello", "Welcome to Streamlit!")
        if n:
            results["page switch"] += [there, back]
    await probe.close()
    return results


@contextlib.contextmanager
def checkout(ref: str, folder: Path):
    """The app's code at a git ref, in a temporary worktree (with this checkout's virtualenv)."""
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), ref], cwd=ROOT, check=True, capture_output=True)
    try:
        (folder / ".venv").symlink_to(ROOT / ".venv")
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, capture_output=True)


async def bench_app_at(browser, root: Path, tmp: Path, args) -> dict[str, list[dict]]:
    # served from that folder (`streamlit run dashboard/app.py` there)
    app = AppServer(tmp / f"home-{root.name}", tmp / f"app-{root.name}.log", runner=args.runner, project=root)
    app.start()
    try:
        return await bench_app(browser, app.url, args.repeats, args.train)
    finally:
        app.stop()


def print_app(title: str, results: dict[str, list[dict]]) -> None:
    print(f"{title} (load average now {os.getloadavg()[0]:.2f}):")
    print(summary("  new session usable", results["new session"], 2.0))
    print(summary("  builder edit reflected", results["builder edit"], 0.25))
    print(summary("  page switch (Build ↔ Train)", results["page switch"], 0.5))
    print(summary("  page switch (Build ↔ Data)", results["page switch, Data"], 0.5))
    if results["train"]:
        print(summary("  Train → first chart point", results["train"], 1.0))
        print(summary("  the server's first Train → first chart point", results["first train"], 1.0))


async def main_async(args) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with tempfile.TemporaryDirectory(prefix="bench-page-") as tmp:
                tmp = Path(tmp)
                if args.baseline:
                    with checkout(args.baseline, tmp / "baseline") as root:
                        before = await bench_app_at(browser, root, tmp, args)
                    print_app(f"CNN Playground at {args.baseline} (the baseline)", before)
                results = await bench_app_at(browser, ROOT, tmp, args)
                print_app("CNN Playground (this checkout)", results)
                if args.baseline:
                    names = ("new session", "builder edit", "page switch", "page switch, Data", "train", "first train")
                    for name in names:
                        if results.get(name) and before.get(name):
                            now = statistics.median(s["seconds"] for s in results[name])
                            then = statistics.median(s["seconds"] for s in before[name])
                            print(f"  {name}: {then:.2f} s → {now:.2f} s ({now / then:.2f}×)")
                if args.hello:
                    hello = hello_server(Path(tmp) / "hello-home", Path(tmp) / "hello.log").start()
                    try:
                        floor = await bench_hello(browser, hello.url, args.repeats)
                    finally:
                        hello.stop()
                    print(f"streamlit hello, the floor (load average now {os.getloadavg()[0]:.2f}):")
                    print(summary("  new session usable", floor["new session"]))
                    print(summary("  page switch (Hello ↔ DataFrame)", floor["page switch"]))
                    for name in ("new session", "page switch"):
                        ratio = statistics.median(s["seconds"] for s in results[name]) / statistics.median(
                            s["seconds"] for s in floor[name]
                        )
                        target = " (target ≤ 1.3×)" if name == "new session" else ""
                        print(f"  ratio app / hello, {name}: {ratio:.2f}×{target}")
        finally:
            await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--runner", choices=["thread", "process"], default="process", help="the app's runner (its default: process)"
    )
    parser.add_argument("--no-hello", dest="hello", action="store_false", help="skip the streamlit hello floor")
    parser.add_argument("--no-train", dest="train", action="store_false", help="skip Train → first chart point")
    parser.add_argument("--baseline", help="a git ref: measure the app at that commit first, in the same run")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU core(s), load average {os.getloadavg()[0]:.2f} at start; Chromium 1366×768")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
