"""The Ray runner against the process runner: time to the first chart point, per-epoch cost, scaling.

Three measurements, each through the app's own RunManager (queue, runner, store), printed side by side:

1. Train -> first chart point on a warm runner (actors / worker processes started, TensorFlow imported,
   the data set in the object store): median of ``--rounds`` runs, Ray vs process runner.
2. Per-epoch cost: model1 on Fashion-MNIST (``--limit`` training images, batch ``--batch-size``, the
   same seed), two epochs, with the same number of TensorFlow threads in the actor and in the worker
   process. Epoch 2 (epoch 1 includes tracing) as the trainer measured it, and the wall time from the
   first chart point to the run's end as the server saw it; ratio process / Ray (>= 0.95 means the
   cluster costs at most 5 %).
3. ``--runs`` short runs (shapes) on a simulated cluster of K one-CPU nodes (``--nodes``, e.g. 1,2):
   wall time from submitting all of them to the last one ending. The nodes are Ray processes on this
   one machine (ray.cluster_utils.Cluster), so they share its cores: K above the core count cannot speed
   anything up here; on real machines each node brings its own cores.

    .venv/bin/python -m bench.ray_runner [--rounds 5] [--limit 12000] [--batch-size 64] [--runs 4] [--nodes 1,2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from bench import _common
from bench.stats import spread

# The simulated nodes all live on this machine: keep every Ray service on 127.0.0.1 (read at Ray's import).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

FIRST_POINT_HP = {"epochs": 1, "batch_size": 64, "limit_train": 2000, "limit_test": 200}


def hyperparameters(**kwargs):
    from core.training.hyperparams import Hyperparameters

    return Hyperparameters(**kwargs)


def spec_for(dataset: str):
    from core.data.datasets import load_dataset
    from core.training.presets import PRESETS

    data = load_dataset(dataset)
    return PRESETS["model1"].spec(data.input_shape, data.output_units)


def cluster(nodes: int, cpus_per_node: int):
    from ray.cluster_utils import Cluster

    memory = 200 * 1024 * 1024
    made = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "include_dashboard": False, "object_store_memory": memory},
    )
    for _ in range(nodes):
        made.add_node(num_cpus=cpus_per_node, object_store_memory=memory)
    made.wait_for_nodes()
    os.environ["RAY_ADDRESS"] = made.address
    return made


def ray_manager(slots: int, cpus_per_run: int, warm: tuple[str, ...]):
    from core.runs.manager import RunManager
    from core.runs.store import RunStore

    manager = RunManager(
        RunStore(tempfile.mkdtemp()), max_concurrent=slots, runner="ray", cpus_per_run=cpus_per_run, warm_datasets=warm
    )
    deadline = time.time() + 300
    while not all(manager.runner.worker_nodes().get(s) for s in range(slots)):
        if time.time() > deadline:
            raise SystemExit("The Ray actors did not start within 5 minutes.")
        time.sleep(0.1)
    return manager


def process_manager(slots: int):
    from core.runs.manager import RunManager
    from core.runs.store import RunStore

    manager = RunManager(RunStore(tempfile.mkdtemp()), max_concurrent=slots, runner="process")
    for worker in manager.runner._workers.values():
        worker.wait_ready()
    return manager


def first_point(manager, spec, dataset: str, hp) -> tuple[float, float, object]:
    """Seconds from Train to the first batch in the run the page reads, and to the run's end."""
    began = time.perf_counter()
    run = manager.start(spec, dataset, hp)
    while not run.batch_history():
        time.sleep(0.005)
    first = time.perf_counter() - began
    run.wait()
    return first, time.perf_counter() - began, run


def measure_first_points(manager, spec, dataset: str, rounds: int, seed: int = 0) -> list[float]:
    return [
        first_point(manager, spec, dataset, hyperparameters(**FIRST_POINT_HP, seed=seed + i))[0] for i in range(rounds)
    ]


def measure_epochs(
    manager, spec, dataset: str, limit: int, batch_size: int, rounds: int, seed: int = 0
) -> tuple[list, list]:
    """Epoch 2's seconds as the trainer measured them, and first point -> end as the server saw it."""
    epoch_seconds, relay_seconds = [], []
    for i in range(rounds):
        hp = hyperparameters(epochs=2, batch_size=batch_size, limit_train=limit, limit_test=1000, seed=seed + i)
        first, total, run = first_point(manager, spec, dataset, hp)
        assert run.status == "finished", run.message
        epoch_seconds.append(run.epoch_history()[1]["seconds"])
        relay_seconds.append(total - first)
    return epoch_seconds, relay_seconds


