"""Is the memory budget's estimate right? analyze()'s training-memory estimate against measured peak RSS.

Each spec trains for a few steps at its batch size in a fresh process (random data of the spec's input
shape, Adam, as the trainer compiles it). Measured: the peak resident memory during ``fit`` minus the
resident memory just before it, less the same figure for a tiny model (TensorFlow's own tracing and
runtime cost, which the estimate leaves out). Prints estimate and measurement side by side and their
ratio; target: every ratio between 0.5 and 2.

    .venv/bin/python -m bench.memory_estimate [--steps 3] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench._common import ROOT, machine

CLASSES = {"activation": "softmax", "type": "Dense", "units": 10}

SPECS = {
    "tiny (runtime overhead)": (
        {"input_shape": [28, 28, 1], "layers": [{"type": "Flatten"}, CLASSES]},
        32,
    ),
    "model1 at batch 1024": (None, 1024),
    "wide 1x1 conv (issue 10) at batch 256": (
        {
            "input_shape": [28, 28, 1],
            "layers": [
                {"type": "Conv2D", "filters": 1024, "kernel_size": 1, "padding": "same"},
                {"type": "GlobalAveragePooling2D"},
                CLASSES,
            ],
        },
        256,
    ),
    "two 64-filter convs, same, at batch 512": (
        {
            "input_shape": [28, 28, 1],
            "layers": [
                {"type": "Conv2D", "filters": 64, "kernel_size": 3, "padding": "same"},
                {"type": "Conv2D", "filters": 64, "kernel_size": 3, "padding": "same"},
                {"type": "MaxPooling2D"},
                {"type": "Dropout", "rate": 0.25},
                {"type": "Flatten"},
                CLASSES,
            ],
        },
        512,
    ),
    "colour 64x64 conv+BN at batch 128": (
        {
            "input_shape": [64, 64, 3],
            "layers": [
                {"type": "Conv2D", "filters": 96, "kernel_size": 3, "padding": "same"},
                {"type": "BatchNormalization"},
                {"type": "MaxPooling2D"},
                {"type": "GlobalAveragePooling2D"},
                CLASSES,
            ],
        },
        128,
    ),
    "wide Dense table at batch 4096": (
        {
            "input_shape": [500],
            "layers": [
                {"type": "Dense", "units": 2048, "activation": "relu"},
                {"type": "Dense", "units": 2048, "activation": "relu"},
                {"type": "Dense", "units": 1, "activation": "linear"},
            ],
        },
        4096,
    ),
}

CHILD = r"""
import json, os, resource, sys, threading, time
spec, batch, steps = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
import numpy as np, keras
from core.model.keras_build import build_model

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024

keras.utils.set_random_seed(0)
model = build_model(spec)
regression = spec["layers"][-1]["units"] == 1
model.compile(optimizer=keras.optimizers.Adam(), loss="mse" if regression else "sparse_categorical_crossentropy")
x = np.random.default_rng(0).random((batch * steps, *spec["input_shape"]), dtype=np.float32)
y = np.zeros(batch * steps, dtype=np.float32 if regression else np.int64)
before = rss()
peak = [before]
done = threading.Event()
def watch():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)
threading.Thread(target=watch, daemon=True).start()
model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
done.set()
peak[0] = max(peak[0], rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
print(json.dumps({"delta": peak[0] - before}))
"""


def measure(spec: dict, batch: int, steps: int) -> int:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(spec), str(batch), str(steps)],
        cwd=ROOT,  # `python -c` finds the project's packages in its working folder
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["delta"]


def main() -> None:
    from core.model.spec import analyze
    from core.training.presets import PRESETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="training steps per measurement")
    parser.add_argument("--only", help="measure only the specs whose name contains this")
    args = parser.parse_args()
    print(f"memory_estimate: {machine()}")
    mb = 1024**2
    overhead = None
    print(f"{'spec':42} {'estimate MB':>12} {'measured MB':>12} {'ratio est/meas':>15}  costliest layer")
    for name, (spec, batch) in SPECS.items():
        if args.only and args.only not in name and overhead is not None:
            continue
        spec = spec or PRESETS["model1"].spec()
        estimate = analyze(spec).training_memory(batch)
        delta = measure(spec, batch, args.steps)
        if overhead is None:
            overhead = delta
            print(f"{name:42} {estimate.total_mb:12.1f} {delta / mb:12.1f} {'(subtracted)':>15}")
            continue
        measured = max(delta - overhead, 1)
        report, size = estimate.costliest
        print(
            f"{name:42} {estimate.total_mb:12.1f} {measured / mb:12.1f} {estimate.total_bytes / measured:15.2f}  "
            f"{report.name} {size / mb:.0f} MB"
        )


if __name__ == "__main__":
    main()
