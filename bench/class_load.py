"""A class at once: N browser sessions on the Train page, K of them training, the others watching a finished
run of their own; the live phase measured while the K runs train.

Used by bench/load_sessions.py's `--class-size N` (see there). Measured side by side in the one live phase:

- each training page's chart: the seconds between one change of its per-batch line and the next (target:
  at most 2 s), from its first point to the run's end;
- the server's health answer (`/_stcore/health`, polled every 0.5 s; target: within 1 s);
- what each page received over its websocket (frames and bytes per second: the reruns' deltas, the
  Plotly figures), training pages apart from watching ones;
- the CPU seconds of the server process and of its worker processes during the phase (where the time goes);
- memory per idle session (target: at most 30 MB).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import urllib.request

from bench._app import ENDED, AppServer, Session, format_memory, run_id_in, user_of
from bench.stats import spread
from core.runs.record import Run, Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

SETTLE_SECONDS = 5
# The last x of the per-batch line and whether the page shows a run that ended: a changed x is a refresh.
CHART_JS = """() => {
    let last = null;
    for (const plot of document.querySelectorAll('.js-plotly-plot'))
        for (const trace of plot.data || [])
            if ((trace.name || '').includes('per batch') && Array.isArray(trace.x) && trace.x.length)
                last = trace.x[trace.x.length - 1];
    return {last, text: document.body.innerText.slice(0, 4000),
            exceptions: document.querySelectorAll('[data-testid=stException]').length};
}"""


class ClassSession(Session):
    """A session that counts what its page receives over the websocket."""

    def __init__(self, name: str):
        super().__init__(name)
        self.frames = 0
        self.bytes = 0
        self.run_id: str | None = None
        self.refreshes: list[float] = []  # times the per-batch line changed
        self.ended_at: float | None = None
        self.exceptions = 0

    async def open(self, browser, url: str) -> ClassSession:
        self.context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(120_000)
        self.page = await self.context.new_page()
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("websocket", self._watch)
        await self.goto_app(url)
        return self

    def _watch(self, socket) -> None:
        def received(payload) -> None:
            self.frames += 1
            self.bytes += len(payload)

        socket.on("framereceived", received)

    def counters(self) -> tuple[int, int]:
        return self.frames, self.bytes


def finished_run(owner: str, epochs: int = 5, batches: int = 60) -> Run:
    """A finished run of model 1 on Shapes with a realistic history (what a watching learner looks at)."""
    run = Run(PRESETS["model1"].spec(num_classes=5), "shapes", Hyperparameters(epochs=epochs), owner=owner, name="done")
    run.begin(batches)
    for epoch in range(epochs):
        for batch in range(batches):
            run.record_batch(epoch, batch, loss=1.5 / (1 + epoch + batch / batches), accuracy=0.5 + 0.08 * epoch)
        run.record_epoch(
            {"epoch": epoch + 1, "loss": 1.0, "accuracy": 0.8, "val_loss": 1.1, "val_accuracy": 0.78, "seconds": 2.0}
        )
    run.finish(Status.FINISHED, "", {"test_accuracy": 0.8, "test_loss": 0.6, "train_seconds": 10.0})
    return run


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (/proc/PID/stat)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu(server: AppServer) -> float:
    from bench._app import descendants

    return sum(cpu_seconds(pid) for pid in descendants(server.pid))


async def probe_health(url: str, stop: asyncio.Event, answers: list[float]) -> None:
    def once() -> float:
        began = time.monotonic()
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=30) as reply:
                reply.read()
        except OSError:
            return float("inf")
        return time.monotonic() - began

    while not stop.is_set():
        answers.append(await asyncio.to_thread(once))
        await asyncio.sleep(0.5)


async def follow_chart(session: ClassSession, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        snap = await session.page.evaluate(CHART_JS)
        now = time.monotonic()
        session.exceptions = max(session.exceptions, snap["exceptions"])
        if snap["last"] is not None and snap["last"] != last:
            session.refreshes.append(now)
            last = snap["last"]
        if ENDED.search(snap["text"]) and session.refreshes:
            session.ended_at = now
            return
        await asyncio.sleep(0.2)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])]


def summary(values: list[float], unit: str = "s") -> str:
    """The spread of the finite values; an infinite one is a measurement that did not finish."""
    finite = [v for v in values if v != float("inf")]
    return spread(finite, unit, failed=len(values) - len(finite))


async def class_bench(args, server: AppServer, browser) -> None:
    n, k = args.class_size, args.trainers
    t = time.monotonic()
    warm = await ClassSession("warm-up").open(browser, server.url)
    print(f"warm-up session: first page load {time.monotonic() - t:.1f} s", flush=True)
    await warm.go_to("Train", "Train")  # the Train page's modules imported before the baseline
    await asyncio.sleep(SETTLE_SECONDS)
    before = server.memory()

    sessions = [ClassSession(f"c{i + 1:02d}") for i in range(n)]
    health: list[float] = []
    stop = asyncio.Event()
    prober = asyncio.create_task(probe_health(server.url, stop, health))
    t = time.monotonic()
    for start in range(0, n, 10):  # ten at a time: a class arrives over a few seconds, not in one instant
        await asyncio.gather(*(s.open(browser, server.url) for s in sessions[start : start + 10]))
    opened = time.monotonic() - t
    stop.set()
    await prober
    print(f"{n} sessions opened in {opened:.1f} s; health while opening: {summary(health)}", flush=True)
    await asyncio.sleep(SETTLE_SECONDS)
    idle = server.memory()
    # Sessions live in the server process; the worker processes only train (and warm up when they start).
    per_session = (idle["server"] - before["server"]) / n
    print(
        f"memory: {format_memory(idle)}; server process {per_session:+.1f} MB per idle session (target <= 30 MB)",
        flush=True,
    )

    trainers, watchers = sessions[:k], sessions[k:]
    store = RunStore(server.home)
    for s in watchers:  # each watcher looks at a finished run of its own on Train
        run = finished_run(await user_of(s))
        store.save(run)
        s.run_id = run.id
    await asyncio.gather(*(s.page.goto(f"{server.url}/train?run={s.run_id}") for s in watchers))
    await asyncio.gather(*(s.page.get_by_text(f"Run {s.run_id}:").first.wait_for() for s in watchers))
    await asyncio.gather(*(s.prepare_shapes_training(args.class_epochs) for s in trainers))
    print(f"{len(watchers)} sessions watch a finished run on Train; {k} press Train", flush=True)

    health = []
    stop = asyncio.Event()
    counts_before = {s.name: s.counters() for s in sessions}
    server_cpu, workers_cpu = cpu_seconds(server.pid), children_cpu(server)
    began = time.monotonic()
    prober = asyncio.create_task(probe_health(server.url, stop, health))
    for s in trainers:
        await s.button("train").click()
    await asyncio.gather(*(s.page.wait_for_url(lambda url: run_id_in(url) is not None) for s in trainers))
    for s in trainers:
        s.run_id = run_id_in(s.page.url)
    await asyncio.gather(*(follow_chart(s, args.run_timeout) for s in trainers))
    live = time.monotonic() - began
    stop.set()
    await prober
    server_cpu, workers_cpu = cpu_seconds(server.pid) - server_cpu, children_cpu(server) - workers_cpu
    after = server.memory()

    print(f"\nlive phase: {live:.1f} s, {k} runs of {args.class_epochs} epochs; load {os.getloadavg()[0]:.2f}")
    for s in trainers:
        refresh_gaps = gaps(s.refreshes)
        print(
            f"  {s.name} (training): {len(s.refreshes)} chart refreshes, gap {summary(refresh_gaps)}; "
            f"first point {s.refreshes[0] - began if s.refreshes else float('nan'):.1f} s after the clicks"
        )
    every_gap = [g for s in trainers for g in gaps(s.refreshes)]
    print(f"chart refresh of the training pages: {summary(every_gap)} (target: every gap <= 2 s)")
    print(f"server health during the live phase: {summary(health)} (target <= 1 s)")

    def rates(group):
        frames = [(s.frames - counts_before[s.name][0]) / live for s in group]
        kilobytes = [(s.bytes - counts_before[s.name][1]) / live / 1024 for s in group]
        return statistics.mean(frames), statistics.mean(kilobytes)

    for label, group in (("training pages", trainers), ("watching pages", watchers)):
        frames, kb = rates(group)
        print(f"websocket to {label}: {frames:.2f} frames/s, {kb:.1f} KB/s per page")
    print(
        f"CPU during the live phase: server process {server_cpu:.1f} s ({100 * server_cpu / live:.0f} % of one "
        f"core), worker processes {workers_cpu:.1f} s ({100 * workers_cpu / live:.0f} %)"
    )
    errors = sum(len(s.page_errors) + s.exceptions for s in sessions)
    print(f"errors (JavaScript errors + exception boxes): {errors}")
    print(f"memory after the live phase: {format_memory(after)}")
    await warm.close()
