"""The search that chose the `fast` preset: candidates trained through core's trainer, timed in model-1 epochs.

The Experiments engine (core/experiments/) was not on main when this search ran, so this small script does
the same thing by hand, one candidate at a time: each candidate is a spec and its hyperparameters, trained
on the full Fashion-MNIST through `core.runs.trainer.train_run` (as the app and the CLI do). First
model 1 with its app defaults (Adam 0.002, batch 128) trains `--reference-epochs` epochs: its mean epoch
time is the unit. Then each candidate trains its full schedule; the script prints its test accuracy and
its training time in model-1 epochs (the `fast` preset must reach 91 % within 8 of them). Training time is
the trainer's per-epoch seconds (validation included), as the app shows it.

    .venv/bin/python -m bench.fast_search [--candidates a,b] [--reference-epochs 2]
"""

from __future__ import annotations

import argparse
import os
import time

from bench import _common  # noqa: F401  (quiet TensorFlow, offline)

BN = {"type": "BatchNormalization"}
POOL = {"type": "MaxPooling2D", "pool_size": 2}
FLAT = {"type": "Flatten"}
OUT = {"type": "Dense", "units": 10, "activation": "softmax"}


def conv(filters, kernel, **extra):
    return {"type": "Conv2D", "filters": filters, "kernel_size": kernel, "activation": "relu", **extra}


def dense(units):
    return {"type": "Dense", "units": units, "activation": "relu"}


def drop(rate):
    return {"type": "Dropout", "rate": rate}


# name → (layers, hyperparameters). Each is a guess to be measured, not a claim.
CANDIDATES = {
    # model 1 plus BatchNormalization after each convolution and Dropout before the Dense layers
    "m1bn-cos": (
        [conv(16, 3), BN, POOL, conv(32, 3), BN, POOL, FLAT, drop(0.3), dense(128), OUT],
        dict(optimizer="adam", learning_rate=0.003, epochs=8, batch_size=256, learning_rate_schedule="cosine"),
    ),
    "m1bn-const": (
        [conv(16, 3), BN, POOL, conv(32, 3), BN, POOL, FLAT, drop(0.3), dense(128), OUT],
        dict(optimizer="adam", learning_rate=0.002, epochs=8, batch_size=256),
    ),
    # wider second block, same first block
    "m1w-cos": (
        [conv(16, 3), BN, POOL, conv(48, 3), BN, POOL, FLAT, drop(0.4), dense(128), OUT],
        dict(optimizer="adam", learning_rate=0.003, epochs=8, batch_size=256, learning_rate_schedule="cosine"),
    ),
    "m1bn-cos6": (
        [conv(16, 3), BN, POOL, conv(32, 3), BN, POOL, FLAT, drop(0.3), dense(128), OUT],
        dict(optimizer="adam", learning_rate=0.003, epochs=6, batch_size=256, learning_rate_schedule="cosine"),
    ),
    "m1bn-cos512": (
        [conv(16, 3), BN, POOL, conv(32, 3), BN, POOL, FLAT, drop(0.3), dense(128), OUT],
        dict(optimizer="adam", learning_rate=0.004, epochs=8, batch_size=512, learning_rate_schedule="cosine"),
    ),
    "m1bn1-cos6": (  # BatchNormalization after the first convolution only
        [conv(16, 3), BN, POOL, conv(32, 3), POOL, FLAT, drop(0.3), dense(128), OUT],
        dict(optimizer="adam", learning_rate=0.003, epochs=6, batch_size=256, learning_rate_schedule="cosine"),
    ),
    # BatchNormalization after each pooling: on a quarter of the values, so a quarter of its cost
    "m1pbn-cos6": (
        [conv(16, 3), POOL, BN, conv(32, 3), POOL, BN, FLAT, drop(0.3), dense(128), OUT],
        dict(optimizer="adam", learning_rate=0.003, epochs=6, batch_size=256, learning_rate_schedule="cosine"),
    ),
    "m1pbn-cos7": (
        [conv(16, 3), POOL, BN, conv(32, 3), POOL, BN, FLAT, drop(0.3), dense(128), OUT],
        dict(optimizer="adam", learning_rate=0.003, epochs=7, batch_size=256, learning_rate_schedule="cosine"),
    ),
    "m1d-cos": (
        [conv(16, 3), POOL, conv(32, 3), POOL, FLAT, drop(0.3), dense(128), OUT],
        dict(optimizer="adam", learning_rate=0.002, epochs=8, batch_size=128, learning_rate_schedule="cosine"),
    ),
}


def train(layers, hp_fields, label):
    """One run through the trainer; returns (test accuracy, per-epoch seconds, validation accuracies, CPU
    seconds of this process for the whole run: less sensitive to other load than the wall clock)."""
    from core.runs.record import Run
    from core.runs.trainer import train_run
    from core.training.hyperparams import Hyperparameters

    hp = Hyperparameters(**hp_fields)
    run = Run({"input_shape": [28, 28, 1], "layers": layers}, "fashion_mnist", hp)
    cpu = time.process_time()
    ending = train_run(run)
    run.finish(ending.status, ending.message, ending.results)
    cpu = time.process_time() - cpu
    if run.status != "finished":
        raise SystemExit(f"{label}: run {run.status}: {run.message}")
    seconds = [e["seconds"] for e in run.epoch_history()]
    return run.test_accuracy, seconds, [e.get("val_accuracy") for e in run.epoch_history()], cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", default=",".join(CANDIDATES), help="comma-separated names")
    parser.add_argument("--reference-epochs", type=int, default=2)
    args = parser.parse_args()

    from core.training.presets import PRESETS

    print(_common.machine(), flush=True)
    model1 = PRESETS["model1"]
    reference = {**model1.app_hyperparameters.to_dict(), "epochs": args.reference_epochs}
    units = []

    def measure_reference():
        accuracy, seconds, _, cpu = train(list(model1.spec()["layers"]), reference, "model1")
        units.append((sum(seconds) / len(seconds), cpu / len(seconds)))
        print(
            f"model1 reference: {len(seconds)} epochs {', '.join(f'{s:.1f}' for s in seconds)} s, "
            f"{cpu / len(seconds):.1f} CPU s per epoch (test {accuracy:.4f}); load {os.getloadavg()[0]:.1f}",
            flush=True,
        )

    measure_reference()
    rows = []
    for name in args.candidates.split(","):
        layers, hp_fields = CANDIDATES[name]
        accuracy, seconds, val, cpu = train(layers, hp_fields, name)
        rows.append((name, accuracy, sum(seconds), cpu))
        print(
            f"{name:12} test {accuracy:.4f}  {sum(seconds):6.1f} s, {cpu:6.1f} CPU s  "
            f"epochs {', '.join(f'{s:.1f}' for s in seconds)}  val {', '.join(f'{v:.3f}' for v in val)}  "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    measure_reference()  # again at the end: the load changes while the candidates train
    wall = sum(u[0] for u in units) / len(units)
    cpu_unit = sum(u[1] for u in units) / len(units)
    print(f"unit (mean of the two references): {wall:.1f} s wall, {cpu_unit:.1f} CPU s per model-1 epoch")
    for name, accuracy, seconds, cpu in rows:
        print(
            f"{name:12} test {accuracy:.4f}  {seconds / wall:4.1f} model-1 epochs (wall), "
            f"{cpu / cpu_unit:4.1f} (CPU time)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
