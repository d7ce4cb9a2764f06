"""A model card for a trained run: what it was trained on, how well it does, where it fails, how big and
fast it is, and what it is (not) for, in plain words. Markdown, built from the run's stored numbers;
every name in it (the run's, the data set's, its classes' and target's) is escaped, so it shows as typed.

Only :func:`measure_prediction_speed` runs the model (Keras); everything else reads the run's record and saved
test predictions.
"""

from __future__ import annotations

import importlib.metadata
import math
import statistics
import time
from dataclasses import dataclass

import numpy as np

from core.insight.compare import format_value
from core.insight.mistakes import PredictionsUnavailable, confident_mistakes, load_predictions
from core.messages import counted
from core.model.augmentation import describe as describe_augmentation
from core.model.spec import analyze, dims_text, is_image_spec, merge_number
from core.runs.record import Run
from core.runs.store import RunStore
from core.text import markdown_literal as md
from core.text import size_text
from core.training.tasks import format_number, task_of_results

CONFUSED_PAIRS = 3
EXAMPLE_MISTAKES = 5
SPEED_REPEATS = 20


def app_version() -> str:
    try:
        return importlib.metadata.version("cnn-playground")
    except importlib.metadata.PackageNotFoundError:  # run from a source folder that was never installed
        return "unknown (not installed)"


@dataclass(frozen=True)
class PredictionSpeed:
    single_ms: float  # one input at a time: the median time of one prediction
    batch_ms: float  # per input, in one batch of ``batch`` inputs (median of a few)
    batch: int


def _median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_prediction_speed(model, inputs: np.ndarray) -> PredictionSpeed:
    """How long the Keras model takes per input on this computer (CPU), alone and in a batch of up to 256."""
    sample = np.asarray(inputs[:256], dtype=np.float32)
    model(sample[:1], training=False)  # the first calls trace the model: not part of the speed
    model(sample, training=False)
    single = _median_seconds(lambda: model(sample[:1], training=False), SPEED_REPEATS)
    batch = _median_seconds(lambda: model(sample, training=False), 5) / len(sample)
    return PredictionSpeed(1000 * single, 1000 * batch, len(sample))


def confused_pairs(matrix, limit: int = CONFUSED_PAIRS) -> list[tuple[int, int, int]]:
    """The (true, predicted, count) pairs the model mixes up most often, most first; only real mistakes."""
    matrix = np.asarray(matrix)
    off = [(int(matrix[t, p]), t, p) for t in range(len(matrix)) for p in range(len(matrix)) if t != p]
    off = sorted((c for c in off if c[0] > 0), key=lambda c: (-c[0], c[1], c[2]))
    return [(t, p, count) for count, t, p in off[:limit]]


def _pct(value) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f} %"


def _dataset_title(run: Run) -> str:
    from core.data.datasets import DatasetUnavailable, load_dataset

    try:
        return load_dataset(run.dataset).title
    except DatasetUnavailable:  # an imported data set deleted since
        return f"{run.dataset} (no longer on this server)"


# What a layer type that is not one Keras layer stands for, so the card says what the model is made of.
_GRAPH_WORDS = {
    "ResidualBlock": "convolutions with BatchNormalization whose input is added back: a skip connection",
    "Add": "an earlier layer's output added back: a skip connection",
    "Concatenate": "an earlier layer's output joined on: a skip connection",
}


def _layers_line(spec: dict) -> str:
    kinds = [layer.get("type", "?") for layer in spec.get("layers") or []]
    counts = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
    return ", ".join(f"{n} {k}" + (f" ({_GRAPH_WORDS[k]})" if k in _GRAPH_WORDS else "") for k, n in counts.items())


def _output_of(number: int, reports, spec: dict) -> str:
    """Where a path starts, in words: "the output of layer 2 (`max_pooling2d`)", or the model's input."""
    if number == 0:
        return "the input image" if is_image_spec(spec) else "the input row"
    return f"the output of layer {number} (`{reports[number - 1].name}`)"


