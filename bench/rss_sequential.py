"""Server memory over many sequential runs in one browser session: does it keep growing?

One server, one Chromium session: Data → Shapes, Train → a short training, then Train pressed again after
each run ends, 20 times. After each run (and a short pause) the resident memory of the server process is
read from /proc, and, with the process runner, that of each worker process separately (workers are
replaced after CNN_PLAYGROUND_WORKER_MAX_RUNS runs, so their memory drops back then).

    .venv/bin/python bench/rss_sequential.py [--runner thread|process] [--runs 20] [--epochs 2]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402  (also puts the repo root on sys.path)
from _app import AppServer, Session, add_common_options, format_memory, launch, with_server  # noqa: E402

SETTLE_SECONDS = 3  # after a run ends: let the server save it and answer the page's last rerun


async def one_run(session: Session, previous: str | None, timeout_s: float) -> tuple[str, str, float]:
    """Press Train, wait for this run's end on the Train page; (run id, how it ended, seconds)."""
    started = time.monotonic()
    run_id = await session.press_train(previous)
    ended = await session.wait_until_ended(run_id, timeout_s)
    return run_id, ended, time.monotonic() - started


def workers_mb(memory: dict) -> float:
    return sum(mb for label, mb in memory["children"].values() if label == "worker")


def growth(first: float, last: float) -> str:
    percent = f"{100 * (last - first) / first:+.1f} %" if first else "no base"
    return f"{first:.0f} MB -> {last:.0f} MB: {last - first:+.1f} MB ({percent})"


async def bench(args, server: AppServer) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            session = await Session("one").open(browser, server.url)
            await session.prepare_shapes_training(args.epochs)
            await asyncio.sleep(SETTLE_SECONDS)
            before = server.memory()
            print(f"before the first run: {format_memory(before)}")
            memory, endings, previous = [], [], None
            for number in range(1, args.runs + 1):
                previous, ended, took = await one_run(session, previous, args.run_timeout)
                await asyncio.sleep(SETTLE_SECONDS)
                memory.append(server.memory())
                endings.append(ended)
                print(f"run {number:2d} {previous}: {ended} ({took:.1f} s from Train); "
                      f"{format_memory(memory[-1])}; load average {os.getloadavg()[0]:.2f}", flush=True)
            errors = session.page_errors
        finally:
            await browser.close()

    first, last = memory[0], memory[-1]
    failed = [i + 1 for i, e in enumerate(endings) if not e.startswith("Finished")]
    print(f"\nruns that did not finish: {failed or 'none'}")
    print(f"server process, after run 1 and after run {len(memory)}: {growth(first['server'], last['server'])} "
          f"(target <= +5 %)")
    if len(memory) > 2:
        print(f"server process, after run 2 and after run {len(memory)}: {growth(memory[1]['server'], last['server'])}")
        steps = [b["server"] - a["server"] for a, b in zip(memory[1:], memory[2:])]
        print(f"server process, mean change per run from run 2 on: {sum(steps) / len(steps):+.2f} MB")
    if args.runner == "process":
        print(f"worker processes, after run 1 and after run {len(memory)}: "
              f"{growth(workers_mb(first), workers_mb(last))}")
        pids = [sorted(pid for pid, (label, _) in m["children"].items() if label == "worker") for m in memory]
        changes = [i + 1 for i in range(1, len(pids)) if pids[i] != pids[i - 1]]
        print(f"worker pids changed after run(s) {changes or 'none'} "
              f"(CNN_PLAYGROUND_WORKER_MAX_RUNS={server.env.get('CNN_PLAYGROUND_WORKER_MAX_RUNS', '20 (default)')})")
    print(f"total (server and its child processes), after run 1 and after run {len(memory)}: "
          f"{growth(first['total'], last['total'])}")
    print(f"JavaScript errors in the page: {len(errors)}{': ' + '; '.join(errors[:3]) if errors else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    add_common_options(parser, timeout=3600, run_timeout=300)
    args = parser.parse_args()

    print(f"rss_sequential: {args.runs} runs of {args.epochs} epoch(s), {args.runner} runner; {machine()}")
    with_server(args, "cnn-playground-rss-", lambda server: bench(args, server))


if __name__ == "__main__":
    main()
