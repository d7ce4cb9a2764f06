"""A run's TensorFlow Lite files, float32 and int8 (core.model.tflite converts and measures them).

Files are kept beside the run's ``.keras`` model with a small JSON report, and made again when the
model changes (e.g. after "train more"). A run whose model is missing or cannot be converted gets a plain
TFLiteUnavailable message, never a traceback, and no half-made set of files.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.data.datasets import DatasetUnavailable, load_dataset
from core.model.tflite import (
    EVAL_BATCH,
    KINDS,
    REPRESENTATIVE_SAMPLES,
    TFLiteFile,
    TFLiteUnavailable,
    check_layers,
    convert,
    predict,
    score,
)
from core.runs.record import Run
from core.runs.store import RunStore


def _run_data(run: Run):
    try:
        data = load_dataset(run.dataset)
    except DatasetUnavailable as error:
        raise TFLiteUnavailable(f"The run's data set is not available, so nothing can be measured: {error}") from None
    hp = run.hyperparameters
    x_test = data.as_float("x_test")[: hp.limit_test or None]
    y_test = data.y_test[: hp.limit_test or None]
    train = data.as_float("x_train")[: hp.limit_train or None]
    picks = np.random.default_rng(0).choice(len(train), min(REPRESENTATIVE_SAMPLES, len(train)), replace=False)
    metric = run.task.metric  # accuracy, or a regression's mean absolute error (core.model.tflite.score)
    return train[np.sort(picks)], x_test, y_test, metric


def paths(store: RunStore, run_id: str) -> dict[str, Path]:
    folder = store.models_dir
    return {kind: folder / f"{run_id}.{kind}.tflite" for kind in KINDS} | {"report": folder / f"{run_id}.tflite.json"}


def _model_stamp(store: RunStore, run_id: str) -> int:
    return store.model_path(run_id).stat().st_mtime_ns


def saved_files(store: RunStore, run_id: str) -> list[TFLiteFile] | None:
    """The run's TFLite files' report when they exist and were made from its current model, else None."""
    where = paths(store, run_id)
    try:
        report = json.loads(where["report"].read_text())
        if report["model_stamp"] != _model_stamp(store, run_id) or not all(where[k].is_file() for k in KINDS):
            return None
        return [TFLiteFile(**entry) for entry in report["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def make_files(store: RunStore, run: Run, model=None) -> list[TFLiteFile]:
    """Convert the run's model to float32 and int8 TFLite, measure both on its test set, keep them.

    Returns the saved report if the files are already there for the current model. ``model`` is the
    run's loaded model, when the caller has it open already.
    Raises TFLiteUnavailable with a plain message when the run has no model or it cannot be converted.
    """
    from core.insight.inspection import ModelUnavailable, load_run_model  # TensorFlow: only to make the files

    existing = saved_files(store, run.id)
    if existing is not None:
        return existing
    check_layers(run.spec)
    try:
        model = model if model is not None else load_run_model(store, run.id)
    except ModelUnavailable as error:
        raise TFLiteUnavailable(str(error)) from None
    stamp = _model_stamp(store, run.id)
    representative, x_test, y_test, metric = _run_data(run)
    keras_value = score(model.predict(x_test, batch_size=EVAL_BATCH, verbose=0), y_test, metric)
    where = paths(store, run.id)
    files = []
    try:
        for kind in KINDS:
            content = convert(model, kind, representative)
            value = score(predict(content, x_test, f"the {kind} file"), y_test, metric)
            where[kind].write_bytes(content)
            files.append(TFLiteFile(kind, len(content), metric, value, keras_value, int(len(y_test))))
    except TFLiteUnavailable:
        for kind in KINDS:  # no half-made set: the files come as a pair, with their report
            where[kind].unlink(missing_ok=True)
        raise
    where["report"].write_text(json.dumps({"model_stamp": stamp, "files": [asdict(f) for f in files]}))
    return files