def _skip_connections(spec: dict) -> list[str]:
    """One line for each residual block, Add and Concatenate: the block or layer, its shortcut (the earlier
    output it carries forward) and what it does with it."""
    layers, reports = spec.get("layers") or [], analyze(spec).layers
    lines = []
    for index, (layer, report) in enumerate(zip(layers, reports)):
        here = f"Layer {index + 1} (`{report.name}`)"
        projected = any(part.branch == "shortcut" for part in report.inner)
        main = _output_of(index, reports, spec)  # what the layer above gives: its input
        if report.type == "ResidualBlock":
            kernel, strides = layer.get("kernel_size"), layer.get("strides", 1)
            size = "×".join(map(str, kernel)) if isinstance(kernel, list) else f"{kernel}×{kernel}"
            stride = "" if strides in (1, [1, 1]) else f" (the first with stride {format_value(strides)})"
            lines.append(
                f"{here} is a residual block: {counted(int(layer.get('convs', 2)), 'convolution')} of "
                f"{layer.get('filters')} filters {size}{stride}, each followed by BatchNormalization. Its shortcut "
                f"carries the block's input, {main}, past them and adds it back to their result "
                + ("through a 1×1 convolution, since the block changes the shape." if projected else "as it is.")
            )
        elif report.type in ("Add", "Concatenate") and (number := merge_number(layer)) is not None:
            shortcut = f"{_output_of(number, reports, spec)}, carried forward by its shortcut"
            if report.type == "Add":
                through = " through a 1×1 convolution that gives it the same shape" if projected else ""
                lines.append(f"{here} adds {shortcut}{through}, to {main}.")
            else:
                shape = report.output_shape
                unit = "channels" if shape is not None and len(shape) == 3 else "values"
                together = f": {dims_text(shape)} together" if shape is not None else ""
                lines.append(f"{here} joins {shortcut}, on to {main} as more {unit}{together}.")
    return lines


def model_card(run: Run, store: RunStore, speed: PredictionSpeed | None = None, tflite_files=None) -> str:
    """The card as Markdown. ``speed`` and ``tflite_files`` (core.model.tflite.TFLiteFile) add their lines."""
    results = run.results or {}
    hp = run.hyperparameters
    regression = task_of_results(results).is_regression  # read as the results are (core.training.tasks)
    created = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.created))
    input_shape = "×".join(str(v) for v in run.spec.get("input_shape") or [])
    lines = [
        f"# Model card: {md(run.name or 'unnamed run')} (run {run.id})",
        "",
        f"Created {created} with CNN Playground {app_version()}. Status: {run.status}"
        + (f" — {md(run.message)}" if run.message else "")
        + ".",
        "",
        "## Data",
        "",
        f"- Data set: **{md(_dataset_title(run))}**, "
        + (f"images of {input_shape}." if is_image_spec(run.spec) else f"rows of {input_shape} numbers."),
    ]
    class_names = [md(name) for name in results.get("class_names") or []]
    if regression:
        lines.append(f"- Predicts one number: **{md(results.get('target_name', 'the target'))}**.")
    elif class_names:
        lines.append(f"- {len(class_names)} classes: {', '.join(class_names)}.")
    lines.append(
        f"- Trained on {'the first ' + format(hp.limit_train, ',') if hp.limit_train else 'all'} training examples "
        f"({100 * hp.validation_split:.0f} % of them held back for validation); tested on "
        f"{results.get('test_examples', 0):,} test examples it never trained on."
    )
    lines += [
        "",
        "## Model and training",
        "",
        f"- {run.params:,} parameters in {len(run.spec.get('layers') or [])} layers: {_layers_line(run.spec)}.",
    ]
    if skips := _skip_connections(run.spec):
        lines.append(
            "- Skip connections: a shortcut carries an earlier output past the layers in between and adds it "
            "back (or joins it on), so those layers learn a change to it rather than all of it anew:"
        )
        lines += [f"  - {line}" for line in skips]
    lines += [
        f"- Optimizer {hp.optimizer}, learning rate {hp.effective_learning_rate:g}, batch size {hp.batch_size}, "
        f"{run.epoch} of {counted(hp.epochs, 'epoch')} trained, seed {hp.seed}"
        + (
            f", early stopping after {hp.early_stopping_patience} epochs without progress"
            if hp.early_stopping_patience
            else ""
        )
        + ".",
    ]
    if augmentation := describe_augmentation(run.spec):
        lines.append(
            f"- Augmentation: {augmentation} (while training only; test images and predictions are not changed)."
        )
    if results.get("train_seconds") is not None:
        lines.append(f"- Training took {results['train_seconds']:.0f} s on this server's CPU.")
    lines += ["", "## How well it does", ""]
    predictions = None
    if regression:
        lines += _regression_results(results)
    elif results.get("test_accuracy") is not None:
        lines += _classification_results(results, class_names)
        try:
            predictions = load_predictions(store, run.id)
        except PredictionsUnavailable:
            predictions = None
        if predictions is not None:
            lines += _mistakes(predictions, class_names)
    else:
        lines.append("This run has no test results (it did not reach the test set).")
    lines += ["", "## Size and speed", ""]
    lines += _size_and_speed(run, store, speed, tflite_files)
    lines += ["", "## Intended use and limits", ""]
    lines += _use_and_limits(run, results, class_names, regression)
    return "\n".join(lines) + "\n"


