"""The first session on a cold server: from `streamlit run` to the Build page's first widget.

Each round starts a fresh server (a new process, a new temporary home, offline, the app's default process
runner unless `--runner thread`) and at once opens one browser tab on it, as the first learner of a class
would, in Debian's headless Chromium at 1366×768. It times, from the server's launch:

- **health**: Streamlit's `/_stcore/health` answers (the server listens; no script has run yet);
- **first widget**: the first layer's filters field of the Build page is on the page;
- **page idle**: "Total params" shown and the script finished (the page as a learner can use it);
- **first edit**: the filters changed (Enter) right after the page is idle, until the parameter total
  shows the new count (on a cold server this rerun can wait for the heavy imports still under way).

Beside it, in the same rounds, `streamlit hello` from its launch to its heading, the floor of a cold
Streamlit server on this machine. With `--baseline REF` the app at that git commit (a temporary worktree)
is measured too; with `--runners process thread` this checkout under each runner (the process runner's
worker imports TensorFlow in its own process at the server's start: what that costs the first page). The variants take turns inside each round, so a load change on a shared machine falls on
all of them; medians (with min and max) are printed, with the load average of each round.

    .venv/bin/python -m bench.cold_start [--repeats 5] [--baseline REF] [--runners process thread] [--no-hello]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench._app import CHROMIUM, CHROMIUM_ARGS, FIRST_LOAD_MS, AppServer
from bench._common import ROOT
from bench.page_speed import FIRST_FILTERS, IDLE_JS, TOTAL_JS, VIEWPORT, checkout, hello_server

STEPS = ("health", "first widget", "page idle", "first edit")


async def first_session_of_the_app(browser, root: Path, home: Path, runner: str) -> dict[str, float]:
    launched = time.perf_counter()
    # Served from that folder; PYTHONPATH: its packages, not those of the checkout this script runs from.
    server = AppServer(home, home.with_suffix(".log"), runner=runner, project=root, PYTHONPATH=root)
    server.start(timeout=FIRST_LOAD_MS / 1000)
    times = {"health": time.perf_counter() - launched}
    context = await browser.new_context(viewport=VIEWPORT)
    try:
        page = await context.new_page()
        await page.goto(server.url + "/", timeout=FIRST_LOAD_MS)
        field = page.locator(FIRST_FILTERS)
        await field.wait_for(timeout=FIRST_LOAD_MS)
        times["first widget"] = time.perf_counter() - launched
        await page.wait_for_function(TOTAL_JS, timeout=FIRST_LOAD_MS, polling="raf")
        await page.wait_for_function(IDLE_JS, timeout=FIRST_LOAD_MS, polling="raf")
        times["page idle"] = time.perf_counter() - launched
        before = await page.evaluate(TOTAL_JS)
        edited = time.perf_counter()
        await field.fill("17")
        await field.press("Enter")
        await page.wait_for_function(
            f"() => {{ const t = ({TOTAL_JS})(); return t !== null && t !== '{before}'; }}",
            timeout=FIRST_LOAD_MS,
            polling="raf",
        )
        times["first edit"] = time.perf_counter() - edited
    finally:
        await context.close()
        server.stop()
    return times


async def first_session_of_hello(browser, home: Path) -> dict[str, float]:
    launched = time.perf_counter()
    server = hello_server(home, home.with_suffix(".log")).start()
    times = {"health": time.perf_counter() - launched}
    context = await browser.new_context(viewport=VIEWPORT)
    try:
        page = await context.new_page()
        await page.goto(server.url + "/", timeout=FIRST_LOAD_MS)
        await page.get_by_role("heading", name="Welcome to Streamlit!").wait_for(timeout=FIRST_LOAD_MS)
        times["first widget"] = time.perf_counter() - launched
        await page.wait_for_function(IDLE_JS, timeout=FIRST_LOAD_MS, polling="raf")
        times["page idle"] = time.perf_counter() - launched
    finally:
        await context.close()
        server.stop()
    return times


def summary(label: str, samples: list[dict[str, float]]) -> str:
    parts = []
    for step in STEPS:
        values = [s[step] for s in samples if step in s]
        if values:
            parts.append(f"{step} {statistics.median(values):5.2f} s ({min(values):.2f}–{max(values):.2f})")
    return f"{label:40} n={len(samples)}  " + ",  ".join(parts)


async def main_async(args) -> None:
    from playwright.async_api import async_playwright

    variants: dict[str, list[dict[str, float]]] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
            tmp = Path(tmp)
            apps = {f"this checkout, {runner} runner": (ROOT, runner) for runner in args.runners}
            try:
                if args.baseline:
                    baseline = f"at {args.baseline}, {args.runners[0]} runner"
                    apps = {baseline: (tmp / "baseline", args.runners[0]), **apps}
                    checkout_context = checkout(args.baseline, apps[baseline][0])
                    checkout_context.__enter__()
                names = [*apps, *(["streamlit hello"] if args.hello else [])]
                for round_ in range(args.repeats):
                    order = names[round_ % len(names) :] + names[: round_ % len(names)]
                    load = os.getloadavg()[0]
                    for name in order:
                        home = tmp / f"home-{round_}-{names.index(name)}"
                        if name == "streamlit hello":
                            sample = await first_session_of_hello(browser, home)
                        else:
                            root, runner = apps[name]
                            sample = await first_session_of_the_app(browser, root, home, runner)
                        variants.setdefault(name, []).append(sample)
                    print(
                        f"round {round_ + 1}: load average {load:.2f} → {os.getloadavg()[0]:.2f}; "
                        + "; ".join(f"{n}: first widget {variants[n][-1]['first widget']:.2f} s" for n in order),
                        flush=True,
                    )
            finally:
                if args.baseline:
                    checkout_context.__exit__(None, None, None)
                await browser.close()
    print("\nFrom the server's launch, medians (min–max); first edit: from the edit:")
    for name, samples in variants.items():
        print(summary(f"  {name}", samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds; each starts every variant's server once")
    parser.add_argument("--baseline", help="a git ref: the app at that commit too, in the same rounds")
    parser.add_argument(
        "--runners",
        nargs="+",
        choices=["process", "thread"],
        default=["process"],
        help="CNN_PLAYGROUND_RUNNER of this checkout's servers (the first also for the baseline)",
    )
    parser.add_argument("--no-hello", dest="hello", action="store_false", help="skip the streamlit hello floor")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU core(s), load average {os.getloadavg()[0]:.2f} at start; Chromium 1366×768")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
