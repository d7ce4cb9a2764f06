"""Kill the server with SIGKILL mid-training, restart it: finished runs intact, the interrupted one marked.

One server, one Chromium session (one anonymous user): Data → Shapes, a short run trained to its end,
then a longer run; once it has saved some epochs (and, with --pause-before-kill, once it is paused) the
server process is killed with SIGKILL (kill -9), then started again on the same CNN_PLAYGROUND_HOME. The
killed server's worker processes (process runner) must end by themselves within --orphan-wait seconds. The same browser context (same user cookie) opens the
app again: Results must list both runs, the first finished with the same test accuracy and history, the
second interrupted with the history it had saved. The run store is read directly before and after too.

    .venv/bin/python -m bench.kill_restart [--runner thread|process] [--epochs 2] [--long-epochs 30]
                                          [--pause-before-kill]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path

from bench._app import (
    AppServer,
    Session,
    add_common_options,
    launch,
    process_label,
    run_id_in,
    user_of,
    with_server,
)
from bench._common import machine
from core.runs.store import RunStore
from dashboard.launch import free_port


def facts(store: RunStore, run_id: str) -> dict:
    run = store.load(run_id)
    if run is None:
        return {"status": "missing"}
    return {
        "status": run.status,
        "test_accuracy": run.test_accuracy,
        "epochs": len(run.epoch_history()),
        "batches": len(run.batch_history()),
        "message": run.message,
        "model file": store.model_path(run_id).exists(),
    }


def show(label: str, values: dict) -> None:
    text = ", ".join(f"{k} {v!r}" if isinstance(v, str) else f"{k} {v}" for k, v in values.items())
    print(f"  {label}: {text}")


def group_members(group: int) -> list[int]:
    """Processes still in a process group (e.g. workers left behind by a killed server)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat[2]) == group and stat[0] != "Z":
                members.append(int(entry.name))
    return members


async def wait_for_group_end(group: int, timeout_s: float) -> list[int]:
    """Wait until no process of the group is left, at most timeout_s; those still there."""
    deadline = time.monotonic() + timeout_s
    while (left := group_members(group)) and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
    return left


async def wait_for_epochs(store: RunStore, run_id: str, epochs: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        run = store.load(run_id)
        if run is not None and len(run.epoch_history()) >= epochs:
            return
        if run is not None and not run.active:
            raise RuntimeError(f"run {run_id} ended ({run.status}) before {epochs} epoch(s) were saved")
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} did not save {epochs} epoch(s) in {timeout_s:.0f} s")
        await asyncio.sleep(0.25)


