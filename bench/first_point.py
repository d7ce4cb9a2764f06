"""How soon after Train does the first chart point exist? Engine side, without a browser.

For each runner, a RunManager on a fresh store with one training slot (the process runner's worker is
started and ready first, as the app's is before anyone presses Train) trains model1 on Shapes several
times in a row. Printed per run: seconds from ``start()`` to the first per-batch point in the run record
(what the Train page's chart draws; the page polls it once a second on top of this) and to the end.
The first run of a process includes the worker's first-run costs (data set load, Keras' first trace).

    .venv/bin/python bench/first_point.py [--runs 3] [--runner thread|process|both]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import machine


def measure(runner: str, runs: int) -> list[tuple[float, float]]:
    from core.runs.manager import RunManager
    from core.runs.store import RunStore
    from core.training.hyperparams import Hyperparameters
    from core.training.presets import PRESETS

    with tempfile.TemporaryDirectory() as home:
        manager = RunManager(RunStore(Path(home) / "store"), max_concurrent=1, runner=runner)
        if runner == "process":
            for worker in manager.runner._workers.values():
                worker.wait_ready()
        spec = PRESETS["model1"].spec((28, 28, 1), 5)
        hp = Hyperparameters(epochs=1, batch_size=64, limit_train=1_000, limit_test=100)
        figures = []
        try:
            for _ in range(runs):
                started = time.perf_counter()
                run = manager.start(spec, "shapes", hp, owner="bench")
                while not run.batch_history() and not run.wait(0):
                    time.sleep(0.005)
                first = time.perf_counter() - started
                run.wait()
                figures.append((first, time.perf_counter() - started))
        finally:
            if runner == "process":
                manager.runner.shutdown()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--runner", choices=["thread", "process", "both"], default="both")
    args = parser.parse_args()
    print(f"first_point: model1 on Shapes, 1 epoch of 1,000 images; {machine()}")
    runners = ["process", "thread"] if args.runner == "both" else [args.runner]
    for runner in runners:
        figures = measure(runner, args.runs)
        firsts = ", ".join(f"{first:.2f}" for first, _ in figures)
        print(
            f"{runner:8} start -> first chart point (s): {firsts}; median {statistics.median(f for f, _ in figures):.2f}"
            f"; later runs median {statistics.median(f for f, _ in figures[1:] or figures):.2f}; "
            f"run ends after median {statistics.median(e for _, e in figures):.2f} s"
        )


if __name__ == "__main__":
    main()
