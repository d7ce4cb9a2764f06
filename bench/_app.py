"""Shared by the browser benchmarks: the app served in the background (`dashboard.launch.AppServer`, shared
with the browser tests: a free loopback port, its own process session, so stopping it ends the server and the
worker processes it spawned, and nothing else), its memory from /proc, and Playwright (async API) helpers for
Debian's headless Chromium."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import dashboard.launch

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHAPES = "Shapes (synthetic)"
UI_MS = 60_000  # one rerun on a slow, busy 2-core machine with several browsers open
FIRST_LOAD_MS = 180_000  # the first page load imports TensorFlow in the server
ENDED = re.compile(r"(Finished|Stopped|Failed|Interrupted) after \d+ epoch")
RUN_ID = re.compile(r"\b[0-9a-f]{12}\b")  # core.runs.record.new_run_id(): 6 random bytes in hex


# --- memory from /proc ---------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident set size of one process in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    """All processes below pid (children, their children, ...), from /proc/*/stat."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the name in (...) may contain spaces
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def process_label(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return "gone"
    if "resource_tracker" in cmd:
        return "resource tracker"
    if "multiprocessing" in cmd or "spawn_main" in cmd:
        return "worker"
    return cmd.split(" ")[0].rsplit("/", 1)[-1] or "exited"  # a zombie has no command line


# --- the server ----------------------------------------------------------------------------------


class AppServer(dashboard.launch.AppServer):
    """`dashboard.launch.AppServer` (the one the browser tests use) with the server's runner as an argument
    (``CNN_PLAYGROUND_RUNNER``), other settings as environment variables, and its processes' memory."""

    def __init__(self, home: Path, log: Path, runner: str = "thread", port: int | None = None, **env):
        super().__init__(home, log, port=port, CNN_PLAYGROUND_RUNNER=runner, **env)
        self.runner = runner

    def memory(self) -> dict:
        """RSS in MB: the server process, each process below it (worker processes), and the total."""
        children = {pid: (process_label(pid), rss_mb(pid)) for pid in descendants(self.pid)}
        server = rss_mb(self.pid)
        return {"server": server, "children": children, "total": server + sum(mb for _, mb in children.values())}


# the server's settings a benchmark may change: option -> environment variable (0: the app's default)
SERVER_SETTINGS = {"max_trainings": "CNN_PLAYGROUND_MAX_TRAININGS", "worker_max_runs": "CNN_PLAYGROUND_WORKER_MAX_RUNS"}


def add_common_options(parser, timeout: float, run_timeout: float) -> None:
    """The options of every browser benchmark: the short runs, the server's runner and settings, limits."""
    parser.add_argument("--epochs", type=int, default=2, help="epochs of a short run (set on the Train page)")
    parser.add_argument(
        "--run-timeout",
        type=float,
        default=run_timeout,
        help="seconds one session waits from Train to its run's end (queue wait included)",
    )
    parser.add_argument(
        "--runner",
        choices=["thread", "process"],
        default="process",
        help="the server's CNN_PLAYGROUND_RUNNER (the app's default: process)",
    )
    parser.add_argument(
        "--max-trainings",
        type=int,
        default=0,
        help="CNN_PLAYGROUND_MAX_TRAININGS, trainings at once (0: the app's default)",
    )
    parser.add_argument(
        "--worker-max-runs",
        type=int,
        default=0,
        help="CNN_PLAYGROUND_WORKER_MAX_RUNS, runs per worker process (0: the app's default, 20)",
    )
    parser.add_argument("--timeout", type=float, default=timeout, help="the whole benchmark, in seconds")


def with_server(args, prefix: str, bench):
    """Start the app on a fresh temporary home with the runner and settings in args, run the coroutine
    bench(server) within args.timeout, and stop the server whatever happens (its log's tail is printed
    when something failed); bench's result."""
    env = {variable: getattr(args, option) for option, variable in SERVER_SETTINGS.items() if getattr(args, option)}
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server = AppServer(Path(tmp) / "home", Path(tmp) / "server.log", runner=args.runner, **env)
        try:
            server.start()
            print(
                f"server pid {server.pid} on {server.url}, home {server.home}"
                + "".join(f", {variable}={value}" for variable, value in env.items())
            )
            result = asyncio.run(asyncio.wait_for(bench(server), timeout=args.timeout))
            print(f"load average at the end: {os.getloadavg()[0]:.2f}")
            return result
        except BaseException:
            print(f"--- server log (tail) ---\n{server.log_tail()}")
            raise
        finally:
            server.stop()


def format_memory(memory: dict) -> str:
    parts = [f"server {memory['server']:.0f} MB"]
    parts += [f"{label} {pid} {mb:.0f} MB" for pid, (label, mb) in sorted(memory["children"].items())]
    return ", ".join(parts) + f"; total {memory['total']:.0f} MB"


# --- the browser (Playwright, async) -------------------------------------------------------------


async def launch(playwright):
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class Session:
    """One anonymous user: a browser context (its own cookie jar) with one tab."""

    def __init__(self, name: str):
        self.name = name
        self.context = None
        self.page = None
        self.page_errors: list[str] = []

    async def open(self, browser, url: str) -> Session:
        self.context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(UI_MS)
        self.page = await self.context.new_page()
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        await self.goto_app(url)
        return self

    async def goto_app(self, url: str) -> None:
        await self.page.goto(url + "/", timeout=FIRST_LOAD_MS)
        await self.page.get_by_text("Total params:").first.wait_for(timeout=FIRST_LOAD_MS)

    async def close(self) -> None:
        if self.context is not None:
            await self.context.close()

    def button(self, key: str):
        """The app's own button (Streamlit 1.67 draws a second, hidden copy of each)."""
        return self.page.locator(f".st-key-{key} button:visible")

    async def idle(self, timeout: int = UI_MS) -> None:
        """No script run in progress (Streamlit sets this attribute on its root)."""
        await self.page.wait_for_function(
            "() => document.querySelector('.stApp')?.getAttribute('data-test-script-state') === 'notRunning'",
            timeout=timeout,
            polling=200,
        )

    async def go_to(self, link: str, title: str) -> None:
        await self.page.locator('[data-testid="stSidebarNav"] a', has_text=link).click()
        await self.page.get_by_role("heading", name=title, exact=True).wait_for()

    async def choose(self, key: str, option: str) -> None:
        box = self.page.locator(f".st-key-{key} input[role=combobox]")
        await box.click()
        await self.page.get_by_role("option", name=option, exact=True).click()
        await self.page.wait_for_function(
            "([key, option]) => document.querySelector(`.st-key-${key} input[role=combobox]`)?.value === option",
            arg=[key, option],
            polling=200,
        )

    async def set_number(self, key: str, value: int) -> None:
        box = self.page.locator(f".st-key-{key} input")
        await box.fill(str(value))
        await box.press("Enter")
        await self.idle()

    async def option_labels(self, key: str) -> list[str]:
        """The options of a selectbox, read by opening it."""
        await self.page.locator(f".st-key-{key} input[role=combobox]").click()
        options = self.page.get_by_role("option")
        await options.first.wait_for()
        labels = [text.strip() for text in await options.all_inner_texts()]
        await self.page.keyboard.press("Escape")
        return labels

    async def prepare_shapes_training(self, epochs: int) -> None:
        """Data: Shapes; Train: the number of epochs. The Train button is then ready to press."""
        await self.go_to("Data", "Look at the data")
        await self.choose("dataset_choice", SHAPES)
        await self.idle()
        await self.go_to("Train", "Train")
        await self.set_number("hp_epochs", epochs)
        await self.page.wait_for_function(
            f"() => document.querySelector('.st-key-hp_epochs input')?.value === '{epochs}'", polling=200
        )

    async def snapshot(self) -> dict:
        """What the page shows now: per-batch chart points, exception boxes, text, URL."""
        return await self.page.evaluate(SNAPSHOT_JS)

    async def press_train(self, previous: str | None, timeout: int = UI_MS) -> str:
        """Press Train; the new run's id, once the URL carries it."""
        await self.button("train").click()
        await self.page.wait_for_url(lambda url: run_id_in(url) not in (None, previous), timeout=timeout)
        return run_id_in(self.page.url)

    async def wait_until_ended(self, run_id: str, timeout_s: float) -> str:
        """Poll until the Train page says this run ended; how it ended ("Finished after 2 epochs")."""
        deadline = time.monotonic() + timeout_s
        while True:
            snap = await self.snapshot()
            if snap["exceptions"]:
                raise RuntimeError(f"{self.name}: an exception box on the page during run {run_id}")
            ended = ENDED.search(snap["text"])
            if f"Run {run_id}:" in snap["text"] and ended and snap["settled"]:
                return ended.group(0)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: run {run_id} did not end in {timeout_s:.0f} s")
            await asyncio.sleep(0.5)


SNAPSHOT_JS = """() => {
    let points = 0;
    for (const plot of document.querySelectorAll('.js-plotly-plot'))
        for (const trace of plot.data || [])
            if ((trace.name || '').includes('per batch') && Array.isArray(trace.x)) points = trace.x.length;
    return {points, exceptions: document.querySelectorAll('[data-testid=stException]').length,
            text: document.body.innerText, url: location.href,
            // While a script runs, Streamlit keeps the previous run's elements on the page (stale).
            settled: document.querySelector('.stApp')?.getAttribute('data-test-script-state') === 'notRunning'};
}"""


def run_id_in(url: str) -> str | None:
    return parse_qs(urlparse(url).query).get("run", [None])[0]


USER_COOKIE = "cnn_playground_user"


async def user_of(session) -> str | None:
    """The session's anonymous user id: its browser's cookie (the app never puts it in the URL)."""
    cookies = await session.context.cookies()
    return next((c["value"] for c in cookies if c["name"] == USER_COOKIE), None)
