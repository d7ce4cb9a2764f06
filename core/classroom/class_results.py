"""A class's results exported: the leaderboard as CSV, and a zip with the challenge (to import on another
server, ``core.classroom.challenge_import``), each learner's best run and the challenge's own data."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile

from core.classroom.leaderboard import leaderboard, learners_best_runs
from core.data.user_datasets import UserDatasetStore
from core.numbers import strict_json
from core.runs.challenges import Challenge, hidden_test_path
from core.runs.record import Run
from core.runs.store import RunStore
from core.work import add_dataset, add_run

CLASS_FORMAT = "cnn-playground-class"
CLASS_CSV_COLUMNS = (
    "rank",
    "learner",
    "learners_best",
    "run_id",
    "name",
    "architecture",
    "params",
    "epochs",
    "score",
    "test_loss",
    "train_seconds",
    "seconds_to_target",
)
# What a class results file may hold (the importer refuses anything else).
CLASS_MEMBER = re.compile(
    r"manifest\.json|challenge\.json|leaderboard\.csv|hidden_test\.npz"
    r"|runs/[0-9a-f]{12}/[a-z.]+|datasets/own-[0-9a-f]{12}/[a-z.]+"
)
CHALLENGE_FIELDS = ("title", "dataset", "preset", "max_params", "max_epochs", "hyperparameters", "locked", "hidden")


def class_results_csv(runs: list[Run], challenge: Challenge) -> str:
    """The leaderboard as CSV, one row per counted run, with each learner's best marked (no owner ids)."""
    best = {run.id for run in learners_best_runs(runs, challenge)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CLASS_CSV_COLUMNS)
    for row in leaderboard(runs, challenge):
        reached = row.get("target_reached") or {}
        values = {
            **row,
            "learners_best": "yes" if row["run_id"] in best else "",
            "seconds_to_target": reached.get("seconds"),
        }
        writer.writerow(["" if values.get(c) is None else values[c] for c in CLASS_CSV_COLUMNS])
    return out.getvalue()


def class_results_zip(store: RunStore, challenge: Challenge, runs: list[Run]) -> bytes:
    """The challenge (to import on another server), its leaderboard as CSV, every learner's best run
    (record, histories, model; never the learner's id), and the challenge's own data set and hidden test
    set when it has them."""
    datasets = UserDatasetStore(store.home)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps({"format": CLASS_FORMAT, "version": 1, "created": time.time()}))
        record = {k: v for k, v in challenge.to_dict().items() if k in CHALLENGE_FIELDS + ("hidden_test",)}
        archive.writestr("challenge.json", json.dumps(strict_json(record)))
        archive.writestr("leaderboard.csv", class_results_csv(runs, challenge))
        for run in learners_best_runs(runs, challenge):
            add_run(archive, store, run)
        meta = datasets.meta(challenge.dataset)
        if meta is not None:
            add_dataset(archive, datasets, meta)
        if challenge.hidden_test and hidden_test_path(store.home, challenge.code).is_file():
            archive.write(hidden_test_path(store.home, challenge.code), "hidden_test.npz")
    return buffer.getvalue()
