"""The search for the fast and the accurate presets, through the project's own experiments engine.

Each search is an experiment (core.experiments: factors over a base model, planned, checked and queued through
a RunManager, exactly as the Experiment page and `python -m core experiment` run them) on the full
Fashion-MNIST, one training slot, so the runs do not share the processor with each other. Model 1 with its
app defaults (Adam 0.002, batch 128) trains `--reference-epochs` epochs before and after the searches, in
the same manager: the mean of its epochs' seconds is the unit, "one model-1 epoch". For every variant it
prints the test accuracy, the training time (the trainer's per-epoch seconds, validation included, as the
app shows them) and that time in model-1 epochs; the figures the presets quote come from bench/presets.py.

    .venv/bin/python -m bench.preset_search [--searches fast,accurate] [--reference-epochs 3] [--list]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from bench import _common  # noqa: F401  (quiet TensorFlow, offline)

BN = {"type": "BatchNormalization"}
POOL = {"type": "MaxPooling2D", "pool_size": 2}
FLAT = {"type": "Flatten"}
OUT = {"type": "Dense", "units": 10, "activation": "softmax"}


def conv(filters, kernel=3, **extra):
    return {"type": "Conv2D", "filters": filters, "kernel_size": kernel, "activation": "relu", **extra}


def dense(units):
    return {"type": "Dense", "units": units, "activation": "relu"}


# The `fast` preset's layers (BatchNormalization after each pooling): layer 1 is the first convolution,
# layer 4 the second, layer 8 the hidden Dense layer.
FAST_LAYERS = [conv(16), POOL, BN, conv(32), POOL, BN, FLAT, {"type": "Dropout", "rate": 0.3}, dense(128), OUT]

# name → (base layers, base hyperparameters, factors as `--vary` writes them). Each is a question to be
# measured, not a claim.
SEARCHES = {
    # The fast preset in fewer epochs: larger batches, a warm-up, smoothed labels.
    "fast": (
        FAST_LAYERS,
        dict(optimizer="adam", learning_rate=0.003, epochs=5, batch_size=256, learning_rate_schedule="cosine"),
        ["batch_size=256,512", "learning_rate_schedule=cosine,one_cycle", "label_smoothing=0,0.1"],
    ),
    # More accuracy for more time: a wider second convolution, smoothed labels, the one-cycle schedule.
    "accurate": (
        FAST_LAYERS,
        dict(optimizer="adam", learning_rate=0.003, epochs=10, batch_size=256, learning_rate_schedule="one_cycle"),
        ["layer4.filters=32,64", "label_smoothing=0,0.1", "add1=none,RandomFlip"],
    ),
    # Second round, within 8 model-1 epochs: the fast preset's layers a little wider (the second convolution,
    # the Dense layer), Adam or Nadam, 9 epochs of the one-cycle schedule.
    "accurate2": (
        FAST_LAYERS,
        dict(optimizer="adam", learning_rate=0.003, epochs=9, batch_size=256, learning_rate_schedule="one_cycle"),
        ["layer4.filters=32,48", "layer9.units=128,256", "optimizer=adam,nadam"],
    ),
    # Third round (issue 23): depth where the image is small. A third convolution on the 5×5 maps ('valid':
    # 3×3×64 out, a quarter of the second convolution's multiplications) or not, a second convolution of 32 or
    # 48 filters, 6 epochs of the cosine schedule.
    "accurate3": (
        [conv(16), POOL, BN, conv(32), POOL, BN, conv(64), FLAT, {"type": "Dropout", "rate": 0.3}, dense(128), OUT],
        dict(optimizer="adam", learning_rate=0.003, epochs=6, batch_size=256, learning_rate_schedule="cosine"),
        ["layer4.filters=32,48", "layer7=keep,remove"],
    ),
    # The fast preset's layers in 6 epochs: the learning rate and the batch size (more steps per epoch at 128).
    "accurate4": (
        FAST_LAYERS,
        dict(optimizer="adam", learning_rate=0.003, epochs=6, batch_size=256, learning_rate_schedule="cosine"),
        ["learning_rate=0.002,0.005", "batch_size=128,256"],
    ),
    # The fast preset cheaper per epoch: without the second BatchNormalization (its cost is mostly per step,
    # not per image), and at batch 512 (half the steps; the momentum of issue 25 is 0.981 there).
    "fast3": (
        FAST_LAYERS,
        dict(optimizer="adam", learning_rate=0.003, epochs=5, batch_size=256, learning_rate_schedule="cosine"),
        ["layer6=keep,remove", "batch_size=256,512"],
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", default="fast,accurate", help="comma-separated: " + ",".join(SEARCHES))
    parser.add_argument("--reference-epochs", type=int, default=3)
    parser.add_argument("--limit-train", type=int, default=None, help="screen on the first N images only")
    args = parser.parse_args()

    from core.experiments.engine import start_experiment, wait_for_experiment
    from core.experiments.factors import parse_factor
    from core.experiments.plan import manager_check, plan_experiment
    from core.runs.manager import RunManager
    from core.runs.store import RunStore
    from core.training.hyperparams import Hyperparameters
    from core.training.presets import PRESETS

    print(_common.machine(), flush=True)
    manager = RunManager(RunStore(tempfile.mkdtemp(prefix="bench-search-")), max_concurrent=1)
    model1 = PRESETS["model1"]
    units = []

    def reference() -> None:
        hp = Hyperparameters.from_dict(
            {**model1.app_hyperparameters.to_dict(), "epochs": args.reference_epochs, "limit_train": args.limit_train}
        )
        run = manager.start(model1.spec(), "fashion_mnist", hp, owner="bench")
        run.wait()
        seconds = [e["seconds"] for e in run.epoch_history()]
        units.append(statistics.mean(seconds))
        print(
            f"model 1 reference: epochs {', '.join(f'{s:.1f}' for s in seconds)} s (test "
            f"{run.test_accuracy:.4f}); load {os.getloadavg()[0]:.1f}",
            flush=True,
        )

    reference()
    tables = []
    for name in args.searches.split(","):
        layers, base, vary = SEARCHES[name]
        spec = {"input_shape": [28, 28, 1], "layers": layers}
        hp = Hyperparameters.from_dict({**base, "limit_train": args.limit_train})
        factors = [parse_factor(text, spec) for text in vary]
        plan = plan_experiment(spec, hp, "fashion_mnist", factors, check=manager_check(manager, "fashion_mnist"))
        began = time.perf_counter()
        print(f"\n{name}: {len(plan.runnable)} variants of {base}; load {os.getloadavg()[0]:.1f}", flush=True)
        experiment = start_experiment(manager, plan, owner="bench", name=name)
        table = wait_for_experiment(manager, experiment)
        table.insert(0, "search", name)
        tables.append(table)
        print(f"{name}: {time.perf_counter() - began:.0f} s wall; load {os.getloadavg()[0]:.1f}", flush=True)
    reference()

    unit = statistics.mean(units)
    print(f"\nunit: one model-1 epoch = {unit:.2f} s (mean of the references {', '.join(f'{u:.2f}' for u in units)})")
    for table in tables:
        table["test %"] = (100 * table["test_accuracy"]).round(2)
        table["model-1 epochs"] = (table["train_seconds"] / unit).round(2)
        shown = [c for c in table.columns if c not in ("run_id", "problem", "seed", "test_loss", "test_accuracy")]
        print(table[shown].sort_values("test %", ascending=False).to_string(index=False))
    print(_common.machine().replace(" at start", " at the end"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
