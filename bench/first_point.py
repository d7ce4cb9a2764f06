"""How soon after Train does the first chart point exist? Engine side, without a browser.

For each runner, a RunManager on a fresh store with one training slot (the process runner's worker is
started and ready first, as the app's is before anyone presses Train) trains model1 on Shapes several
times in a row. Printed per run: seconds from ``start()`` to the first per-batch point in the run record
(what the Train page's chart draws; the page polls it once a second on top of this) and to the end.
The first run of a process includes the worker's first-run costs (data set load, Keras' first trace),
unless the worker warmed up when it started (the app's default, core.runs.trainer.warm_up): the
process runner is measured with and without that warm-up, side by side, each on a fresh worker.

With ``--app-default`` each run is the app's default model and settings (what a new learner trains
first, which a worker prepares ahead: core.runs.trainer.prepare_ahead), stopped at its first point.
With ``--limit 0`` each run trains on the whole data set (the browser's case: the Train page's default);
with ``--baseline REF`` the engine at that git commit (a temporary worktree) is measured first, in the same
run, by this same script.

    .venv/bin/python -m bench.first_point [--runs 3] [--runner thread|process|both] [--dataset fashion_mnist]
        [--limit 1000] [--app-default] [--baseline REF]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import ROOT, machine

if "--root" in sys.argv:  # the engine of another checkout (a --baseline's worktree): imported first
    sys.path.insert(0, sys.argv[sys.argv.index("--root") + 1])

parts: list[tuple[float, float, float]] = []  # the last measure's runs: (to begin, fit set-up, first batch)


def measure(
    runner: str, runs: int, dataset: str, warm_up: bool = True, limit: int | None = 1_000, app_default: bool = False
) -> list[tuple[float, float]]:
    from core.data.datasets import load_dataset
    from core.runs.manager import RunManager
    from core.runs.runners import KerasTrainer
    from core.runs.store import RunStore
    from core.training.hyperparams import Hyperparameters
    from core.training.presets import DEFAULT_PRESET, PRESETS, defaults_for

    data = load_dataset(dataset)
    with tempfile.TemporaryDirectory() as home:
        manager = RunManager(
            RunStore(Path(home) / "store"), max_concurrent=1, runner=runner, trainer=KerasTrainer(warm_up=warm_up)
        )
        if runner == "process":
            for worker in manager.runner._workers.values():
                worker.wait_ready()
        spec = PRESETS["model1"].spec(data.input_shape, data.output_units)
        hp = Hyperparameters(epochs=1, batch_size=128, limit_train=limit, limit_test=100)
        if app_default:  # what a new learner trains first: the app's default model and settings
            hp = defaults_for(PRESETS[DEFAULT_PRESET], len(data.x_train))
            spec = PRESETS[DEFAULT_PRESET].spec(data.input_shape, data.output_units)
        figures = []
        parts.clear()
        try:
            for _ in range(runs):
                started, wall = time.perf_counter(), time.time()
                run = manager.start(spec, dataset, hp, owner="bench")
                while not run.batch_history() and not run.wait(0):
                    time.sleep(0.005)
                first = time.perf_counter() - started
                if app_default:
                    run.request_stop()  # its whole 8 epochs are not what is measured
                run.wait()
                figures.append((first, time.perf_counter() - started))
                # Where the time went: start -> the run's begin (hand-off, model built and compiled), then
                # fit's set-up, then the first batch (its step traced) up to its point.
                first_batch = (run.epoch_history() or [{}])[0].get("first_batch_seconds")
                if run.started is not None and first_batch is not None:
                    built = run.started - wall
                    parts.append((built, first - built - first_batch, first_batch))
        finally:
            if runner == "process":
                manager.runner.shutdown()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--runner", choices=["thread", "process", "both"], default="both")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--limit", type=int, default=1_000, help="training images per run (0: the whole data set)")
    parser.add_argument(
        "--app-default", action="store_true", help="the app's default model and settings, stopped at the first point"
    )
    parser.add_argument("--baseline", help="a git ref: measure the engine at that commit first, in the same run")
    parser.add_argument("--root", help=argparse.SUPPRESS)  # set by --baseline: whose core/ is measured
    args = parser.parse_args()
    if args.baseline:
        measure_baseline(args.baseline)
    images = f"{args.limit:,} images" if args.limit else "the whole training set"
    if args.app_default:
        images = "the app's default settings (stopped at the first point)"
    import core

    engine = f"the engine of {Path(core.__file__).parent.parent}" + (
        f" ({args.baseline} first)" if args.baseline else ""
    )
    print(f"first_point: {engine}, model1 on {args.dataset}, 1 epoch of {images}, batch 128; {machine()}")
    runners = ["process", "process-cold", "thread"] if args.runner == "both" else [args.runner]
    if args.runner == "process":
        runners.append("process-cold")
    for runner in runners:
        figures = measure(
            runner.removesuffix("-cold"),
            args.runs,
            args.dataset,
            warm_up=not runner.endswith("-cold"),
            limit=args.limit or None,
            app_default=args.app_default,
        )
        firsts = ", ".join(f"{first:.2f}" for first, _ in figures)
        print(
            f"{runner:12} start -> first chart point (s): {firsts}; median {statistics.median(f for f, _ in figures):.2f}"
            f"; later runs median {statistics.median(f for f, _ in figures[1:] or figures):.2f}; "
            f"run ends after median {statistics.median(e for _, e in figures):.2f} s; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if parts:
            medians = [statistics.median(p[i] for p in parts) for i in range(3)]
            print(
                f"{'':12} of which (medians): hand-off and model built {medians[0]:.2f} s, fit's set-up "
                f"{medians[1]:.2f} s, first batch (its step traced) {medians[2]:.2f} s",
                flush=True,
            )


def measure_baseline(ref: str) -> None:
    """This script's measures, with the flags it was given, of the engine at ``ref`` (a temporary worktree)."""
    argv = sys.argv[1:]
    at = argv.index("--baseline")
    del argv[at : at + 2]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(folder), ref], cwd=ROOT, check=True, capture_output=True
        )
        try:
            command = [sys.executable, "-m", "bench.first_point", *argv, "--root", str(folder)]
            subprocess.run(command, cwd=ROOT, check=True)  # this bench, that engine
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, capture_output=True)


if __name__ == "__main__":
    main()
