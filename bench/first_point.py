"""How soon after Train does the first chart point exist? Engine side, without a browser.

For each runner, a RunManager on a fresh store with one training slot (the process runner's worker is
started and ready first, as the app's is before anyone presses Train) trains model1 on Shapes several
times in a row. Printed per run: seconds from ``start()`` to the first per-batch point in the run record
(what the Train page's chart draws; the page polls it once a second on top of this) and to the end.
The first run of a process includes the worker's first-run costs (data set load, Keras' first trace),
unless the worker warmed up when it started (the app's default, core.runs.trainer.warm_up): the
process runner is measured with and without that warm-up, side by side, each on a fresh worker.

    .venv/bin/python -m bench.first_point [--runs 3] [--runner thread|process|both] [--dataset fashion_mnist]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench._common import machine


def measure(runner: str, runs: int, dataset: str, warm_up: bool = True) -> list[tuple[float, float]]:
    from core.data.datasets import load_dataset
    from core.runs.manager import RunManager
    from core.runs.runners import KerasTrainer
    from core.runs.store import RunStore
    from core.training.hyperparams import Hyperparameters
    from core.training.presets import PRESETS

    data = load_dataset(dataset)
    with tempfile.TemporaryDirectory() as home:
        manager = RunManager(
            RunStore(Path(home) / "store"), max_concurrent=1, runner=runner, trainer=KerasTrainer(warm_up=warm_up)
        )
        if runner == "process":
            for worker in manager.runner._workers.values():
                worker.wait_ready()
        spec = PRESETS["model1"].spec(data.input_shape, data.output_units)
        hp = Hyperparameters(epochs=1, batch_size=128, limit_train=1_000, limit_test=100)
        figures = []
        try:
            for _ in range(runs):
                started = time.perf_counter()
                run = manager.start(spec, dataset, hp, owner="bench")
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
    parser.add_argument("--dataset", default="fashion_mnist")
    args = parser.parse_args()
    print(f"first_point: model1 on {args.dataset}, 1 epoch of 1,000 images, batch 128; {machine()}")
    runners = ["process", "process-cold", "thread"] if args.runner == "both" else [args.runner]
    if args.runner == "process":
        runners.append("process-cold")
    for runner in runners:
        figures = measure(runner.removesuffix("-cold"), args.runs, args.dataset, warm_up=not runner.endswith("-cold"))
        firsts = ", ".join(f"{first:.2f}" for first, _ in figures)
        print(
            f"{runner:12} start -> first chart point (s): {firsts}; median {statistics.median(f for f, _ in figures):.2f}"
            f"; later runs median {statistics.median(f for f, _ in figures[1:] or figures):.2f}; "
            f"run ends after median {statistics.median(e for _, e in figures):.2f} s; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
