"""One zip bundle per run: a runnable training script, the trained model, the history and the metrics, the
model card, the architecture picture and the model for phones (TensorFlow Lite, float32 and int8)."""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from dataclasses import dataclass

import pandas as pd

from core.model.diagram import build_diagram, to_png, to_svg
from core.numbers import strict_json
from core.runs.record import Run
from core.runs.store import RunStore
from core.training.codegen import training_script

HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "mae", "val_loss", "val_accuracy", "val_mae", "seconds")

README_TITLE = "CNN Playground run {run_id}: {name}\n\n"
SCRIPT_LINES = """train.py       rebuilds the model and trains it again with the same hyperparameters and seed:
               python train.py            (add --epochs 1 --limit-train 500 for a quick try)
               It needs Python with keras and numpy installed (pip install keras tensorflow).
"""
MODEL_LINE = 'model.keras    the trained model: keras.saving.load_model("model.keras")\n'
DATA_LINES = """history.csv    accuracy (a regression: MAE) and loss after every epoch (training and validation)
metrics.json   the test results and the settings used: test accuracy and loss, confusion matrix and
               per-class accuracy (a regression: test MAE, RMSE and R²)
model_card.md  the model card: data, training settings, test results, mistakes, size and speed, intended
               use and limits, in plain words
architecture.svg, architecture.png   the model drawn as a picture (same drawing, two formats)
"""
TFLITE_LINES = """model_float32.tflite   TensorFlow Lite model for phones and small devices, full precision
model_int8.tflite      the same, quantized to 8-bit integers (about 4× smaller); model_card.md lists
                       both files' size and test accuracy measured with the TFLite interpreter
"""


@dataclass(frozen=True)
class Bundle:
    content: bytes  # the zip file
    no_phone_files: str = ""  # why it holds no .tflite files, in plain words ("" when it holds them)


def bundle_folder(run: Run) -> str:
    return f"cnn-playground-{run.id}"


def history_csv(run: Run) -> str:
    """The per-epoch history, known columns first, one row per epoch."""
    frame = pd.DataFrame(run.epoch_history())
    if frame.empty:
        return ",".join(HISTORY_COLUMNS[:1]) + "\n"
    ordered = [c for c in HISTORY_COLUMNS if c in frame.columns]
    frame = frame[ordered + [c for c in frame.columns if c not in ordered]]
    return frame.to_csv(index=False)


def metrics(run: Run) -> dict:
    results = run.results or {}
    history = run.epoch_history()
    return {
        "run_id": run.id,
        "name": run.name,
        "status": run.status,
        "message": run.message,
        "cloned_from": run.parent_id,
        "dataset": run.dataset,
        "params": run.params,
        "epochs_completed": run.epoch,
        "test_accuracy": results.get("test_accuracy"),
        "test_loss": results.get("test_loss"),
        "train_seconds": results.get("train_seconds"),
        "final_epoch": history[-1] if history else None,
        "results": results,
        "hyperparameters": run.hyperparameters.to_dict(),
        "spec": run.spec,
    }


def _phone_files_and_speed(run: Run, store: RunStore):
    """The run's TFLite files (made once, kept beside its model) and its speed, or why there are none."""
    from core.data.datasets import DatasetUnavailable, load_dataset
    from core.insight import tflite_files
    from core.insight.inspection import ModelUnavailable, load_run_model
    from core.insight.model_card import measure_prediction_speed
    from core.model import tflite

    try:
        model = load_run_model(store, run.id)
    except ModelUnavailable as error:
        return [], None, str(error)
    try:
        speed = measure_prediction_speed(model, load_dataset(run.dataset).as_float("x_test"))
    except DatasetUnavailable:
        speed = None
    try:
        return tflite_files.make_files(store, run, model), speed, ""
    except tflite.TFLiteUnavailable as error:
        return [], speed, str(error)


# Every file a bundle can hold, in the order written, with what it is (the download button says them all).
BUNDLE_FILES: dict[str, str] = {
    "train.py": "a Python script that rebuilds and retrains this model with the same settings and seed",
    "README.txt": "what each file is and how to run the script",
    "model.keras": "the trained model",
    "history.csv": "the history of every epoch",
    "metrics.json": "the test metrics",
    "model_card.md": "the model card",
    "architecture.svg": "the architecture picture",
    "architecture.png": "the same picture as PNG",
    "model_float32.tflite": "the model for phones (TensorFlow Lite)",
    "model_int8.tflite": "the same, quantized to 8 bits",
}


def bundle_contents() -> str:
    """The files of a bundle in one sentence, for the download button's help."""
    return "; ".join(f"{name}: {what}" for name, what in BUNDLE_FILES.items()) + "."


def run_bundle(run: Run, store: RunStore, with_phone_model: bool = True) -> bytes:
    """The zip file's bytes (see ``build_bundle``)."""
    return build_bundle(run, store, with_phone_model).content


def _no_phone_files_note(reason: str) -> str:
    return textwrap.fill(f"(no .tflite files: {reason})", width=110, subsequent_indent=" ") + "\n"


def build_bundle(run: Run, store: RunStore, with_phone_model: bool = True) -> Bundle:
    """The zip file, and why it has no TFLite files when it has none; the model is left out when the run
    saved none (it failed or is still training).

    With ``with_phone_model`` the TFLite files are made the first time (a few seconds) and kept beside the
    run's model, and the model card gets the model's measured speed. A model TensorFlow Lite cannot take
    still gets everything else, with README.txt saying why the .tflite files are missing.
    """
    from core.insight import tflite_files
    from core.insight.model_card import model_card

    folder = bundle_folder(run)
    model_path = store.model_path(run.id)
    has_model = model_path.exists()
    phone_files, speed, no_phone_reason = [], None, "this run saved no trained model"
    if has_model and with_phone_model:
        phone_files, speed, no_phone_reason = _phone_files_and_speed(run, store)
    elif has_model:
        no_phone_reason = "left out of this download"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        try:
            script = training_script(
                run.spec,
                run.dataset,
                run.hyperparameters,
                run.name or f"Run {run.id}",
                (run.results or {}).get("batch_norm_momentum"),
            )
            bundle.writestr(f"{folder}/train.py", script)
            script_lines = SCRIPT_LINES
        except ValueError as error:  # a data set no standalone script can load (e.g. one a user imported)
            script_lines = f"(no train.py: {error})\n"
        bundle.writestr(
            f"{folder}/README.txt",
            README_TITLE.format(run_id=run.id, name=run.name or "unnamed run")
            + script_lines
            + (MODEL_LINE if has_model else "")
            + DATA_LINES
            + (TFLITE_LINES if phone_files else _no_phone_files_note(no_phone_reason)),
        )
        if has_model:
            bundle.write(model_path, f"{folder}/model.keras")
        bundle.writestr(f"{folder}/history.csv", history_csv(run))
        bundle.writestr(f"{folder}/metrics.json", json.dumps(strict_json(metrics(run)), indent=2, allow_nan=False))
        bundle.writestr(f"{folder}/model_card.md", model_card(run, store, speed, phone_files))
        diagram = build_diagram(run.spec, run.name or f"Run {run.id}")
        bundle.writestr(f"{folder}/architecture.svg", to_svg(diagram))
        bundle.writestr(f"{folder}/architecture.png", to_png(diagram))
        for file in phone_files:
            bundle.write(tflite_files.paths(store, run.id)[file.kind], f"{folder}/{file.filename}")
    return Bundle(buffer.getvalue(), "" if phone_files else no_phone_reason)
