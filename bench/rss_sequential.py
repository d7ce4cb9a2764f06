"""Server memory over many sequential runs in one browser session: does it keep growing?

One server, one Chromium session: Data → Shapes, Train → a short training, then Train pressed again after
each run ends, 20 times. After each run (and a short pause) the resident memory of the server process is
read from /proc, and, with the process runner, that of each worker process separately (workers are
replaced after CNN_PLAYGROUND_WORKER_MAX_RUNS runs, so their memory drops back then).

    .venv/bin/python -m bench.rss_sequential [--runner thread|process] [--runs 20] [--epochs 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from bench._app import AppServer, Session, add_common_options, format_memory, launch, with_server
from bench._common import machine

SETTLE_SECONDS = 3  # after a run ends: let the server save it and answer the page's last rerun


async def one_run(session: Session, previous: str | None, timeout_s: float) -> tuple[str, str, float]:
    """Press Train, wait for this run's end on the Train page; (run id, how it ended, seconds)."""
    started = time.monotonic()
    run_id = await session.press_train(previous)
    ended = await session.wait_until_ended(run_id, timeout_s)
    return run_id, ended, time.monotonic() - started


def worker_lives(memory: list[dict]) -> dict[int, list[tuple[int, float]]]:
    """Each worker process, in the order they appeared: pid -> (run number, MB) read after each run."""
    lives: dict[int, list[tuple[int, float]]] = {}
    for number, reading in enumerate(memory, 1):
        for pid, (label, mb) in reading["children"].items():
            if label == "worker":
                lives.setdefault(pid, []).append((number, mb))
    return lives


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} s (n={len(values)})" if values else "none"


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
            memory, endings, took, previous = [], [], [], None
            for number in range(1, args.runs + 1):
                previous, ended, seconds = await one_run(session, previous, args.run_timeout)
                await asyncio.sleep(SETTLE_SECONDS)
                memory.append(server.memory())
                endings.append(ended)
                took.append(seconds)
                print(
                    f"run {number:2d} {previous}: {ended} ({seconds:.1f} s from Train); "
                    f"{format_memory(memory[-1])}; load average {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
            errors = session.page_errors
        finally:
            await browser.close()

    first, last = memory[0], memory[-1]
    failed = [i + 1 for i, e in enumerate(endings) if not e.startswith("Finished")]
    print(f"\nruns that did not finish: {failed or 'none'}")
    print(
        f"server process, after run 1 and after run {len(memory)}: {growth(first['server'], last['server'])} "
        f"(target <= +5 %)"
    )
    if len(memory) > 2:
        print(f"server process, after run 2 and after run {len(memory)}: {growth(memory[1]['server'], last['server'])}")
        steps = [b["server"] - a["server"] for a, b in zip(memory[1:], memory[2:])]
        print(f"server process, mean change per run from run 2 on: {sum(steps) / len(steps):+.2f} MB")
    if args.runner == "process":
        report_workers(memory, took, server.env.get("CNN_PLAYGROUND_WORKER_MAX_RUNS", "20 (default)"))
    print(
        f"total (server and its child processes), after run 1 and after run {len(memory)}: "
        f"{growth(first['total'], last['total'])}"
    )
    print(f"JavaScript errors in the page: {len(errors)}{': ' + '; '.join(errors[:3]) if errors else ''}")


def report_workers(memory: list[dict], took: list[float], max_runs: str) -> None:
    """Each worker's memory over the runs it trained. A worker is replaced right after its last run, so the
    reading after that run already shows its successor, which is still starting (importing TensorFlow)."""
    lives = list(worker_lives(memory).items())
    for index, (pid, readings) in enumerate(lives):
        starting = f"; started after run {readings[0][0]} ({readings[0][1]:.0f} MB then)" if index else ""
        trained = readings[1:] if index else readings
        if trained:
            mbs = [mb for _, mb in trained]
            print(
                f"worker {pid}, read after runs {trained[0][0]}–{trained[-1][0]}: {growth(mbs[0], mbs[-1])}, "
                f"highest {max(mbs):.0f} MB{starting}"
            )
        else:
            print(f"worker {pid}{starting}")
    replaced = [readings[0][0] for _, readings in lives[1:]]
    print(f"worker replaced after run(s) {replaced or 'none'} (CNN_PLAYGROUND_WORKER_MAX_RUNS={max_runs})")
    following = [took[n] for n in replaced if n < len(took)]  # took[n] is run n + 1, the one after run n
    others = [t for i, t in enumerate(took[1:], 1) if i not in replaced]
    print(
        f"seconds from Train to the end, the run right after a replacement: "
        f"{', '.join(f'{t:.1f}' for t in following) or 'none'} s, median {median(following)}; "
        f"the other runs from run 2 on: median {median(others)}, max {max(others, default=0):.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    add_common_options(parser, timeout=3600, run_timeout=300)
    args = parser.parse_args()

    print(f"rss_sequential: {args.runs} runs of {args.epochs} epoch(s), {args.runner} runner; {machine()}")
    with_server(args, "cnn-playground-rss-", lambda server: bench(args, server))


if __name__ == "__main__":
    main()
