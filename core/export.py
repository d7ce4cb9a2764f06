"""One zip bundle per run: a runnable training script, the trained model, the history and the metrics."""

from __future__ import annotations

import io
import json
import math
import zipfile

import pandas as pd

from core.model.codegen import training_script
from core.runs.record import Run
from core.runs.store import RunStore

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
"""


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


def _strict_json(value):
    """NaN and infinity (a diverged loss) become null: metrics.json stays valid JSON for every reader."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict_json(v) for v in value]
    return value


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


def run_bundle(run: Run, store: RunStore) -> bytes:
    """The zip file's bytes; the model is left out when the run saved none (it failed or is still training)."""
    folder = bundle_folder(run)
    model_path = store.model_path(run.id)
    has_model = model_path.exists()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        try:
            script = training_script(run.spec, run.dataset, run.hyperparameters, run.name or f"Run {run.id}")
            bundle.writestr(f"{folder}/train.py", script)
            script_lines = SCRIPT_LINES
        except ValueError as error:  # a data set no standalone script can load (e.g. one a user imported)
            script_lines = f"(no train.py: {error})\n"
        bundle.writestr(
            f"{folder}/README.txt",
            README_TITLE.format(run_id=run.id, name=run.name or "unnamed run")
            + script_lines
            + (MODEL_LINE if has_model else "")
            + DATA_LINES,
        )
        if has_model:
            bundle.write(model_path, f"{folder}/model.keras")
        bundle.writestr(f"{folder}/history.csv", history_csv(run))
        bundle.writestr(f"{folder}/metrics.json", json.dumps(_strict_json(metrics(run)), indent=2, allow_nan=False))
    return buffer.getvalue()
