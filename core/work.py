"""A learner's file of work: one zip with their runs (and, if they choose, their imported data sets) that
any browser or server opens again as that browser's own runs.

Saving writes the owner's ended runs — record, epoch and batch history, results, trained model and test
predictions — and optionally their imported data sets. Opening checks the whole file before anything is
written: its size and entries by the zip rules every upload follows (core.data.image_import), every JSON
member through the door (core.training.validation: size, nesting, types, ranges), every model against its run's
spec (core.runs.model_file), every array file for what it may hold. Then the runs and data sets are
written under new ids, owned by the one who opens the file; a fault while writing removes what was
written, so nothing partial is left. A file refers to nothing on the server it came from: links to a
classroom challenge or an experiment are dropped, and runs already among the owner's are not copied twice.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import time
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from core.config import MAX_UPLOAD_MB
from core.data.datasets import CLASSIFICATION, DATASETS, REGRESSION, USER_PREFIX
from core.data.image_import import (
    MAX_TITLE,
    ImportLimits,
    MemberRefused,
    archive_problem,
    printable,
    read_member,
    unsafe_member_reason,
)
from core.data.user_datasets import ARRAYS, UserDatasetStore, is_user_dataset
from core.disk import READ_ONLY, disk_problem
from core.numbers import is_finite_number, is_whole_number, strict_json
from core.runs.model_file import ModelFileRefused, check_keras_file
from core.runs.record import Run, Status, new_run_id
from core.runs.store import RunStore, is_run_id
from core.training.hyperparams import MAX_EPOCHS
from core.training.tasks import TASKS
from core.training.validation import InvalidInput, check_hyperparameters, check_spec, load_json

FORMAT = "cnn-playground-work"
VERSION = 1
MB = 1024 * 1024
_RUN_FILES = ("run.json", "epochs.json", "batches.json", "model.keras", "predictions.npz")
_DATASET_FILES = ("meta.json", "data.npz")
_MEMBER = re.compile(
    r"manifest\.json|runs/(?P<run>[0-9a-f]{12})/(?P<run_file>[a-z.]+)|datasets/(?P<dataset>own-[0-9a-f]{12})/(?P<dataset_file>[a-z.]+)"
)
PREDICTION_ARRAYS = {CLASSIFICATION: ("probabilities", "y_true"), REGRESSION: ("predictions", "y_true")}


class WorkFileError(Exception):
    """A file of work cannot be saved or opened; the message says why in plain words."""


@dataclass(frozen=True)
class WorkLimits:
    """What a file of work may hold. The file itself is limited like every upload (the web server's limit)."""

    max_file_mb: int = MAX_UPLOAD_MB
    max_unpacked_mb: int = 2_000  # all members together, as the archive declares them
    max_runs: int = 1_000
    max_datasets: int = 50
    max_record_bytes: int = 256_000  # one run's settings and results (run.json)
    max_history_bytes: int = 200 * MB  # one run's batch history: 200 epochs of small batches
    max_examples: int = 1_000_000  # test predictions of one run; examples of one data set part

    def zip_limits(self) -> ImportLimits:
        files = 1 + len(_RUN_FILES) * self.max_runs + len(_DATASET_FILES) * self.max_datasets
        return ImportLimits(
            max_archive_mb=self.max_file_mb,
            max_files=files,
            max_total_mb=self.max_unpacked_mb,
            max_file_mb=self.max_unpacked_mb,
        )


@dataclass(frozen=True)
class SavedWork:
    data: bytes
    runs: int
    datasets: int
    left_out: int  # runs still training or waiting (saved once they end)

    def text(self) -> str:
        parts = [_count(self.runs, "run")] + ([_count(self.datasets, "data set")] if self.datasets else [])
        text = f"Your file of work holds {' and '.join(parts)} ({len(self.data) / MB:.1f} MB)."
        if self.left_out:
            text += f" {_count(self.left_out, 'run')} still training or waiting are not in it."
        return text


@dataclass(frozen=True)
class OpenedWork:
    runs: list[str] = field(default_factory=list)  # the new run ids
    datasets: list[str] = field(default_factory=list)  # the new data set names
    already_runs: int = 0  # runs of the file already among the owner's
    already_datasets: int = 0

    def text(self) -> str:
        if not self.runs and not self.datasets:
            return "Nothing new was opened: everything in this file is already among your work."
        parts = [_count(len(self.runs), "run")] + ([_count(len(self.datasets), "data set")] if self.datasets else [])
        text = f"Opened {' and '.join(parts)}."
        if self.already_runs or self.already_datasets:
            already = [
                _count(n, what) for n, what in ((self.already_runs, "run"), (self.already_datasets, "data set")) if n
            ]
            text += f" {' and '.join(already)} of the file {'was' if self.already_runs + self.already_datasets == 1 else 'were'} already yours and not copied again."
        return text


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


# --- saving ----------------------------------------------------------------------------------------


def has_work(store: RunStore, datasets: UserDatasetStore, owner: str) -> bool:
    """Whether ``owner`` has any run or imported data set on this server."""
    return bool(store.list(owner)) or bool(datasets.list(owner))


def _json_bytes(value) -> bytes:
    return json.dumps(strict_json(value), allow_nan=False, separators=(",", ":")).encode()


def add_run(archive: zipfile.ZipFile, store: RunStore, run: Run) -> None:
    """Write one ended run into ``archive`` under ``runs/ID/``: record, histories, model and predictions."""
    full = store.load(run.id) or run  # with its batch history
    folder = f"runs/{run.id}/"
    archive.writestr(folder + "run.json", _json_bytes({**full.summary_record(), "owner": ""}))
    archive.writestr(folder + "epochs.json", _json_bytes(full.epoch_history()))
    archive.writestr(folder + "batches.json", _json_bytes(full.batch_history()))
    for name, path in (("model.keras", store.model_path(run.id)), ("predictions.npz", store.predictions_path(run.id))):
        if path.is_file():
            archive.write(path, folder + name)


def add_dataset(archive: zipfile.ZipFile, datasets: UserDatasetStore, meta: dict) -> None:
    """Write one imported data set into ``archive`` under ``datasets/NAME/``: its description and arrays."""
    folder = f"datasets/{meta['id']}/"
    kept = {k: meta[k] for k in ("id", "title", "task", "created", "class_names", "feature_names", "target_name")}
    archive.writestr(folder + "meta.json", _json_bytes(kept))
    archive.write(datasets.dir / f"{meta['id']}.npz", folder + "data.npz")


def _files_size(store: RunStore, datasets: UserDatasetStore, runs: list[Run], metas: list[dict]) -> int:
    paths = [p for r in runs for p in (store.model_path(r.id), store.predictions_path(r.id))]
    paths += [datasets.dir / f"{m['id']}.npz" for m in metas]
    return sum(p.stat().st_size for p in paths if p.is_file())


def save_work(
    store: RunStore,
    datasets: UserDatasetStore,
    owner: str,
    *,
    include_datasets: bool = False,
    limits: WorkLimits | None = None,
) -> SavedWork:
    """``owner``'s ended runs (and imported data sets, when asked) as one zip; WorkFileError when there is
    nothing to save or the file would be too large to open again."""
    limits = limits or WorkLimits()
    everything = store.list(owner)
    runs = [r for r in everything if r.status not in Status.ACTIVE]
    metas = datasets.list(owner) if include_datasets else []
    if not runs and not metas:
        raise WorkFileError(
            "There is nothing to save yet: your file of work holds your finished runs"
            + (" and your imported data sets." if include_datasets else ".")
        )
    if len(runs) > limits.max_runs or len(metas) > limits.max_datasets:
        raise WorkFileError(
            f"A file of work holds at most {limits.max_runs:,} runs and {limits.max_datasets} data sets: "
            "delete some first."
        )
    too_large = f"more than the {limits.max_file_mb} MB a file of work may be (so that it can be opened again): " + (
        "leave out your data sets, or delete some runs." if metas else "delete some runs you no longer need."
    )
    estimate = _files_size(store, datasets, runs, metas)  # models and arrays are compressed already
    if estimate > limits.max_file_mb * MB:
        raise WorkFileError(f"Your work is about {estimate / MB:,.0f} MB, {too_large}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest = {"format": FORMAT, "version": VERSION, "created": time.time(), "runs": [r.id for r in runs]}
        archive.writestr("manifest.json", _json_bytes({**manifest, "datasets": [m["id"] for m in metas]}))
        for run in runs:
            add_run(archive, store, run)
        for meta in metas:
            add_dataset(archive, datasets, meta)
    data = buffer.getvalue()
    if len(data) > limits.max_file_mb * MB:
        raise WorkFileError(f"Your work is {len(data) / MB:,.1f} MB, {too_large}")
    return SavedWork(data, len(runs), len(metas), len(everything) - len(runs))


# --- reading a file: every member checked before anything is written --------------------------------


class WorkArchive:
    """A zip someone handed in, opened under the zip rules: nothing is read before the whole archive passed,
    and each member is read at most as large as it declared."""

    def __init__(self, source, limits: WorkLimits, what: str = "file of work", pattern: re.Pattern = _MEMBER):
        self.limits, self.what = limits, what
        data = _source_bytes(source, limits, what)
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise WorkFileError(
                f"This is not a {what} (it is not a zip file, or it is damaged). Use a file saved with Save my work."
            ) from None
        infos = self.zip.infolist()
        problem = archive_problem(infos, limits.zip_limits())
        if problem:
            raise WorkFileError(f"This {what} is refused: {problem}")
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            unsafe = unsafe_member_reason(info)
            if unsafe:
                raise WorkFileError(f"This {what} is refused: it holds {printable(info.filename)}, {unsafe}.")
            if pattern.fullmatch(info.filename) is None or info.is_dir():
                raise WorkFileError(
                    f"This {what} is refused: it holds {printable(info.filename)}, which a {what} never has."
                )
            if info.filename in self.infos:
                raise WorkFileError(f"This {what} is refused: it holds {printable(info.filename)} twice.")
            self.infos[info.filename] = info

    def names(self) -> list[str]:
        return list(self.infos)

    def has(self, name: str) -> bool:
        return name in self.infos

    def read(self, name: str) -> bytes:
        if name not in self.infos:
            raise WorkFileError(f"This {self.what} is incomplete: {printable(name)} is missing.")
        try:
            return read_member(self.zip, self.infos[name])
        except MemberRefused as error:
            raise WorkFileError(f"This {self.what} is refused: {printable(name)} is {error}.") from None

    def json(self, name: str, *, max_bytes: int, max_depth: int = 8):
        try:
            return load_json(
                self.read(name), what=f"{printable(name)} in this {self.what}", max_bytes=max_bytes, max_depth=max_depth
            )
        except InvalidInput as error:
            raise WorkFileError(str(error)) from None


def _source_bytes(source, limits: WorkLimits, what: str) -> bytes:
    """The file's bytes (from bytes or a path), refused over the size limit before it is read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        size = len(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise WorkFileError(f"The file {printable(str(path))} does not exist.")
        size = path.stat().st_size
    if size > limits.max_file_mb * MB:
        raise WorkFileError(f"The {what} is {size / MB:,.1f} MB; at most {limits.max_file_mb} MB are allowed.")
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    return Path(source).read_bytes()


def read_arrays(data: bytes, what: str, limits: WorkLimits) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file (itself a zip: judged by the same rules), never pickled objects."""
    try:
        inner = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise WorkFileError(f"{what} is not an array file (.npz).") from None
    with inner:
        infos = inner.infolist()
        problem = archive_problem(infos, replace(limits.zip_limits(), max_files=16))
        if problem or any(unsafe_member_reason(i) for i in infos):
            raise WorkFileError(f"{what} is refused: {problem or 'it holds a link or an unsafe name'}")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            values = {key: np.asarray(arrays[key]) for key in arrays.files}
    except Exception:  # numpy raises ValueError, OSError, zipfile errors... for a damaged or pickled file
        raise WorkFileError(f"{what} cannot be read as arrays (it is damaged, or holds objects).") from None
    for key, value in values.items():
        if value.dtype.kind not in "biuf":
            raise WorkFileError(f"{what} holds {printable(key, 40)}, which is not numbers.")
    return values


# --- the checks of one run ---------------------------------------------------------------------------


def _fail(what: str, problem: str):
    raise WorkFileError(f"{what} cannot be opened: {problem}")


def _string(record: dict, key: str, limit: int, what: str) -> str:
    value = record.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        _fail(what, f"its {key} is not a text of at most {limit} characters.")
    return value


def _optional_number(value, what: str, key: str, low: float = 0.0):
    if value is None:
        return None
    if not is_finite_number(value) or value < low:
        _fail(what, f"its {key} is not a number it can be.")
    return value


def _whole(value, what: str, key: str, high: int) -> int:
    if not is_whole_number(value) or not 0 <= value <= high:
        _fail(what, f"its {key} is not a whole number from 0 to {high:,}.")
    return value


def _numbers_table(rows, what: str, key: str, most: int) -> list[dict]:
    """A history: a list of at most ``most`` entries, each a few named numbers."""
    if not isinstance(rows, list) or len(rows) > most:
        _fail(what, f"its {key} is not a list of at most {most:,} entries.")
    for row in rows:
        if not isinstance(row, dict) or len(row) > 40:
            _fail(what, f"its {key} holds an entry that is not a set of named numbers.")
        for name, value in row.items():
            if len(name) > 40 or not (value is None or is_finite_number(value)):
                _fail(what, f"its {key} holds {printable(name, 40)!r} with a value that is not a number.")
    return rows


_RESULT_NUMBERS = ("test_loss", "test_accuracy", "test_mae", "test_rmse", "test_r2", "train_seconds")
_RESULT_COUNTS = ("test_examples", "train_examples", "train_examples_available")
_RESULT_TEXTS = ("task", "target_name", "loss")


def _check_results(results, task: str, what: str) -> dict | None:
    """Test results of the shape the pages read: the headline numbers of its task, classes that agree."""
    if results is None:
        return None
    if not isinstance(results, dict) or len(results) > 40:
        _fail(what, "its results are not in the expected form.")
    for key, value in results.items():
        if key in ("class_names", "confusion_matrix", "per_class_accuracy"):
            continue
        if key in _RESULT_TEXTS:
            if not isinstance(value, str) or len(value) > 200:
                _fail(what, f"its result {key} is not a short text.")
        elif key in _RESULT_COUNTS:
            _whole(value, what, f"result {key}", 10**9)
        elif not (value is None or is_finite_number(value) or (isinstance(value, str) and len(value) <= 200)):
            _fail(what, f"its result {printable(key, 40)!r} is not a number.")
    needed = TASKS[task].result_keys
    if any(not is_finite_number(results.get(key)) for key in needed):
        _fail(what, f"its results lack {', '.join(needed)}.")
    if task == CLASSIFICATION:
        names = results.get("class_names")
        if (
            not isinstance(names, list)
            or not 1 <= len(names) <= 1000
            or not all(isinstance(n, str) and len(n) <= 100 for n in names)
        ):
            _fail(what, "its results do not name its classes.")
        n = len(names)
        matrix = results.get("confusion_matrix")
        if not (
            isinstance(matrix, list)
            and len(matrix) == n
            and all(
                isinstance(row, list) and len(row) == n and all(is_whole_number(v) and v >= 0 for v in row)
                for row in matrix
            )
        ):
            _fail(what, "its confusion matrix is not a table of counts, one row and column per class.")
        per_class = results.get("per_class_accuracy")
        if not (
            isinstance(per_class, list)
            and len(per_class) == n
            and all(v is None or is_finite_number(v) for v in per_class)
        ):
            _fail(what, "its per-class accuracy is not one number per class.")
    return results


def _check_dataset_name(value, what: str) -> str:
    if not isinstance(value, str) or not (value in DATASETS or is_user_dataset(value)):
        _fail(what, "its data set is not one this app knows.")
    return value


def check_run(record, epochs, batches, what: str) -> Run:
    """A run from a file, checked field by field (the door for stored runs); WorkFileError says what is wrong."""
    if not isinstance(record, dict):
        _fail(what, "its record is not a set of named values.")
    if not is_run_id(record.get("id")):
        _fail(what, "its id is not a run id.")
    task = record.get("task", CLASSIFICATION)
    if task not in TASKS:
        _fail(what, "its task is neither a classification nor a regression.")
    try:
        spec = check_spec(record.get("spec"), "run's model")
        hp = check_hyperparameters(record.get("hyperparameters"), "run's training settings")
    except InvalidInput as error:
        _fail(what, str(error))
    status = record.get("status")
    if status not in Status.ENDED:
        _fail(what, "it is not an ended run (only finished, stopped, failed or interrupted runs are saved).")
    created = _optional_number(record.get("created"), what, "creation time")
    if created is None:
        _fail(what, "it has no creation time.")
    parent = record.get("parent_id")
    run = Run(
        spec,
        _check_dataset_name(record.get("dataset"), what),
        hp,
        name=_string(record, "name", 200, what),
        run_id=record["id"],
        created=created,
        params=_whole(record.get("params", 0), what, "number of parameters", 10**10),
        parent_id=parent if is_run_id(parent) else None,
        learner=_string(record, "learner", 40, what),
        task=task,
    )
    run.status = status
    run.message = _string(record, "message", 2000, what)
    run.started = _optional_number(record.get("started"), what, "start time")
    run.ended = _optional_number(record.get("ended"), what, "end time")
    run.epoch = _whole(record.get("epoch", 0), what, "epochs", MAX_EPOCHS)
    run.batch = _whole(record.get("batch", 0), what, "batch", 10**8)
    run.batches_per_epoch = _whole(record.get("batches_per_epoch", 0), what, "batches per epoch", 10**8)
    run.paused_seconds = _optional_number(record.get("paused_seconds", 0.0), what, "paused time") or 0.0
    run.results = _check_results(record.get("results"), task, what)
    run._epochs = _numbers_table(epochs, what, "epoch history", MAX_EPOCHS)
    run._batches = _numbers_table(batches, what, "batch history", 10**7)
    run.close()
    return run


def _check_predictions(data: bytes, run: Run, limits: WorkLimits, what: str) -> None:
    arrays = read_arrays(data, f"The test predictions of {what.lower()}", limits)
    names = PREDICTION_ARRAYS[run.task.name]
    if set(arrays) != set(names):
        _fail(what, f"its test predictions are not the arrays {' and '.join(names)}.")
    y_true, outputs = arrays["y_true"], arrays[names[0]]
    n = len(y_true)
    if y_true.ndim != 1 or not 1 <= n <= limits.max_examples or len(outputs) != n:
        _fail(what, "its test predictions do not have one row per test example.")
    classes = len((run.results or {}).get("class_names") or [])
    if run.task.name == CLASSIFICATION and (outputs.ndim != 2 or (classes and outputs.shape[1] != classes)):
        _fail(what, "its test predictions do not have one probability per class.")
    if run.task.name == REGRESSION and outputs.ndim != 1:
        _fail(what, "its test predictions are not one number per example.")


def fingerprint(run: Run) -> str:
    """What makes two copies of a run the same run, whatever their ids and owners."""
    key = [run.created, run.spec, run.hyperparameters.to_dict(), run.results, run.epoch_history()]
    return hashlib.sha256(json.dumps(strict_json(key), sort_keys=True).encode()).hexdigest()


@dataclass
class _IncomingRun:
    run: Run
    model: bytes | None
    predictions: bytes | None


def read_run(archive: WorkArchive, run_id: str, number: int) -> _IncomingRun:
    """One run of the archive, every part checked (WorkFileError names the run and what is wrong)."""
    limits, folder = archive.limits, f"runs/{run_id}/"
    record = archive.json(folder + "run.json", max_bytes=limits.max_record_bytes)
    what = f"Run {number}" + (
        f" ({printable(record['name'], 40)})"
        if isinstance(record, dict) and isinstance(record.get("name"), str) and record["name"]
        else ""
    )
    epochs = archive.json(folder + "epochs.json", max_bytes=limits.max_record_bytes * 4, max_depth=3)
    batches = archive.json(folder + "batches.json", max_bytes=limits.max_history_bytes, max_depth=3)
    run = check_run(record, epochs, batches, what)
    if run.id != run_id:
        _fail(what, "its record belongs to another run of the file.")
    model = archive.read(folder + "model.keras") if archive.has(folder + "model.keras") else None
    if model is not None:
        try:
            check_keras_file(model, run.spec, max_mb=limits.max_file_mb)
        except ModelFileRefused as error:
            _fail(what, f"its trained model is refused: {error}.")
    predictions = archive.read(folder + "predictions.npz") if archive.has(folder + "predictions.npz") else None
    if predictions is not None:
        _check_predictions(predictions, run, limits, what)
    return _IncomingRun(run, model, predictions)


# --- the checks of one data set ----------------------------------------------------------------------


@dataclass
class _IncomingDataset:
    name: str  # in the file
    meta: dict
    arrays: dict[str, np.ndarray]

    def fingerprint(self) -> str:
        digest = hashlib.sha256(json.dumps([self.meta["task"], self.meta["class_names"]]).encode())
        for key in ARRAYS:
            digest.update(str(self.arrays[key].shape).encode() + self.arrays[key].tobytes())
        return digest.hexdigest()


def _text_list(value, most: int) -> bool:
    return isinstance(value, list) and len(value) <= most and all(isinstance(v, str) and len(v) <= 100 for v in value)


def check_dataset(meta, arrays: dict[str, np.ndarray], what: str) -> dict:
    """A data set's description and arrays as the app makes them (images or a table, labels that fit)."""
    if not isinstance(meta, dict):
        _fail(what, "its description is not a set of named values.")
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        _fail(what, f"its name is not a text of 1 to {MAX_TITLE} characters.")
    task = meta.get("task")
    if task not in (CLASSIFICATION, REGRESSION):
        _fail(what, "its task is neither a classification nor a regression.")
    classes, features = meta.get("class_names", []), meta.get("feature_names", [])
    if (
        not _text_list(classes, 1000)
        or not _text_list(features, 10_000)
        or not isinstance(meta.get("target_name", ""), str)
    ):
        _fail(what, "its class, column or target names are not in the expected form.")
    if task == CLASSIFICATION and len(classes) < 2:
        _fail(what, "a data set of classes needs at least two.")
    if set(arrays) != set(ARRAYS):
        _fail(what, f"its arrays are not {', '.join(ARRAYS)}.")
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if not 1 <= len(x) <= 10 * 1_000_000 or len(y) != len(x) or y.ndim != 1:
            _fail(what, f"its {part} images or rows do not match their labels.")
        if x.ndim == 4:
            if x.dtype != np.uint8 or not (x.shape[1] <= 512 and x.shape[2] <= 512 and x.shape[3] in (1, 3)):
                _fail(what, f"its {part} images are not 8-bit grey or colour images of at most 512 pixels a side.")
        elif x.ndim != 2 or x.dtype.kind != "f" or x.shape[1] > 10_000:
            _fail(what, f"its {part} part is neither images nor a table of numbers.")
        if task == CLASSIFICATION and (
            y.dtype.kind not in "iu" or (len(y) and (y.min() < 0 or y.max() >= len(classes)))
        ):
            _fail(what, f"its {part} labels are not class numbers from 0 to {len(classes) - 1}.")
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        _fail(what, "its training and test parts have different shapes.")
    return {
        "title": " ".join(title.split()),
        "task": task,
        "class_names": list(classes),
        "feature_names": list(features),
        "target_name": meta.get("target_name", "")[:100],
    }


def read_dataset(archive: WorkArchive, name: str, number: int) -> _IncomingDataset:
    folder, what = f"datasets/{name}/", f"Data set {number}"
    meta = archive.json(folder + "meta.json", max_bytes=archive.limits.max_record_bytes * 4, max_depth=3)
    if isinstance(meta, dict) and isinstance(meta.get("title"), str):
        what += f" ({printable(meta['title'], 40)})"
    arrays = read_arrays(archive.read(folder + "data.npz"), f"The arrays of {what.lower()}", archive.limits)
    return _IncomingDataset(name, check_dataset(meta, arrays, what), arrays)


def save_dataset(datasets: UserDatasetStore, owner: str, incoming: _IncomingDataset, title: str) -> str:
    """Store a checked data set as ``owner``'s; returns its new name."""
    meta = incoming.meta
    return datasets.save(
        owner=owner,
        title=title,
        arrays=incoming.arrays,
        task=meta["task"],
        class_names=meta["class_names"],
        feature_names=meta["feature_names"],
        target_name=meta["target_name"],
        details={"source": "opened from a file of work", "fingerprint": incoming.fingerprint()},
    )


def free_title(title: str, taken) -> str:
    """``title``, or ``title (2)``, ``(3)``… when the owner or the app already has a data set of that name."""
    used = {t.casefold() for t in taken} | {d.title.casefold() for d in DATASETS.values()}
    candidate, n = title, 1
    while candidate.casefold() in used:
        n += 1
        suffix = f" ({n})"
        candidate = title[: MAX_TITLE - len(suffix)] + suffix
    return candidate


def _dataset_fingerprint(datasets: UserDatasetStore, meta: dict) -> str | None:
    known = (meta.get("details") or {}).get("fingerprint")
    if known:
        return known
    try:
        data = datasets.load(meta["id"])
    except Exception:  # a damaged data set of the owner's cannot be the same as the file's
        return None
    incoming = _IncomingDataset(meta["id"], {"task": meta["task"], "class_names": list(meta["class_names"])}, {})
    incoming.arrays = {k: getattr(data, k) for k in ARRAYS}
    return incoming.fingerprint()


# --- opening -----------------------------------------------------------------------------------------


def _read_manifest(archive: WorkArchive) -> tuple[list[str], list[str]]:
    manifest = archive.json("manifest.json", max_bytes=archive.limits.max_record_bytes * 4, max_depth=3)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise WorkFileError("This is not a file of work (use a file saved with Save my work).")
    if manifest.get("version") != VERSION:
        raise WorkFileError("This file of work was saved by another version of the app, which this one cannot read.")
    runs, names = manifest.get("runs"), manifest.get("datasets", [])
    if not (isinstance(runs, list) and all(is_run_id(r) for r in runs) and len(set(runs)) == len(runs)):
        raise WorkFileError("This file of work is damaged: its list of runs is not a list of run ids.")
    if not (isinstance(names, list) and all(is_user_dataset(n) for n in names) and len(set(names)) == len(names)):
        raise WorkFileError("This file of work is damaged: its list of data sets is not a list of data set names.")
    limits = archive.limits
    if len(runs) > limits.max_runs or len(names) > limits.max_datasets:
        raise WorkFileError(
            f"This file of work holds more than {limits.max_runs:,} runs or {limits.max_datasets} data sets, "
            "the most one file may hold."
        )
    listed = {"manifest.json"} | {f"runs/{r}/{f}" for r in runs for f in _RUN_FILES}
    listed |= {f"datasets/{n}/{f}" for n in names for f in _DATASET_FILES}
    stray = [name for name in archive.names() if name not in listed]
    if stray:
        raise WorkFileError(
            f"This file of work is refused: it holds {printable(stray[0])}, which its list does not name."
        )
    return runs, names


def open_work(
    source,
    *,
    store: RunStore,
    datasets: UserDatasetStore,
    owner: str,
    limits: WorkLimits | None = None,
) -> OpenedWork:
    """Open a file of work (bytes or a path) as ``owner``'s runs and data sets, under new ids.

    Everything is checked first; WorkFileError says what is wrong and nothing is written. Runs and data
    sets the owner already has (the same file opened twice) are not copied again. A run keeps its
    history, results, model and predictions; its classroom challenge and experiment are left behind (they
    belong to the server it came from), and a run whose data set is not in the file shows it as deleted.
    """
    if store.read_only:  # before reading the file: nothing of it could be written
        raise WorkFileError(f"Your work cannot be opened here: {READ_ONLY}")
    limits = limits or WorkLimits()
    archive = WorkArchive(source, limits)
    with archive.zip:
        run_ids, names = _read_manifest(archive)
        incoming_datasets = [read_dataset(archive, name, i + 1) for i, name in enumerate(names)]
        incoming_runs = [read_run(archive, run_id, i + 1) for i, run_id in enumerate(run_ids)]
    return _write(store, datasets, owner, incoming_runs, incoming_datasets)


def _write(store, datasets, owner, incoming_runs, incoming_datasets) -> OpenedWork:
    """Write what was checked, under new ids; on any fault remove what was written and say so."""
    written_runs, written_datasets = [], []
    renamed: dict[str, str] = {}
    already_runs = already_datasets = 0
    try:
        own_metas = datasets.list(owner) if incoming_datasets else []
        by_fingerprint = {_dataset_fingerprint(datasets, m): m["id"] for m in own_metas}
        titles = [m["title"] for m in own_metas]
        for incoming in incoming_datasets:
            existing = by_fingerprint.get(incoming.fingerprint())
            if existing:
                renamed[incoming.name] = existing
                already_datasets += 1
                continue
            title = free_title(incoming.meta["title"], titles)
            renamed[incoming.name] = save_dataset(datasets, owner, incoming, title)
            written_datasets.append(renamed[incoming.name])
            titles.append(title)
        mine = {fingerprint(r) for r in store.list(owner)}
        new_ids = {i.run.id: _new_run_id(store) for i in incoming_runs}
        for incoming in incoming_runs:
            run = incoming.run
            print_ = fingerprint(run)
            if print_ in mine:
                already_runs += 1
                continue
            mine.add(print_)
            new_id = new_ids[run.id]
            if is_user_dataset(run.dataset):  # a data set of the file, or one left out of it (shown as deleted)
                run.dataset = renamed.get(run.dataset) or USER_PREFIX + secrets.token_hex(6)
            run.id, run.owner = new_id, owner
            run.parent_id = new_ids.get(run.parent_id)
            run.challenge = run.experiment = None
            for data, path in (
                (incoming.model, store.model_path(new_id)),
                (incoming.predictions, store.predictions_path(new_id)),
            ):
                if data is not None:
                    _write_file(path, data)
            written_runs.append(new_id)
            store.save(run)
    except Exception as error:
        for run_id in written_runs:
            store.delete(run_id)
        for name in written_datasets:
            datasets.delete(name, owner)
        reason = getattr(error, "public", None) or disk_problem(error) or "the server could not write it"
        raise WorkFileError(
            f"Your work could not be written on this server: {reason} Nothing of the file was opened. Try again later."
        ) from error
    return OpenedWork(written_runs, written_datasets, already_runs, already_datasets)


def _new_run_id(store: RunStore) -> str:
    while True:
        run_id = new_run_id()
        if store.load(run_id) is None:
            return run_id


def _write_file(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
