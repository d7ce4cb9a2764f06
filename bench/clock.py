"""An honest clock: the time left the app shows during a run, against the time the run really took.

Trains model1 through a RunManager with the thread runner (as the app does), on a store in a temporary
folder, and polls Run.progress() every 0.2 s. For each poll from the end of the first epoch on it compares the
shown time left with the time the run then really still took (validation and the test set included),
and prints the worst and median error, and what the page shows while the test set is measured. It also
prints the teacher's expected time per run (core.training.speed, measured before the run) against the
run's real time.

    .venv/bin/python bench/clock.py [--dataset fashion_mnist] [--images 10000] [--epochs 4] [--batch-size 128]
"""

from __future__ import annotations

import argparse
import statistics
import time

import _common  # noqa: F401  (sys.path, quiet TensorFlow)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--images", type=int, default=10_000, help="training images per run (a quick challenge)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--preset", default="model1")
    parser.add_argument("--verbose", action="store_true", help="print every poll")
    args = parser.parse_args()

    import tempfile

    from core.data.datasets import load_dataset
    from core.model.presets import PRESETS
    from core.runs.manager import RunManager
    from core.runs.store import RunStore
    from core.training.hyperparams import Hyperparameters
    from core.training.speed import describe_seconds, measure_speed

    data = load_dataset(args.dataset)
    spec = PRESETS[args.preset].spec(data.input_shape, data.output_units)
    hp = Hyperparameters(epochs=args.epochs, batch_size=args.batch_size, limit_train=args.images)
    started = time.perf_counter()
    speed = measure_speed(spec, args.dataset, args.batch_size)
    expected = speed.run_seconds(hp, len(data.x_train), len(data.x_test))
    print(f"measuring the speed took {time.perf_counter() - started:.1f} s; expected time per run {expected:.1f} s")

    manager = RunManager(RunStore(tempfile.mkdtemp(prefix="clock-")), max_concurrent=1, runner="thread")
    polls: list[tuple[float, float | None, int, str]] = []  # (time, eta, epochs done, phase)
    began = time.perf_counter()
    run = manager.start(spec, args.dataset, hp, owner="bench")
    while not run.wait(0.2):
        p = run.progress()
        polls.append((time.perf_counter(), p.eta, p.epoch, p.phase))
    ended = time.perf_counter()
    total = ended - began
    print(f"run: {run.status}, {run.epoch} epochs, {total:.1f} s in all (test accuracy {run.test_accuracy:.3f})")
    print(
        f"teacher's expected time {expected:.1f} s ({describe_seconds(expected)}) vs real {total:.1f} s: "
        f"ratio {expected / total:.2f}"
    )

    errors = []
    for moment, eta, epochs_done, phase in polls:
        if epochs_done >= 1 and eta is not None and phase != "testing":
            real = ended - moment
            if real > 1.0:  # the last second: rounding, not the clock
                errors.append((eta - real) / real)
    if args.verbose:
        print(speed)
        for e in run.epoch_history():
            print({k: round(v, 4) for k, v in e.items() if "seconds" in k})
        for moment, eta, epochs_done, phase in polls:
            print(
                f"  t={moment - began:5.1f} s epochs={epochs_done} phase={phase or 'training':10} "
                f"shown={eta if eta is None else round(eta, 1)} real={ended - moment:.1f}"
            )
    testing = [p for p in polls if p[3] == "testing"]
    if errors:
        worst = max(errors, key=abs)
        print(
            f"time left from the end of epoch 1: {len(errors)} polls, median error {100 * statistics.median(errors):+.1f} %, "
            f"worst {100 * worst:+.1f} %, within 20 %: {sum(abs(e) <= 0.2 for e in errors)}/{len(errors)}"
        )
    print(
        f"while the test set was measured: {len(testing)} polls, time left shown: "
        f"{sorted({str(p[1]) for p in testing}) or '—'} (the page says 'now measuring the test set')"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
