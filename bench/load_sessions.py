"""N anonymous browser sessions train at once on one server: memory, time to the first chart point, errors,
cross-talk.

Each session is its own Chromium browser context (its own cookie jar, so its own anonymous user). All open
the app; the server's memory is read with 0 and with N idle sessions on the Build page. Then each picks
the Shapes data set, sets a short training on Train, and all press Train at (nearly) the same moment.
Every session polls its page until its run ends, noting when the first per-batch point appears on the
live chart, any exception box or JavaScript error, and every run id its page ever shows. Finally each
opens Results, which must list its own run only.

    .venv/bin/python -m bench.load_sessions [--sessions 10] [--runner thread|process] [--epochs 2]

A class at once (`--class-size 30`, bench/class_load.py): 30 sessions on Train, `--trainers 2` of them
training Shapes for `--class-epochs` epochs while the others watch a finished run of their own; prints each
training page's chart refresh gaps, the server's health answers, what each page receives, the server's and
workers' CPU time and the memory per session.

    .venv/bin/python -m bench.load_sessions --class-size 30 [--trainers 2] [--class-epochs 6]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time

from bench._app import (
    ENDED,
    RUN_ID,
    AppServer,
    Session,
    add_common_options,
    format_memory,
    launch,
    run_id_in,
    user_of,
    with_server,
)
from bench._common import machine
from bench.stats import spread
from core.config import Settings
from core.runs.store import RunStore

QUEUE = re.compile(r"number (\d+) in the queue")
HEADING = re.compile(r"^Run ([0-9a-f]{12}): ", re.M)
SETTLE_SECONDS = 5  # let the server finish its work before reading its memory


class Trainee(Session):
    """A session plus what it saw while its run trained."""

    def __init__(self, name: str):
        super().__init__(name)
        self.run_id: str | None = None
        self.user: str | None = None
        self.clicked = self.first_point = self.training_seen = self.ended = None
        self.queue_positions: list[int] = []
        self.ids_seen: set[str] = set()  # every run id in the page's text or URL, at every poll
        self.headings: set[str] = set()
        self.exceptions = 0
        self.errors: list[str] = []
        self.end_text = ""
        self.results_options: list[str] = []
        self.results_run: str | None = None

    def look(self, snap: dict) -> None:
        self.ids_seen |= set(RUN_ID.findall(snap["text"])) | ({run_id_in(snap["url"])} - {None})
        self.headings |= set(HEADING.findall(snap["text"]))
        self.exceptions = max(self.exceptions, snap["exceptions"])
        self.queue_positions += [int(p) for p in QUEUE.findall(snap["text"])]

    async def train(self, go: asyncio.Event, timeout_s: float) -> None:
        try:
            # The button is found first; at the signal it is clicked in the page (element.click(), the
            # button's own handler), so the N clicks are not spread out by Playwright's actionability
            # waits in N busy browser tabs.
            train_button = await self.button("train").element_handle()
            await go.wait()
            await train_button.evaluate("b => b.click()")
            self.clicked = time.monotonic()  # the click has happened in the page
            await self.page.wait_for_url(lambda url: run_id_in(url) is not None)
            self.run_id = run_id_in(self.page.url)
            self.user = await user_of(self)
            deadline = self.clicked + timeout_s
            while True:
                snap = await self.snapshot()
                now = time.monotonic()
                self.look(snap)
                if self.training_seen is None and "Training: epoch" in snap["text"]:
                    self.training_seen = now
                if self.first_point is None and snap["points"] > 0:
                    self.first_point = now
                match = ENDED.search(snap["text"])
                if match and snap["settled"]:
                    self.ended, self.end_text = now, match.group(0)
                    return
                if now > deadline:
                    raise TimeoutError(f"the run did not end within {timeout_s:.0f} s of Train")
                await asyncio.sleep(0.25)
        except Exception as error:  # noqa: BLE001 - a benchmark reports failures, it does not stop on one
            self.errors.append(f"training: {type(error).__name__}: {str(error).splitlines()[0][:200]}")

    async def check_results(self) -> None:
        try:
            await self.go_to("Results", "Results")
            await self.page.locator('[data-testid="stMetric"]', has_text="Test accuracy").wait_for()
            await self.idle()
            self.results_options = await self.option_labels("results_run")
            self.look(await self.snapshot())
            self.results_run = run_id_in(self.page.url)
        except Exception as error:  # noqa: BLE001
            self.errors.append(f"results: {type(error).__name__}: {str(error).splitlines()[0][:200]}")


def seconds(start, end) -> str:
    return "—" if start is None or end is None else f"{end - start:.1f}"


async def bench(args, server: AppServer) -> None:
    from playwright.async_api import async_playwright

    n, home = args.sessions, server.home
    slots = Settings.from_env(server.env).concurrency
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            # A first session loads TensorFlow and the default data set into the server (and, with the
            # process runner, starts the workers): "0 sessions" is measured after it, so the growth
            # below is what each extra idle session costs.
            t = time.monotonic()
            warm = await Session("warm-up").open(browser, server.url)
            print(f"warm-up session: first page load {time.monotonic() - t:.1f} s")
            await asyncio.sleep(SETTLE_SECONDS)
            before = server.memory()
            print(f"server memory, warm-up session only: {format_memory(before)}")

            trainees = [Trainee(f"s{i + 1:02d}") for i in range(n)]
            t = time.monotonic()
            opened = await asyncio.gather(*(s.open(browser, server.url) for s in trainees), return_exceptions=True)
            for s, result in zip(trainees, opened):
                if isinstance(result, Exception):
                    s.errors.append(f"open: {type(result).__name__}: {str(result).splitlines()[0][:200]}")
            print(f"{n} sessions opened the Build page concurrently in {time.monotonic() - t:.1f} s")
            await asyncio.sleep(SETTLE_SECONDS)
            idle = server.memory()
            growth = idle["total"] - before["total"]
            print(f"server memory, {n} more idle sessions: {format_memory(idle)}")
            print(f"  -> {growth:+.1f} MB for {n} idle sessions = {growth / n:+.1f} MB per session (target <= 30 MB)")

            # One run alone, with the N sessions idle: the time to the first chart point when a training
            # slot is free and the machine is not swamped by N browsers.
            solo = Trainee("solo")
            solo.context, solo.page, solo.page_errors = warm.context, warm.page, warm.page_errors
            await solo.prepare_shapes_training(args.epochs)
            go = asyncio.Event()
            go.set()
            await solo.train(go, args.run_timeout)
            print(
                f"one run alone (warm-up session, {n} idle sessions open): Train -> 'Training: epoch' "
                f"{seconds(solo.clicked, solo.training_seen)} s, -> first chart point "
                f"{seconds(solo.clicked, solo.first_point)} s, -> {solo.end_text or 'no end'} "
                f"{seconds(solo.clicked, solo.ended)} s; load average {os.getloadavg()[0]:.2f}"
                f"{'; ' + '; '.join(solo.errors) if solo.errors else ''}"
            )
            await asyncio.sleep(SETTLE_SECONDS)
            after_solo = server.memory()
            print(f"server memory after that run: {format_memory(after_solo)}")

            ready = [s for s in trainees if not s.errors]
            prepared = await asyncio.gather(
                *(s.prepare_shapes_training(args.epochs) for s in ready), return_exceptions=True
            )
            for s, result in zip(ready, prepared):
                if isinstance(result, Exception):
                    s.errors.append(f"prepare: {type(result).__name__}: {str(result).splitlines()[0][:200]}")
            ready = [s for s in ready if not s.errors]
            print(
                f"{len(ready)} sessions on Train with Shapes and {args.epochs} epochs; "
                f"{slots} training slot(s) ({args.runner} runner): pressing Train in all at once"
            )

            go = asyncio.Event()
            tasks = [asyncio.create_task(s.train(go, args.run_timeout)) for s in ready]
            await asyncio.sleep(2)  # every task has found its button and waits for the signal
            go.set()
            await asyncio.gather(*tasks)
            clicks = [s.clicked for s in ready if s.clicked is not None]
            created = [r.created for r in RunStore(home).list() if r.id != solo.run_id] or [0.0]
            clicks = clicks or [0.0]
            print(f"all runs ended; load average {os.getloadavg()[0]:.2f}")
            print(
                f"Train clicks delivered in {len(clicks)} sessions within {max(clicks) - min(clicks):.2f} s; "
                f"the server created the {len(created)} runs within {max(created) - min(created):.2f} s"
            )
            await asyncio.gather(*(s.check_results() for s in ready))
            await asyncio.sleep(SETTLE_SECONDS)
            after = server.memory()
            await warm.close()
        finally:
            await browser.close()

    report(args, trainees, RunStore(home), slots, before, idle, after, solo)


def report(args, trainees, store: RunStore, slots: int, before: dict, idle: dict, after: dict, solo) -> None:
    runs = {r.id: r for r in store.list() if r.id != solo.run_id}
    started_order = sorted((r for r in runs.values() if r.started is not None), key=lambda r: r.started)
    first_slot = {r.id for r in started_order[:slots]}
    all_ids = {s.run_id for s in trainees if s.run_id} | ({solo.run_id} - {None})

    print(
        f"\n{'session':8} {'run':12} {'queue':>6} {'wait':>6} {'Training':>9} {'1st pt':>7} {'ended':>7} "
        f"{'exc':>4} {'jsErr':>5} {'foreign':>7} {'results':>8}  end"
    )
    crosstalk = 0
    for s in trainees:
        run = runs.get(s.run_id)
        wait = f"{run.started - run.created:.1f}" if run is not None and run.started else "—"
        foreign = (s.ids_seen | s.headings) - {s.run_id}
        foreign_runs = foreign & all_ids  # another session's run id on this page
        wrong_results = (s.results_run not in (None, s.run_id)) or len(s.results_options) > 1
        owner_mismatch = run is not None and run.owner != s.user
        crosstalk += bool(foreign_runs) + bool(wrong_results) + bool(owner_mismatch)
        queue = f"{max(s.queue_positions)}" if s.queue_positions else "-"
        print(
            f"{s.name:8} {s.run_id or '—':12} {queue:>6} {wait:>6} {seconds(s.clicked, s.training_seen):>9} "
            f"{seconds(s.clicked, s.first_point):>7} {seconds(s.clicked, s.ended):>7} {s.exceptions:>4} "
            f"{len(s.page_errors):>5} {len(foreign_runs):>7} {len(s.results_options):>8}  "
            f"{s.end_text or '—'}{' *first slot' if s.run_id in first_slot else ''}"
        )
        for line in s.errors + [f"page error: {e[:200]}" for e in s.page_errors]:
            print(f"         {line}")
        if foreign - all_ids:
            print(
                f"         other 12-hex strings on the page (not run ids of this benchmark): {sorted(foreign - all_ids)}"
            )
        if wrong_results:
            print(f"         Results listed {s.results_options} and followed {s.results_run}")
        if owner_mismatch:
            print(f"         the run's owner {run.owner} is not this session's user {s.user}")
    print(
        "columns: queue = highest queue position shown; wait = queue wait in the server (started - created); "
        "Training / 1st pt / ended = seconds from the Train click to the 'Training: epoch' text, the first "
        "per-batch chart point, the end; exc = exception boxes; results = runs listed on Results"
    )

    owners: dict[str, list[str]] = {}
    for r in runs.values():
        owners.setdefault(r.owner, []).append(r.id)
    shared_owner = sum(len(ids) > 1 for ids in owners.values())

    first = [s.first_point - s.clicked for s in trainees if s.first_point and s.run_id in first_slot]
    every = [s.first_point - s.clicked for s in trainees if s.first_point and s.clicked]
    errors = sum(len(s.errors) + len(s.page_errors) + s.exceptions for s in trainees)
    ended = [s for s in trainees if s.end_text.startswith("Finished")]
    print(
        f"\nsessions: {len(trainees)}; runs finished: {len(ended)}; runs in the store: {len(runs)} "
        f"from {len(owners)} users ({shared_owner} users with more than one run)"
    )
    alone = [solo.first_point - solo.clicked] if solo.first_point else []
    print(f"time to first chart point, one run alone before the load: {spread(alone, digits=1)} (target <= 3 s)")
    print(f"time to first chart point, run(s) that found a free slot ({slots}): {spread(first, digits=1)}")
    print(f"time to first chart point, all sessions (queue wait included): {spread(every, digits=1)}")
    print(f"errors (exception boxes + JavaScript errors + failed steps/timeouts): {errors}")
    print(f"cross-talk (another session's run seen, Results not only its own, wrong owner): {crosstalk}")
    print(f"server memory before (warm-up session only): {format_memory(before)}")
    print(f"server memory with {len(trainees)} idle sessions:      {format_memory(idle)}")
    print(f"server memory after all runs (solo included): {format_memory(after)}")
    print(
        f"per idle session: {(idle['total'] - before['total']) / len(trainees):+.1f} MB; "
        f"growth over the whole benchmark: {after['total'] - before['total']:+.1f} MB"
    )


async def class_of(args, server: AppServer) -> None:
    from playwright.async_api import async_playwright

    from bench.class_load import class_bench

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            await class_bench(args, server, browser)
        finally:
            await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--class-size", type=int, default=0, help="a class at once (bench/class_load.py)")
    parser.add_argument("--trainers", type=int, default=2, help="with --class-size: sessions that train")
    parser.add_argument("--class-epochs", type=int, default=6, help="with --class-size: epochs of their runs")
    add_common_options(parser, timeout=1800, run_timeout=900)
    args = parser.parse_args()
    if args.class_size:
        print(f"load_sessions, a class: {args.class_size} sessions, {args.trainers} training; {machine()}")
        with_server(args, "cnn-playground-class-", lambda server: class_of(args, server))
        return

    print(f"load_sessions: {args.sessions} sessions, {args.runner} runner, {args.epochs} epochs; {machine()}")
    with_server(args, "cnn-playground-load-", lambda server: bench(args, server))


if __name__ == "__main__":
    main()