def _classification_results(results: dict, class_names) -> list[str]:
    lines = [
        f"- Test accuracy: **{_pct(results['test_accuracy'])}** (test loss {results.get('test_loss', float('nan')):.4f}).",
        "",
        "| Class | Accuracy on its test images |",
        "| --- | --- |",
    ]
    per_class = results.get("per_class_accuracy") or []
    lines += [f"| {name} | {_pct(acc)} |" for name, acc in zip(class_names, per_class)]
    pairs = confused_pairs(results.get("confusion_matrix") or [[0]])
    if pairs:
        lines += ["", "Most confused pairs (true class → what the model said):", ""]
        lines += [f"- {class_names[t]} → {class_names[p]}: {count} test images" for t, p, count in pairs]
    return lines


def _mistakes(predictions, class_names) -> list[str]:
    examples = confident_mistakes(predictions, EXAMPLE_MISTAKES)
    if not examples:
        return ["", "It got every test image right."]
    lines = ["", "Example mistakes (the ones it was surest about):", ""]
    lines += [
        f"- test image {e.index}: of the class {class_names[e.true]}, taken for {class_names[e.predicted]} "
        f"({_pct(e.confidence)} sure)"
        for e in examples
    ]
    return lines


def _regression_results(results: dict) -> list[str]:
    r2 = results.get("test_r2")
    return [
        f"- Test mean absolute error (MAE): **{format_number(results['test_mae'])}**, root mean squared error "
        f"{format_number(results['test_rmse'])} (in the target's own units).",
        f"- R²: {r2:.3f} (1 would be perfect, 0 no better than always guessing the mean)."
        if r2 is not None
        else "- R²: undefined (the test targets do not vary).",
    ]


def _size_and_speed(run: Run, store: RunStore, speed: PredictionSpeed | None, tflite_files) -> list[str]:
    lines = [f"- {run.params:,} parameters ({size_text(run.params * 4)} as float32 weights)."]
    model_path = store.model_path(run.id)
    if model_path.is_file():
        lines.append(f"- The Keras file (model.keras) is {size_text(model_path.stat().st_size)}.")
    for file in tflite_files or []:
        measured = "accuracy" if file.metric == "accuracy" else "MAE"
        value = _pct(file.tflite_value) if file.metric == "accuracy" else format_number(file.tflite_value)
        keras = _pct(file.keras_value) if file.metric == "accuracy" else format_number(file.keras_value)
        lines.append(
            f"- TensorFlow Lite {file.kind} ({file.filename}): {size_text(file.size_bytes)}, test {measured} {value} "
            f"(Keras: {keras}, same {file.test_examples:,} test examples)."
        )
    if speed is not None:
        item = "image" if is_image_spec(run.spec) else "row"
        lines.append(
            f"- Speed on this server's CPU: {speed.single_ms:.1f} ms for one {item} alone, "
            f"{speed.batch_ms:.3f} ms per {item} in a batch of {speed.batch}."
        )
    return lines


def _use_and_limits(run: Run, results: dict, class_names, regression: bool) -> list[str]:
    dataset = md(_dataset_title(run))
    if regression:
        lines = [
            f"- Made for learning: it predicts {md(results.get('target_name', 'the target'))} from rows like those of "
            f"{dataset}. Rows from elsewhere, or values far outside the training rows' range, can give "
            "confidently wrong numbers.",
        ]
    else:
        lines = [
            f"- Made for learning and experiments: it sorts images like those of {dataset} into "
            f"{len(class_names)} classes. It knows nothing else: any other picture is still put into one of "
            "these classes, often with high certainty.",
            "- Images must look like the training images (same size, colours and framing, object centred): "
            "photos taken differently are likely to be misclassified.",
        ]
        per_class = [
            (acc, name) for name, acc in zip(class_names, results.get("per_class_accuracy") or []) if acc is not None
        ]
        if per_class:
            acc, name = min(per_class)
            lines.append(f"- Weakest class: {name} ({_pct(acc)} right on its test images).")
    lines.append(
        "- The test figures come from one test set; on new data expect them to be lower, not higher. "
        "Do not use it for decisions that matter to people."
    )
    return lines
