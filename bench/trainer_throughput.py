"""Trainer throughput vs plain model.fit: does streaming metrics into a Run cost anything?

Same model (model1), same data, same batch size, same seeds, measured side by side in one process,
alternating which goes first. "plain" is `model.fit(...)` with no callbacks; "trainer" is the same
call with core.runs.trainer.RunRecorder streaming per-batch and per-epoch metrics into a Run and saving
it to a RunStore after each epoch, as core/training.py does. Prints samples/s of each and the ratio
trainer / plain (target >= 0.97).

    .venv/bin/python -m bench.trainer_throughput [--rounds 3] [--epochs 1] [--batch-size 64] [--limit N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from bench import _common  # noqa: F401  (quiet TensorFlow, offline)


def load_data(limit: int | None):
    from core.data.datasets import SHAPE_CLASSES, Dataset, DatasetUnavailable, load_dataset, make_shapes

    try:
        data = load_dataset("fashion_mnist")
    except DatasetUnavailable:
        print("Fashion-MNIST is not available: using shapes scaled up to 30,000 training images.")
        x, y = make_shapes(30_000, seed=1)
        xt, yt = make_shapes(1_000, seed=2)
        data = Dataset("shapes", "Shapes x30k", SHAPE_CLASSES, x, y, xt, yt, "generated")
    x = data.as_float("x_train") if data.name == "fashion_mnist" else data.x_train.astype("float32") / 255
    y = data.y_train
    if limit:
        x, y = x[:limit], y[:limit]
    return data, x, y


def callback_cost(model, run, n: int = 5000) -> dict[str, float]:
    """Microseconds per batch spent in Keras' callback list for plain fit (History only, dispatched on a
    thread) and for the trainer (History + RunRecorder, called in line), with logs like the train step's."""
    import keras
    import tensorflow as tf

    from core.runs.trainer import RunRecorder

    run.begin(batches_per_epoch=n)
    logs = {"loss": tf.constant(0.5), "accuracy": tf.constant(0.8)}
    cost = {}
    for mode, callbacks in (("plain", []), ("trainer", [RunRecorder(run)])):
        best = float("inf")
        for _ in range(3):
            callback_list = keras.callbacks.CallbackList(
                callbacks, add_history=True, model=model, epochs=1, steps=n, verbose=0
            )
            start = time.perf_counter()
            callback_list.on_train_begin()
            callback_list.on_epoch_begin(0)
            for i in range(n):
                callback_list.on_train_batch_begin(i)
                callback_list.on_train_batch_end(i, logs)
            callback_list.on_train_end()  # waits for batch callbacks dispatched to a thread
            best = min(best, time.perf_counter() - start)
        cost[mode] = 1e6 * best / n
    return cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating plain/trainer rounds (default 3)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per measured fit (default 1)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--validation-split", type=float, default=0.1)
    parser.add_argument("--limit", type=int, help="use only the first N training images")
    args = parser.parse_args()

    import keras

    from core.model.keras_build import build_model
    from core.model.spec import analyze
    from core.runs.record import Run
    from core.runs.store import RunStore
    from core.runs.trainer import RunRecorder
    from core.training.hyperparams import Hyperparameters
    from core.training.presets import PRESETS

    print(_common.machine())
    data, x, y = load_data(args.limit)
    spec = PRESETS["model1"].spec(data.input_shape, data.num_classes)
    print(
        f"model1 ({analyze(spec).total_params:,} params) on {data.title}: {len(x):,} images, "
        f"batch {args.batch_size}, validation split {args.validation_split}, {args.epochs} epoch(s) per fit, "
        f"{args.rounds} rounds"
    )
    n_fit = len(x) - int(len(x) * args.validation_split)
    batches = -(-n_fit // args.batch_size)
    store = RunStore(tempfile.mkdtemp(prefix="bench-throughput-"))
    hp = Hyperparameters(
        epochs=args.epochs * args.rounds, batch_size=args.batch_size, validation_split=args.validation_split
    )
    run = Run(spec, data.name, hp)
    run.begin(batches_per_epoch=batches)
    run.on_progress = store.save  # the run saved after each epoch, as the run manager's hook does

    def new_model():
        keras.utils.set_random_seed(42)
        model = build_model(spec)
        model.compile(
            optimizer=keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    models = {"plain": new_model(), "trainer": new_model()}
    callbacks = {"plain": lambda: [], "trainer": lambda: [RunRecorder(run)]}

    def fit(mode, x_part, y_part, epochs):
        keras.utils.set_random_seed(7)  # the same shuffling for both
        start = time.perf_counter()
        models[mode].fit(
            x_part,
            y_part,
            epochs=epochs,
            batch_size=args.batch_size,
            validation_split=args.validation_split,
            callbacks=callbacks[mode](),
            verbose=0,
        )
        return time.perf_counter() - start

    # Warm-up: trace the train and test functions of both models outside the measurement.
    warm = min(len(x), 20 * args.batch_size)
    for mode in models:
        fit(mode, x[:warm], y[:warm], 1)

    seconds = {"plain": [], "trainer": []}
    for r in range(args.rounds):
        order = ("plain", "trainer") if r % 2 == 0 else ("trainer", "plain")
        for mode in order:
            seconds[mode].append(fit(mode, x, y, args.epochs))
        rates = {m: n_fit * args.epochs / seconds[m][-1] for m in models}
        print(
            f"round {r + 1}: plain {rates['plain']:8,.0f} samples/s   trainer {rates['trainer']:8,.0f} samples/s"
            f"   ratio {rates['trainer'] / rates['plain']:.3f}   (order: {' then '.join(order)})"
        )

    # A load-robust second figure: what the callback machinery itself costs per batch, without training.
    cost = callback_cost(models["trainer"], Run(spec, data.name, hp))
    batch_ms = 1000 * args.batch_size / statistics.median(n_fit * args.epochs / s for s in seconds["plain"])
    for mode in ("plain", "trainer"):
        print(f"callback dispatch per batch, {mode:7}: {cost[mode]:6.1f} µs")
    extra = cost["trainer"] - cost["plain"]
    print(
        f"trainer's extra cost per batch: {extra:.1f} µs = {100 * extra / (1000 * batch_ms):.3f} % of a "
        f"{batch_ms:.1f} ms training batch (an estimated ratio of {1 / (1 + extra / (1000 * batch_ms)):.3f})"
    )

    total = {m: n_fit * args.epochs * args.rounds / sum(seconds[m]) for m in models}
    median = {m: n_fit * args.epochs / statistics.median(seconds[m]) for m in models}
    ratio = total["trainer"] / total["plain"]
    print(f"plain model.fit : {total['plain']:8,.0f} samples/s overall, {median['plain']:8,.0f} median round")
    print(f"trainer         : {total['trainer']:8,.0f} samples/s overall, {median['trainer']:8,.0f} median round")
    print(
        f"ratio trainer/plain: {ratio:.3f} overall, {median['trainer'] / median['plain']:.3f} median "
        f"(target >= 0.97: {'met' if ratio >= 0.97 else 'NOT met'})"
    )
    print(
        f"trainer recorded {len(run.batch_history()):,} batches and {len(run.epoch_history())} epochs (warm-up included)"
    )


if __name__ == "__main__":
    main()