def scaling(nodes: int, runs: int) -> float:
    """Wall seconds for ``runs`` short shapes runs on ``nodes`` one-CPU nodes (one run per node at once)."""
    import ray

    made = cluster(nodes, 1)
    try:
        manager = ray_manager(nodes, 1, ("shapes",))
        spec = spec_for("shapes")
        hp = hyperparameters(epochs=2, batch_size=32, limit_train=1000, limit_test=200)
        began = time.perf_counter()
        # One run per learner, as in a class (each learner may have only a few runs waiting).
        started = [manager.start(spec, "shapes", hp, owner=f"learner-{i}") for i in range(runs)]
        for run in started:
            run.wait()
        seconds = time.perf_counter() - began
        assert all(r.status == "finished" for r in started), [r.message for r in started]
        manager.runner.shutdown()
        return seconds
    finally:
        if ray.is_initialized():
            ray.shutdown()
        made.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=12_000, help="Fashion-MNIST training images per run")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--runs", type=int, default=4, help="runs for the scaling measurement")
    parser.add_argument("--nodes", default="1,2", help="simulated cluster sizes (one CPU each)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: first,epoch,scaling")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    import ray

    from core.data.datasets import DatasetUnavailable, load_dataset

    print(_common.machine())
    try:
        load_dataset("fashion_mnist")
        dataset = "fashion_mnist"
    except DatasetUnavailable:
        dataset = "shapes"
        print("Fashion-MNIST is not available: using shapes.")
    spec = spec_for(dataset)
    cores = os.cpu_count() or 2

    if skip >= {"first", "epoch"}:
        pass
    else:
        print(f"\n1-2. One slot, {cores} TensorFlow threads per run; model1 on {dataset}; the runners take turns.")
        made = cluster(1, cores)
        local = None
        ray_first, proc_first, ray_epochs, proc_epochs, ray_relay, proc_relay = [], [], [], [], [], []
        try:
            manager = ray_manager(1, cores, (dataset,))
            local = process_manager(1)
            # Round by round, one runner then the other (each idle while the other trains): a machine
            # that gets busier or quieter meanwhile weighs on both alike.
            for round_ in range(args.rounds):
                for runner, firsts, epochs, relays in (
                    (manager, ray_first, ray_epochs, ray_relay),
                    (local, proc_first, proc_epochs, proc_relay),
                ):
                    if "first" not in skip:
                        firsts += measure_first_points(runner, spec, dataset, 1, seed=round_)
                    if "epoch" not in skip:
                        epoch, relay = measure_epochs(runner, spec, dataset, args.limit, args.batch_size, 1, round_)
                        epochs += epoch
                        relays += relay
            manager.runner.shutdown()
        finally:
            if local is not None:
                local.runner.shutdown()
            if ray.is_initialized():
                ray.shutdown()
            made.shutdown()
        if "first" not in skip:
            print("Train -> first chart point (warm)")
            print(f"  ray      {spread(ray_first, every=True)}")
            print(f"  process  {spread(proc_first, every=True)}")
        if "epoch" not in skip:
            print(f"Epoch 2 of {args.limit:,} images, batch {args.batch_size} (trainer's clock)")
            print(f"  ray      {spread(ray_epochs, every=True)}")
            print(f"  process  {spread(proc_epochs, every=True)}")
            print(f"  ratio process/ray  {statistics.median(proc_epochs) / statistics.median(ray_epochs):.3f}")
            print("First chart point -> run ended, as the server saw it (2 epochs, test set, model back)")
            print(f"  ray      {spread(ray_relay, every=True)}")
            print(f"  process  {spread(proc_relay, every=True)}")
            print(f"  ratio process/ray  {statistics.median(proc_relay) / statistics.median(ray_relay):.3f}")

    if "scaling" not in skip:
        sizes = [int(k) for k in args.nodes.split(",")]
        print(f"\n3. {args.runs} runs (shapes, 1,000 images, 2 epochs) on K simulated one-CPU nodes on this machine")
        walls = {k: scaling(k, args.runs) for k in sizes}
        for k, seconds in walls.items():
            print(f"  K={k}: {seconds:6.1f} s wall, speed-up {walls[sizes[0]] / seconds:.2f} x vs K={sizes[0]}")


if __name__ == "__main__":
    main()
