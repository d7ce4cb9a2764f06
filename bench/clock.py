"""An honest clock: the time left the app shows during a run, against the time the run really took.

Trains a preset through a RunManager (the thread or process runner, as the app does), on a store in a
temporary folder, ``--repeat`` times, and polls Run.progress() every 0.2 s. For each poll from the end of
the first epoch on it compares the shown time left with the time the run then really still took
(validation and the test set included). It prints, per run and pooled over the runs, the median and worst
error and the share of polls within 20 % (and within 20 % or 1 s: the page shows whole seconds), and what
the page shows while the test set is measured. Beside it, the same figures for a hindsight clock that knew
each run's average pace after its first epoch: the floor that the run's own unevenness sets. It also prints the teacher's expected time per run
(core.training.speed, measured before the runs) against the runs' real time.

    .venv/bin/python -m bench.clock [--dataset fashion_mnist] [--images 10000] [--epochs 4] [--batch-size 128]
        [--runner thread|process] [--repeat 3] [--verbose]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench import _common  # noqa: F401  (quiet TensorFlow, offline)

Poll = tuple[float, float | None, int, str, int]  # (time, time left shown, epochs done, phase, batches left)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--images", type=int, default=10_000, help="training images per run (a quick challenge)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--preset", default="model1")
    parser.add_argument("--runner", default="thread", choices=["thread", "process"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--verbose", action="store_true", help="print every poll")
    args = parser.parse_args()

    import tempfile

    from core.data.datasets import load_dataset
    from core.runs.manager import RunManager
    from core.runs.store import RunStore
    from core.training.hyperparams import Hyperparameters
    from core.training.presets import PRESETS
    from core.training.speed import describe_seconds, measure_speed

    data = load_dataset(args.dataset)
    spec = PRESETS[args.preset].spec(data.input_shape, data.output_units)
    hp = Hyperparameters(epochs=args.epochs, batch_size=args.batch_size, limit_train=args.images)
    started = time.perf_counter()
    speed = measure_speed(spec, args.dataset, args.batch_size)
    expected = speed.run_seconds(hp, len(data.x_train), len(data.x_test))
    print(f"measuring the speed took {time.perf_counter() - started:.1f} s; expected time per run {expected:.1f} s")

    manager = RunManager(RunStore(tempfile.mkdtemp(prefix="clock-")), max_concurrent=1, runner=args.runner)
    # As in the app, whose worker processes are started before anyone trains: a first short run warms them.
    manager.start(spec, args.dataset, Hyperparameters(epochs=1, limit_train=512, limit_test=256), owner="bench").wait()
    pooled, pooled_hindsight, totals = [], [], []
    for attempt in range(1, args.repeat + 1):
        began = time.perf_counter()
        run = manager.start(spec, args.dataset, hp, owner="bench")
        polls: list[Poll] = []
        while not run.wait(0.2):
            p = run.progress()
            left = (p.epochs - p.epoch) * p.batches_per_epoch - p.batch
            polls.append((time.perf_counter(), p.eta, p.epoch, p.phase, left))
        ended = time.perf_counter()
        totals.append(ended - began)
        errors = _errors(polls, ended)
        pooled += errors
        hindsight = _errors(_hindsight(polls, ended), ended)
        pooled_hindsight += hindsight
        print(f"run {attempt}: {run.status}, {ended - began:.1f} s in all; {_describe(errors)}")
        print(f"  hindsight clock: {_describe(hindsight)}")
        testing = sorted({str(p[1]) for p in polls if p[3] == "testing"})
        print(f"  while the test set was measured the time left was {testing or '—'} (the page says so in words)")
        if args.verbose:
            _print_run(run, polls, began, ended)
    print(
        f"all {args.repeat} runs ({args.runner} runner, {args.images} images x {args.epochs} epochs): {_describe(pooled)}"
    )
    print(f"  the hindsight clock, pooled: {_describe(pooled_hindsight)}")
    real = statistics.median(totals)
    print(
        f"teacher's expected time {expected:.1f} s ({describe_seconds(expected)}) vs the runs' median {real:.1f} s: "
        f"ratio {expected / real:.2f}"
    )
    manager.runner.shutdown()
    return 0


def _hindsight(polls: list[Poll], ended: float) -> list[Poll]:
    """The polls as a clock that knew, in hindsight, the run's average pace from the end of its first epoch
    to its end would have shown them (the time left in proportion to the batches left): what is left of
    the errors is the run's own unevenness, which no clock can foresee."""
    after_first = [p for p in polls if p[2] >= 1 and p[3] != "testing"]
    if not after_first:
        return []
    start, left_then = after_first[0][0], after_first[0][4]
    per_batch = (ended - start) / max(left_then, 1)
    return [(moment, left * per_batch, epochs, phase, left) for moment, _, epochs, phase, left in after_first]


def _errors(polls: list[Poll], ended: float) -> list[tuple[float, float]]:
    """(relative error, error in seconds) of each poll from the end of the first epoch on."""
    errors = []
    for moment, eta, epochs_done, phase, _ in polls:
        real = ended - moment
        if epochs_done >= 1 and eta is not None and phase != "testing" and real > 1.0:  # the last second: rounding
            errors.append(((eta - real) / real, eta - real))
    return errors


def _describe(errors: list[tuple[float, float]]) -> str:
    if not errors:
        return "no polls after the first epoch"
    relative = [e for e, _ in errors]
    worst = max(relative, key=abs)
    within = sum(abs(e) <= 0.2 for e in relative)
    # The page shows whole seconds, so an error of a second is the display's, not the clock's.
    within_or_second = sum(abs(e) <= 0.2 or abs(s) <= 1.0 for e, s in errors)
    n = len(errors)
    return (
        f"{n} polls, median error {100 * statistics.median(relative):+.1f} %, "
        f"median |error| {100 * statistics.median(abs(e) for e in relative):.1f} %, worst {100 * worst:+.1f} %, "
        f"within 20 %: {within}/{n} ({100 * within / n:.0f} %), within 20 % or 1 s: {within_or_second}/{n} "
        f"({100 * within_or_second / n:.0f} %)"
    )


def _print_run(run, polls: list[Poll], began: float, ended: float) -> None:
    for e in run.epoch_history():
        print("  ", {k: round(v, 4) for k, v in e.items() if "seconds" in k})
    for moment, eta, epochs_done, phase, _ in polls:
        print(
            f"  t={moment - began:5.1f} s epochs={epochs_done} phase={phase or 'training':10} "
            f"shown={eta if eta is None else round(eta, 1)} real={ended - moment:.1f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
