"""A 3×2 experiment of model-1 variants on 12,000 Fashion-MNIST images: wall time against the sum of the
runs' own training times, and the estimate shown before the start against the real total.

The experiment goes through the same engine as the app and the CLI (core.experiments: plan, estimate,
start through a RunManager, wait). With a fresh store (the default) one calibration run of model 1 (1
epoch on the same images) is trained first, so the estimate has a past run to measure from, as it would
on a server that has been used; ``--home DIR`` uses an existing store's runs instead.

    .venv/bin/python -m bench.experiment [--epochs 2] [--limit-train 12000] [--slots K] [--home DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from bench import _common  # noqa: F401  (quiet TensorFlow, offline)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit-train", type=int, default=12_000)
    parser.add_argument("--slots", type=int, default=0, help="trainings at once (default: the app's, one per 2 cores)")
    parser.add_argument("--home", help="an existing run store to estimate from (default: a fresh one + calibration)")
    args = parser.parse_args()

    from core.data.datasets import load_dataset
    from core.experiments.engine import start_experiment, wait_for_experiment
    from core.experiments.estimate import estimate_plan, measured_speeds
    from core.experiments.factors import parse_factor
    from core.experiments.plan import manager_check, plan_experiment
    from core.runs.manager import RunManager
    from core.runs.store import RunStore
    from core.timing import format_duration
    from core.training.hyperparams import Hyperparameters
    from core.training.presets import PRESETS

    print(_common.machine())
    data = load_dataset("fashion_mnist")
    preset = PRESETS["model1"]
    spec = preset.spec()
    hp = Hyperparameters.from_dict(
        {**preset.app_hyperparameters.to_dict(), "epochs": args.epochs, "limit_train": args.limit_train}
    )
    home = args.home or tempfile.mkdtemp(prefix="bench-experiment-")
    manager = RunManager(RunStore(home), max_concurrent=args.slots or None)
    print(f"store {home}; {manager.runner.slots} training slot(s); {args.limit_train:,} images, {args.epochs} epoch(s)")

    if not args.home:
        began = time.perf_counter()
        calibration = manager.start(
            spec, "fashion_mnist", Hyperparameters.from_dict({**hp.to_dict(), "epochs": 1}), owner="bench"
        )
        calibration.wait()
        print(f"calibration run: {calibration.status}, {time.perf_counter() - began:.1f} s")

    factors = [parse_factor("layer3.filters=16,32,64", spec), parse_factor("optimizer=adam,sgd", spec)]
    plan = plan_experiment(spec, hp, "fashion_mnist", factors, check=manager_check(manager, "fashion_mnist"))
    size = len(data.x_train)
    speeds = measured_speeds(manager.store, "fashion_mnist", size)
    estimate = estimate_plan(plan.runnable, size, speeds, manager.runner.slots)
    print(f"{len(plan.runnable)} runs; estimate: " + (estimate.text() if estimate else "none (no past runs)"))

    began = time.perf_counter()
    experiment = start_experiment(
        manager, plan, owner="bench", estimate_seconds=estimate.wall_seconds if estimate else None
    )
    table = wait_for_experiment(manager, experiment)
    wall = time.perf_counter() - began

    print()
    print(
        table[
            ["variant", "layer3.filters", "optimizer", "params", "status", "test_accuracy", "train_seconds"]
        ].to_string(index=False)
    )
    own = table["train_seconds"].sum()
    runs = [manager.get(run_id, "bench") for run_id in table["run_id"]]
    whole = sum(r.ended - r.started - r.paused_seconds for r in runs if r.started and r.ended)
    print()
    print(f"{'':34}{'seconds':>10}")
    print(f"{'wall time, start to last end':34}{wall:10.1f}")
    print(f"{'sum of the runs own train times':34}{own:10.1f}")
    print(f"{'wall / sum':34}{wall / own:10.2f}")
    print(f"{'sum of the runs start-to-end times':34}{whole:10.1f}")
    if estimate:
        print(f"{'estimated wall time (before start)':34}{estimate.wall_seconds:10.1f}")
        print(f"{'estimated sum of run times':34}{estimate.total_seconds:10.1f}")
        print(f"{'estimate / real wall':34}{estimate.wall_seconds / wall:10.2f}")
        print(f"{'estimated sum / start-to-end sum':34}{estimate.total_seconds / whole:10.2f}")
    print(f"(wall {format_duration(wall)}); {_common.machine().replace(' at start', ' at the end')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
