"""Where one epoch of model 1 goes: its layers' kernels, plain model.fit, validation, the trainer.

model 1 with its app defaults (Adam 0.002, batch 128, validation split 0.1) on Fashion-MNIST, in one
process, after a warm-up that traces every function measured:

- **kernels**: each layer's forward + backward pass timed alone on a batch of 128 (a tf.function per
  layer, median of `--repeats` calls), times the batches of an epoch; plus the optimizer's update of all
  weights and the validation forward passes. Their sum is what the epoch would take with no overhead
  between the kernels (no input pipeline, no Python per step, no callbacks);
- **plain fit**: `model.fit` on the 54,000 training images, no validation, no callbacks but a timer of
  the epoch itself (the fit call's set-up of the data, outside the epoch, is printed apart);
- **plain fit + validation**: the same with `validation_split=0.1` (what the app does), at the fit's batch
  size and at the trainer's validation batch size;
- **trainer**: core's `train_run` (the RunRecorder callback streaming every batch into a Run, validation,
  as the app trains), its second epoch (the first one traces the functions).

Prints each figure per round (rounds alternate the order), the medians, and the ratios to the kernel sum
and to plain fit. The machine's load is printed too: on a shared 2-core machine ratios within one run are
what to read, not the absolute seconds.

    .venv/bin/python -m bench.epoch_profile [--rounds 2] [--repeats 20] [--inter-op N] [--intra-op N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench import _common  # noqa: F401  (quiet TensorFlow, offline)


def median_seconds(function, repeats: int) -> float:
    function()  # trace
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def kernel_times(model, batch: int, repeats: int) -> dict[str, float]:
    """Seconds per batch of each layer's forward + backward pass, the optimizer update, a forward pass."""
    import keras
    import numpy as np
    import tensorflow as tf

    times = {}
    x = tf.constant(np.random.default_rng(0).random((batch, *model.input_shape[1:]), dtype=np.float32))
    for index, layer in enumerate(model.layers):
        weights = layer.trainable_weights
        needs_input_gradient = index > 0  # Keras never computes the gradient of the images themselves

        @tf.function
        def step(x, layer=layer, weights=weights, needs_input_gradient=needs_input_gradient):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=True)
                total = tf.reduce_sum(y)
            sources = ([x] if needs_input_gradient else []) + list(weights)
            return tape.gradient(total, sources) if sources else total

        times[f"{layer.name} ({type(layer).__name__})"] = median_seconds(lambda step=step, x=x: step(x), repeats)
        x = layer(x, training=False)
    optimizer = keras.optimizers.Adam(0.002)
    optimizer.build(model.trainable_variables)
    grads = [tf.ones_like(v) * 1e-6 for v in model.trainable_variables]

    @tf.function
    def update():
        optimizer.apply(grads, model.trainable_variables)

    times["optimizer (Adam update)"] = median_seconds(update, repeats)
    images = tf.constant(np.zeros((batch, *model.input_shape[1:]), dtype=np.float32))

    @tf.function
    def forward():
        return model(images, training=False)

    times["forward pass (validation)"] = median_seconds(forward, repeats)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20, help="calls per kernel timing (median)")
    parser.add_argument("--inter-op", type=int, help="TensorFlow inter-op threads (default: TensorFlow's)")
    parser.add_argument("--intra-op", type=int, help="TensorFlow intra-op threads (default: TensorFlow's)")
    args = parser.parse_args()

    import tensorflow as tf

    if args.inter_op:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
    if args.intra_op:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op)
    import keras

    from core.data.datasets import load_dataset
    from core.model.keras_build import build_model
    from core.runs.record import Run
    from core.runs.trainer import VALIDATION_BATCH, train_run
    from core.training.presets import PRESETS

    print(_common.machine(), flush=True)
    preset = PRESETS["model1"]
    hp = preset.app_hyperparameters
    data = load_dataset("fashion_mnist")
    x, y = data.as_float("x_train"), data.y_train
    n_fit = len(x) - int(len(x) * hp.validation_split)
    n_val = len(x) - n_fit
    steps, val_steps = -(-n_fit // hp.batch_size), -(-n_val // hp.batch_size)
    print(
        f"model1, Adam {hp.learning_rate}, batch {hp.batch_size}: {n_fit:,} training images ({steps} batches), "
        f"{n_val:,} validation images; intra-op threads {tf.config.threading.get_intra_op_parallelism_threads()}"
        f" (0 = TensorFlow's default), inter-op {tf.config.threading.get_inter_op_parallelism_threads()}",
        flush=True,
    )

    def new_model():
        keras.utils.set_random_seed(hp.seed)
        model = build_model(preset.spec())
        model.compile(
            optimizer=keras.optimizers.Adam(hp.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    model = new_model()
    kernels = kernel_times(model, hp.batch_size, args.repeats)
    per_epoch = {name: seconds * (val_steps if "validation" in name else steps) for name, seconds in kernels.items()}
    kernel_sum = sum(v for k, v in per_epoch.items() if "validation" not in k)
    kernel_sum_val = sum(per_epoch.values())
    print("\nkernels, seconds per epoch (per batch × batches):")
    for name, seconds in sorted(per_epoch.items(), key=lambda kv: -kv[1]):
        print(f"  {name:34} {seconds:6.2f} s  ({1000 * kernels[name]:.2f} ms per batch)")
    print(f"  {'sum, training only':34} {kernel_sum:6.2f} s")
    print(f"  {'sum, with validation':34} {kernel_sum_val:6.2f} s", flush=True)

    class EpochTimer(keras.callbacks.Callback):
        """The epoch alone (as the trainer's RunRecorder times it), without fit's set-up of the data."""

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = time.perf_counter() - self.started

    def plain(validation_split=0.0, validation_batch_size=None):
        model = new_model()
        model.fit(x[:2048], y[:2048], batch_size=hp.batch_size, epochs=1, verbose=0, validation_split=validation_split)
        timer = EpochTimer()
        start = time.perf_counter()
        model.fit(
            x if validation_split else x[:n_fit],
            y if validation_split else y[:n_fit],
            batch_size=hp.batch_size,
            epochs=1,
            verbose=0,
            validation_split=validation_split,
            validation_batch_size=validation_batch_size,
            callbacks=[timer],
        )
        setup.append(time.perf_counter() - start - timer.seconds)
        return timer.seconds

    def trainer():
        run = Run(preset.spec(), "fashion_mnist", type(hp)(**{**hp.to_dict(), "epochs": 2}))
        ending = train_run(run)
        run.finish(ending.status, ending.message, ending.results)
        return run.epoch_history()[-1]["seconds"]

    measures = {
        "plain fit, no validation": lambda: plain(),
        f"plain fit + validation (batch {hp.batch_size})": lambda: plain(hp.validation_split),
        f"plain fit + validation (batch {VALIDATION_BATCH})": lambda: plain(hp.validation_split, VALIDATION_BATCH),
        "trainer (train_run), 2nd epoch": trainer,
    }
    results = {name: [] for name in measures}
    setup = []  # seconds of each plain fit call outside its epoch: the data's conversion, the iterator
    for round_ in range(args.rounds):
        order = list(measures) if round_ % 2 == 0 else list(reversed(measures))
        for name in order:
            results[name].append(measures[name]())
        print(
            f"round {round_ + 1} (load {os.getloadavg()[0]:.1f}): "
            + ", ".join(f"{n}: {results[n][-1]:.1f} s" for n in measures),
            flush=True,
        )
    base = statistics.median(results["plain fit, no validation"])
    print("\nmedians:")
    for name, values in results.items():
        med = statistics.median(values)
        print(f"  {name:40} {med:6.2f} s   {med / base:4.2f}× plain fit   {med / kernel_sum:4.2f}× kernel sum")
    print(f"  {'kernel sum (training only)':40} {kernel_sum:6.2f} s   {kernel_sum / base:4.2f}× plain fit")
    print(f"  {'a fit call outside its epoch (set-up)':40} {statistics.median(setup):6.2f} s")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
