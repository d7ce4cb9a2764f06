"""A class's results exported as CSV and zip; the challenge in the zip imported on another server."""

import csv
import io
import json
import zipfile

import numpy as np
import pytest
from helpers import finished_run, model1_challenge

from core.classroom.challenge_import import import_challenge
from core.classroom.challenges import ChallengeRejected
from core.classroom.class_results import class_results_csv, class_results_zip
from core.data.user_datasets import UserDatasetStore
from core.runs.challenges import ChallengeStore, load_hidden_test, save_hidden_test
from core.runs.store import RunStore


def learner_run(owner, learner, accuracy, challenge):
    run = finished_run(owner=owner, name=f"{learner} {accuracy}")
    run.challenge, run.learner = challenge.code, learner
    run.results = {**run.results, "test_accuracy": accuracy, "class_names": ["a", "b"]}
    return run


@pytest.fixture
def classroom(tmp_path):
    store = RunStore(tmp_path / "school")
    challenge = ChallengeStore(store).save(model1_challenge(reset_at=0.0))
    runs = [
        learner_run("a" * 32, "Ada", 0.7, challenge),
        learner_run("a" * 32, "Ada", 0.9, challenge),
        learner_run("b" * 32, "Bo", 0.8, challenge),
    ]
    for run in runs:
        store.save(run)
    return store, challenge, runs


def test_the_csv_ranks_every_run_and_marks_each_learners_best_without_their_ids(classroom):
    store, challenge, runs = classroom
    text = class_results_csv(runs, challenge)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["rank"], r["learner"], r["score"], r["learners_best"]) for r in rows] == [
        ("1", "Ada", "0.9", "yes"),
        ("2", "Bo", "0.8", "yes"),
        ("3", "Ada", "0.7", ""),
    ]
    assert "a" * 32 not in text and "b" * 32 not in text


def test_the_zip_holds_the_challenge_the_board_and_each_learners_best_run(classroom):
    store, challenge, runs = classroom
    archive = zipfile.ZipFile(io.BytesIO(class_results_zip(store, challenge, runs)))
    names = archive.namelist()
    assert {"manifest.json", "challenge.json", "leaderboard.csv"} <= set(names)
    best = {runs[1].id, runs[2].id}
    assert {n.split("/")[1] for n in names if n.startswith("runs/")} == best
    for run_id in best:
        record = json.loads(archive.read(f"runs/{run_id}/run.json"))
        assert record["owner"] == ""  # a learner's id is their secret: never exported
    assert json.loads(archive.read("challenge.json"))["title"] == challenge.title


def test_a_challenge_imports_on_another_server_with_its_own_data_and_hidden_test(classroom, tmp_path):
    store, challenge, runs = classroom
    datasets = UserDatasetStore(store.home)
    own = datasets.save(
        owner="teacher",
        title="Our photos",
        arrays={
            "x_train": np.zeros((4, 8, 8, 3), np.uint8),
            "y_train": np.array([0, 1, 0, 1]),
            "x_test": np.zeros((2, 8, 8, 3), np.uint8),
            "y_test": np.array([0, 1]),
        },
        class_names=["cat", "dog"],
    )
    challenge = ChallengeStore(store).update(challenge.code, dataset=own, hidden_test=2)
    save_hidden_test(store.home, challenge.code, np.ones((2, 8, 8, 3), np.uint8), np.array([1, 0]))
    data = class_results_zip(store, challenge, runs)

    other = ChallengeStore(RunStore(tmp_path / "other"))
    imported = import_challenge(data, other, teacher="t2")
    assert imported.code != challenge.code and other.get(imported.code) == imported
    for field in ("title", "preset", "max_params", "max_epochs", "hyperparameters", "locked", "hidden", "hidden_test"):
        assert getattr(imported, field) == getattr(challenge, field)
    (meta,) = UserDatasetStore(other.store.home).list("t2")
    assert imported.dataset == meta["id"] and meta["title"] == "Our photos"
    x, y = load_hidden_test(other.store.home, imported.code)
    assert x.shape == (2, 8, 8, 3) and list(y) == [1, 0]
    assert other.store.list() == []  # the learners' runs stay in the file


def test_a_file_that_is_not_a_class_export_is_refused_plainly(classroom, tmp_path):
    store, challenge, runs = classroom
    other = ChallengeStore(RunStore(tmp_path / "other"))
    with pytest.raises(ChallengeRejected, match="not a class results file"):
        import_challenge(b"hello", other, teacher="t2")
    data = class_results_zip(store, challenge, runs)
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "challenge.json":
                content = json.dumps({**json.loads(content), "preset": "rm -rf", "max_epochs": "all"}).encode()
            target.writestr(name, content)
    with pytest.raises(ChallengeRejected) as refused:
        import_challenge(buffer.getvalue(), other, teacher="t2")
    assert any("presets" in p for p in refused.value.problems) and any(
        "max epochs" in p for p in refused.value.problems
    )
    assert other.list() == []
