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
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402  (also puts the repo root on sys.path)
from _app import ENDED, AppServer, Session, format_memory, launch, run_id_in  # noqa: E402

SETTLE_SECONDS = 3  # after a run ends: let the server save it and answer the page's last rerun


async def one_run(session: Session, previous: str | None, timeout_s: float) -> tuple[str, str, float]:
    """Press Train, wait for this run's end on the Train page; (run id, how it ended, seconds)."""
    started = time.monotonic()
    await session.button("train").click()
    await session.page.wait_for_url(lambda url: run_id_in(url) not in (None, previous))
    run_id = run_id_in(session.page.url)
    while True:
        snap = await session.snapshot()
        if snap["exceptions"]:
            raise RuntimeError(f"an exception box on the Train page during run {run_id}")
        match = ENDED.search(snap["text"])
        if f"Run {run_id}:" in snap["text"] and match and snap["settled"]:
            return run_id, match.group(0), time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"run {run_id} did not end within {timeout_s:.0f} s")
        await asyncio.sleep(0.5)


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
                      f"{format_memory(memory[-1])}", flush=True)
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
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runner", choices=["thread", "process"], default="thread")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--worker-max-runs", type=int, default=0,
                        help="CNN_PLAYGROUND_WORKER_MAX_RUNS for the server (0: the app's default, 20)")
    parser.add_argument("--run-timeout", type=float, default=300, help="seconds one run may take")
    parser.add_argument("--timeout", type=float, default=3600, help="the whole benchmark, in seconds")
    args = parser.parse_args()

    print(f"rss_sequential: {args.runs} runs of {args.epochs} epoch(s), {args.runner} runner; {machine()}")
    with tempfile.TemporaryDirectory(prefix="cnn-playground-rss-") as tmp:
        env = {"CNN_PLAYGROUND_WORKER_MAX_RUNS": args.worker_max_runs} if args.worker_max_runs else {}
        server = AppServer(Path(tmp) / "home", Path(tmp) / "server.log", runner=args.runner, **env)
        try:
            server.start()
            print(f"server pid {server.pid} on {server.url}")
            asyncio.run(asyncio.wait_for(bench(args, server), timeout=args.timeout))
        except BaseException:
            print(f"--- server log (tail) ---\n{server.log_tail()}")
            raise
        finally:
            server.stop()


if __name__ == "__main__":
    main()