async def bench(args, server: AppServer) -> bool:
    from playwright.async_api import async_playwright

    store = RunStore(server.home)
    ok = True
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            session = await Session("learner").open(browser, server.url)
            user = await user_of(session)
            await session.prepare_shapes_training(args.epochs)

            finished_id = await session.press_train(None)
            await session.wait_until_ended(finished_id, args.run_timeout)
            finished_before = facts(store, finished_id)
            print(f"run 1 {finished_id} trained to its end in the browser")
            show("in the store", finished_before)

            await session.set_number("hp_epochs", args.long_epochs)
            interrupted_id = await session.press_train(finished_id)
            await wait_for_epochs(store, interrupted_id, args.kill_after, args.run_timeout)
            if args.pause_before_kill:
                await session.button("pause").click()
                await session.page.get_by_text(re.compile(r"^Paused in epoch")).wait_for()
            snap = await session.snapshot()
            interrupted_before = facts(store, interrupted_id)
            print(
                f"run 2 {interrupted_id} ({args.long_epochs} epochs) has saved {args.kill_after} epoch(s)"
                f"{' and is paused' if args.pause_before_kill else ''}; "
                f"the page shows {snap['points']} per-batch points"
            )
            show("in the store just before the kill", interrupted_before)

            killed_at = time.monotonic()
            old_group = server.pid
            server.kill9()
            print(f"\nkill -9 {old_group} (the server process)")
            left = await wait_for_group_end(old_group, args.orphan_wait)
            print(
                f"  processes of the killed server still alive {args.orphan_wait:.0f} s later: "
                f"{', '.join(f'{process_label(pid)} {pid}' for pid in left) or 'none'}"
            )
            show("run 2 in the store while the server is down", facts(store, interrupted_id))

            try:
                server.start()
            except RuntimeError:  # the old port is still taken: any port on 127.0.0.1 keeps the cookie
                server.port = free_port()
                server.start()
            print(
                f"server restarted: pid {server.pid} on {server.url}, same home, "
                f"{time.monotonic() - killed_at:.1f} s after the kill"
            )
            show("run 2 in the store before the first page load", facts(store, interrupted_id))

            # The same browser context: a new session of the same browser, found again by its cookie.
            await session.goto_app(server.url)
            same_user = await user_of(session) == user
            print(
                f"\nthe browser opened the restarted app: user id from the cookie "
                f"{'is the same' if same_user else 'CHANGED'}"
            )
            await session.go_to("Results", "Results")
            await session.idle()
            labels = await session.option_labels("results_run")
            print(f"  Results lists {len(labels)} run(s):")
            for label in labels:
                print(f"    {label}")
            interrupted_label = next((lb for lb in labels if "interrupted" in lb), None)
            page_status = "—"
            if interrupted_label is not None:
                await session.choose("results_run", interrupted_label)
                status = session.page.get_by_text(re.compile(r"^Interrupted after \d+ epoch"))
                await status.wait_for()
                page_status = await status.inner_text()
                await session.page.get_by_text("The server stopped while this run was training").wait_for()
                print(f"  the interrupted run on Results: {page_status!r}, with the plain message shown")
            ok &= same_user and len(labels) == 2 and interrupted_label is not None
            ok &= sum("finished" in lb for lb in labels) == 1
            ok &= run_id_in(session.page.url) == interrupted_id
            snap = await session.snapshot()
            ok &= snap["exceptions"] == 0 and not session.page_errors
            if snap["exceptions"] or session.page_errors:
                print(f"  exception boxes {snap['exceptions']}, JavaScript errors {session.page_errors}")
        finally:
            await browser.close()

    finished_after = facts(store, finished_id)
    interrupted_after = facts(store, interrupted_id)
    print("\nthe run store after the restart (core.runs.store.RunStore(home)):")
    show(f"run 1 {finished_id}", finished_after)
    show(f"run 2 {interrupted_id}", interrupted_after)
    intact = finished_after == finished_before and finished_after["status"] == "finished"
    marked = interrupted_after["status"] == "interrupted"
    kept = (
        interrupted_after.get("epochs", 0) >= interrupted_before["epochs"]
        and interrupted_after.get("batches", 0) >= interrupted_before["batches"]
    )
    owners = {r.owner for r in store.list()}
    print(f"\nfinished run intact (status, test accuracy, epochs, batches, model file): {'yes' if intact else 'NO'}")
    print(
        f"interrupted run marked 'interrupted': {'yes' if marked else 'NO'}; history kept "
        f"({interrupted_before['epochs']} epochs / {interrupted_before['batches']} batches saved before the "
        f"kill, {interrupted_after.get('epochs')} / {interrupted_after.get('batches')} after): "
        f"{'yes' if kept else 'NO'}"
    )
    print(f"both runs belong to the browser's user: {'yes' if owners == {user} else 'NO: ' + str(owners)}")
    print(
        f"no process of the killed server left after {args.orphan_wait:.0f} s: {'NO: ' + str(left) if left else 'yes'}"
    )
    print(f"the browser's Results page after the restart as expected: {'yes' if ok else 'NO'}")
    return ok and intact and marked and kept and owners == {user} and not left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--long-epochs", type=int, default=30, help="epochs of the run that is interrupted")
    parser.add_argument("--kill-after", type=int, default=2, help="saved epochs of run 2 before the kill")
    parser.add_argument("--pause-before-kill", action="store_true", help="press Pause on run 2 before the kill")
    parser.add_argument(
        "--orphan-wait",
        type=float,
        default=10,
        help="seconds the killed server's worker processes get to end by themselves",
    )
    add_common_options(parser, timeout=1200, run_timeout=300)
    args = parser.parse_args()

    print(f"kill_restart: {args.runner} runner; {machine()}")
    ok = with_server(args, "cnn-playground-kill-", lambda server: bench(args, server))
    print(f"\nresult: {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
