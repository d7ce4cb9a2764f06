"""Each image preset trained with its own app defaults on Fashion-MNIST, timed in model-1 epochs.

Trains model 1 first (its app defaults: Adam 0.002, batch 128, 8 epochs): its training time / its epochs
is the unit, "one model-1 epoch" on this machine in this run. Then each other preset trains with its app
defaults from the command line, `python -m core train --preset NAME --out r.json` (a fresh process each,
a temporary run store). For each it records the test accuracy on the full 10,000-image test set, the
training time (the trainer's per-epoch seconds, validation included, as the app shows it), the same in
model-1 epochs, and the process's CPU seconds (TensorFlow's import and the test evaluation included: a
cross-check less sensitive to other load on a shared machine than the wall clock; printed beside it). The figures go into core/training/preset_figures.json, which the
presets' descriptions quote: nothing there is typed by hand.

With `--presets a,b` only those are trained (model 1 always, for the unit) and merged into the file; model 1's
own stored figures are then kept (unless it is named), and each new entry records the unit it was measured with.
Model 1 trains again at the end (`--no-reference-after` skips it): the unit is the mean of both, since the
load of a shared machine moves while the presets train.

`--beside-training` measures on a busier machine: a second training (model 1 from the command line, in its
own process, for as long as the bench runs) goes on beside every preset and both references; those figures
go into each entry's "beside_a_training" and leave the others as they are.

    .venv/bin/python -m bench.presets [--presets fast,accurate] [--beside-training] [--dry-run]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import _common  # noqa: F401  (quiet TensorFlow, offline)


def train(name: str, home: str) -> dict:
    """One preset with its app defaults on the full data set, exactly as a user would train it from the
    command line (`python -m core train --preset NAME --out r.json`): the figures of that run."""
    from core.training.presets import PRESETS

    hp = PRESETS[name].app_hyperparameters
    out = Path(home) / f"{name}.json"
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "core", "train", "--preset", name, "--home", home, "--out", str(out)],
        cwd=_common.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{name}: the CLI failed:\n{done.stderr[-2000:]}")
    report = json.loads(out.read_text())
    if report["status"] != "finished":
        raise SystemExit(f"{name}: the run {report['status']}: {report['message']}")
    seconds = [e["seconds"] for e in report["history"]]
    load_at_end = os.getloadavg()[0]
    return {
        "test_accuracy": round(report["test_accuracy"], 4),
        "epochs": hp.epochs,
        "batch_size": hp.batch_size,
        "train_seconds": round(sum(seconds), 1),
        "epoch_seconds": [round(s, 1) for s in seconds],
        # the whole process (TensorFlow's import and the test evaluation too): a load-robust cross-check
        "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        "load_at_start": round(load, 2),
        "load_at_end": round(load_at_end, 2),
    }


# (preset, test accuracy, within this many model-1 epochs): the targets of issue 23.
TARGETS = (("fast", 0.91, 5), ("accurate", 0.92, 8))


def second_training(home: str) -> subprocess.Popen:
    """Model 1 training from the command line in its own process for as long as the bench runs: the
    busier machine (ended by the caller)."""
    command = [sys.executable, "-m", "core", "train", "--preset", "model1", "--epochs", "200"]
    beside = subprocess.Popen(
        [*command, "--home", f"{home}/beside", "--out", f"{home}/beside.json"],
        cwd=_common.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(15)  # TensorFlow imported and the first epoch under way, or a refusal
    if beside.poll() is not None:
        raise SystemExit(f"the second training did not start:\n{beside.stderr.read()[-2000:]}")
    return beside


def main() -> int:
    from core.training.presets import FIGURES_PATH, PRESETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated preset names (default all)")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, do not write the file")
    parser.add_argument("--beside-training", action="store_true", help="with a second training running beside")
    parser.add_argument("--no-reference-after", action="store_true", help="model 1 only before the presets")
    args = parser.parse_args()
    names = [n for n in args.presets.split(",") if n]
    unknown = [n for n in names if n not in PRESETS]
    if unknown:
        parser.error(f"unknown preset(s): {', '.join(unknown)}")

    print(_common.machine(), flush=True)
    home = tempfile.mkdtemp(prefix="bench-presets-")
    beside = second_training(home) if args.beside_training else None
    try:
        figures = {"model1": train("model1", home)}
        print(f"model1: {figures['model1']}", flush=True)
        for name in names:
            if name == "model1":
                continue
            figures[name] = train(name, home)
            print(f"{name}: {figures[name]}", flush=True)
        references = [figures["model1"]["train_seconds"] / figures["model1"]["epochs"]]
        if not args.no_reference_after:
            again = train("model1", home)
            print(f"model1 again: {again}", flush=True)
            references.append(again["train_seconds"] / again["epochs"])
    finally:
        if beside is not None:
            beside.kill()
            beside.wait()
    unit = sum(references) / len(references)
    print(f"one model-1 epoch = {unit:.2f} s (mean of {', '.join(f'{r:.2f}' for r in references)})")
    for figure in figures.values():
        figure["model1_epochs"] = round(figure["train_seconds"] / unit, 2)
        figure["model1_epoch_seconds"] = round(unit, 2)  # the unit of this run

    print(f"\n{'preset':8} {'test acc':>8} {'train s':>8} {'model-1 epochs':>15} {'process CPU s':>14}")
    for name, figure in figures.items():
        print(
            f"{name:8} {100 * figure['test_accuracy']:7.2f}% {figure['train_seconds']:8.1f} "
            f"{figure['model1_epochs']:15.2f} {figure['cpu_seconds']:14.1f}"
        )
    print(f"load: {_common.machine().replace(' at start', ' at the end')}")
    for name, accuracy, epochs in TARGETS:
        if name not in PRESETS:
            print(f"{name}: no such preset (target ≥ {100 * accuracy:g} % within {epochs} model-1 epochs: NOT met)")
        elif name in figures:
            figure = figures[name]
            met = figure["test_accuracy"] >= accuracy and figure["model1_epochs"] <= epochs
            print(
                f"{name}: {figure['train_seconds']:.1f} s / {epochs} model-1 epochs ({epochs * unit:.1f} s) = "
                f"{figure['train_seconds'] / (epochs * unit):.2f}; test accuracy {100 * figure['test_accuracy']:.2f} % "
                f"(target ≥ {100 * accuracy:g} % within {epochs} model-1 epochs: {'met' if met else 'NOT met'})"
            )
    if args.dry_run:
        return 0
    try:
        stored = json.loads(FIGURES_PATH.read_text())
    except (OSError, ValueError):
        stored = {}
    presets = stored.get("presets", {})
    if args.beside_training:  # the busier machine's figures beside the others, which stay
        for name, figure in figures.items():
            presets.setdefault(name, {})["beside_a_training"] = {
                **figure,
                "measured": datetime.date.today().isoformat(),
            }
    elif set(figures) != set(PRESETS):  # a partial run: others' figures came from another unit
        for name in names:
            busy = presets.get(name, {}).get("beside_a_training")  # kept: measured at another load
            presets[name] = {**figures[name], "measured": datetime.date.today().isoformat()}
            if busy:
                presets[name]["beside_a_training"] = busy
    else:
        presets = {n: {**f, "measured": datetime.date.today().isoformat()} for n, f in figures.items()}
    FIGURES_PATH.write_text(
        json.dumps(
            {
                "about": "Written by bench/presets.py: each preset trained with its app defaults on the full "
                "Fashion-MNIST; model1_epochs = training time / the time of one model-1 epoch in the same run.",
                "machine": f"{os.cpu_count()} CPU core(s)",
                "presets": presets,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {FIGURES_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
