"""A file of work: saved and opened again on a fresh store, and hostile files refused plainly, writing nothing."""

import io
import json
import stat
import zipfile

import numpy as np
import pytest
from helpers import finished_run

from core.cli import main
from core.data.user_datasets import UserDatasetStore
from core.identity import InvalidRecoveryCode, parse_recovery_code, recovery_code
from core.runs.model_file import HDF5_SIGNATURE, ModelFileRefused, check_keras_file
from core.runs.record import Status
from core.runs.store import RunStore
from core.work import WorkFileError, WorkLimits, has_work, open_work, save_work

CLASSES = ["square", "circle"]


def keras_file(spec: dict, *, layers=None, extra: dict | None = None, module: str = "keras.layers") -> bytes:
    """A .keras zip as Keras writes it for ``spec`` (config, metadata, HDF5 weights), without TensorFlow."""
    kinds = layers if layers is not None else [layer["type"] for layer in spec["layers"]]
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "cnn_playground_model",
            "layers": [
                {
                    "module": "keras.layers",
                    "class_name": "InputLayer",
                    "config": {"batch_shape": [None, *spec["input_shape"]]},
                    "registered_name": None,
                },
                *(
                    {
                        "module": module,
                        "class_name": kind,
                        "config": {"name": kind.lower()},
                        "registered_name": None,
                    }
                    for kind in kinds
                ),
            ],
        },
        "registered_name": None,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", HDF5_SIGNATURE + b"\0" * 64)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def classified_run(owner="alice", name="first try", created=None):
    run = finished_run(owner=owner, name=name, created=created)
    run.results = {**run.results, "class_names": CLASSES}
    return run


def save_with_files(store: RunStore, run) -> None:
    store.save(run)
    store.model_path(run.id).write_bytes(keras_file(run.spec))
    store.save_predictions(
        run.id,
        {"probabilities": np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], np.float32), "y_true": np.array([0, 1, 1])},
    )


@pytest.fixture
def home(tmp_path):
    store = RunStore(tmp_path / "old")
    return store, UserDatasetStore(store.home)


@pytest.fixture
def fresh(tmp_path):
    store = RunStore(tmp_path / "new")
    return store, UserDatasetStore(store.home)


def shapes_dataset(datasets: UserDatasetStore, owner="alice", title="My shapes") -> str:
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 255, (6, 8, 8, 1), dtype=np.uint8),
        "y_train": np.array([0, 1, 0, 1, 0, 1]),
        "x_test": rng.integers(0, 255, (2, 8, 8, 1), dtype=np.uint8),
        "y_test": np.array([0, 1]),
    }
    return datasets.save(owner=owner, title=title, arrays=arrays, class_names=CLASSES)


# --- round trips ------------------------------------------------------------------------------------


def test_saved_work_opens_on_a_fresh_store_as_the_new_owners_runs(home, fresh):
    store, datasets = home
    first, second = classified_run(name="first try", created=100.0), classified_run(name="second", created=200.0)
    second.parent_id = first.id
    for run in (first, second):
        save_with_files(store, run)
    store.save(classified_run(owner="bob", name="bob's"))
    saved = save_work(store, datasets, "alice")
    assert (saved.runs, saved.datasets) == (2, 0)

    new_store, new_datasets = fresh
    new_store.save(classified_run(owner="carol", name="carol's"))
    opened = open_work(saved.data, store=new_store, datasets=new_datasets, owner="dave")
    assert opened.text() == "Opened 2 runs."
    runs = {r.name: new_store.load(r.id) for r in new_store.list("dave")}
    assert sorted(runs) == ["first try", "second"]
    for original in (first, second):
        copy = runs[original.name]
        assert copy.id not in (first.id, second.id) and copy.owner == "dave"
        assert copy.spec == original.spec and copy.hyperparameters == original.hyperparameters
        assert copy.epoch_history() == original.epoch_history()
        assert copy.batch_history() == original.batch_history()
        assert copy.results == original.results and copy.status == Status.FINISHED
        assert copy.created == original.created
        assert new_store.model_path(copy.id).read_bytes() == store.model_path(original.id).read_bytes()
        for key, values in store.read_predictions(original.id).items():
            np.testing.assert_array_equal(new_store.read_predictions(copy.id)[key], values)
    assert runs["second"].parent_id == runs["first try"].id  # the clone still points at its original
    assert [r.name for r in new_store.list("carol")] == ["carol's"]  # nobody else's runs are touched
    assert [r.name for r in store.list("bob")] == ["bob's"]


def test_imported_data_sets_travel_when_chosen_and_runs_follow_them(home, fresh):
    store, datasets = home
    name = shapes_dataset(datasets)
    shapes_dataset(datasets, owner="bob", title="Bob's shapes")
    run = classified_run()
    run.dataset = name
    save_with_files(store, run)

    without = save_work(store, datasets, "alice")
    new_store, new_datasets = fresh
    open_work(without.data, store=new_store, datasets=new_datasets, owner="dave")
    (copy,) = new_store.list("dave")
    assert copy.dataset != name and new_datasets.meta(copy.dataset) is None  # left out: shown as deleted

    with_sets = save_work(store, datasets, "alice", include_datasets=True)
    assert with_sets.datasets == 1
    other_store = RunStore(new_store.home.parent / "third")
    other_sets = UserDatasetStore(other_store.home)
    opened = open_work(with_sets.data, store=other_store, datasets=other_sets, owner="erin")
    assert opened.text() == "Opened 1 run and 1 data set."
    (meta,) = other_sets.list("erin")
    assert meta["title"] == "My shapes" and meta["class_names"] == CLASSES
    (copy,) = other_store.list("erin")
    assert copy.dataset == meta["id"]
    original, opened_set = datasets.load(name), other_sets.load(meta["id"])
    np.testing.assert_array_equal(opened_set.x_train, original.x_train)
    np.testing.assert_array_equal(opened_set.y_test, original.y_test)


def test_opening_the_same_file_twice_copies_nothing_again(home, fresh):
    store, datasets = home
    shapes_dataset(datasets)
    save_with_files(store, classified_run())
    data = save_work(store, datasets, "alice", include_datasets=True).data
    new_store, new_datasets = fresh
    open_work(data, store=new_store, datasets=new_datasets, owner="dave")
    again = open_work(data, store=new_store, datasets=new_datasets, owner="dave")
    assert again.text() == "Nothing new was opened: everything in this file is already among your work."
    assert len(new_store.list("dave")) == 1 and len(new_datasets.list("dave")) == 1
    # Opened on the server it was saved on, by its owner: nothing is doubled there either.
    assert open_work(data, store=store, datasets=datasets, owner="alice").runs == []


def test_classroom_and_experiment_links_stay_behind(home, fresh):
    store, datasets = home
    run = classified_run()
    run.challenge, run.experiment, run.learner = "abcd1234", "0123456789ab", "Alice"
    store.save(run)
    data = save_work(store, datasets, "alice").data
    new_store, new_datasets = fresh
    open_work(data, store=new_store, datasets=new_datasets, owner="dave")
    (copy,) = new_store.list("dave")
    assert (copy.challenge, copy.experiment, copy.learner) == (None, None, "Alice")


def test_runs_still_training_are_left_out_and_nothing_saves_nothing(home):
    store, datasets = home
    with pytest.raises(WorkFileError, match="nothing to save"):
        save_work(store, datasets, "alice")
    training = classified_run()
    training.status = Status.RUNNING
    store.save(training)
    store.save(classified_run(name="done"))
    saved = save_work(store, datasets, "alice")
    assert (saved.runs, saved.left_out) == (1, 1)
    assert "1 run still training or waiting are not in it" in saved.text()
    assert has_work(store, datasets, "alice") and not has_work(store, datasets, "nobody")


def test_work_too_large_to_open_again_is_not_saved(home):
    store, datasets = home
    save_with_files(store, classified_run())
    store.model_path(store.list("alice")[0].id).write_bytes(np.random.default_rng(0).bytes(2 * 1024 * 1024))
    with pytest.raises(WorkFileError, match="more than the 1 MB a file of work may be"):
        save_work(store, datasets, "alice", limits=WorkLimits(max_file_mb=1))


# --- hostile files ------------------------------------------------------------------------------------


def good_file(home) -> bytes:
    store, datasets = home
    save_with_files(store, classified_run())
    return save_work(store, datasets, "alice").data


def rewritten(data: bytes, change) -> bytes:
    """The file with its members passed through ``change(name, bytes) -> bytes | None`` (None drops it)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            new = change(info.filename, source.read(info))
            if new is not None:
                target.writestr(info.filename, new)
    return buffer.getvalue()


def with_member(data: bytes, name: str, content: bytes, attr: int | None = None) -> bytes:
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        info = zipfile.ZipInfo(name)
        if attr is not None:
            info.external_attr = attr << 16
        archive.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def refused(data, fresh, match: str) -> None:
    store, datasets = fresh
    with pytest.raises(WorkFileError, match=match):
        open_work(data, store=store, datasets=datasets, owner="dave")
    assert store.list() == [] and datasets.list("dave") == []
    assert [p.name for p in store.models_dir.iterdir()] == []  # no model or predictions file left behind


def run_json(change):
    def rewrite(name, content):
        if name.endswith("/run.json"):
            return json.dumps(change(json.loads(content))).encode()
        return content

    return rewrite


def test_a_file_that_is_not_a_zip_or_not_a_file_of_work_is_refused(fresh, tmp_path):
    refused(b"just some text", fresh, "not a file of work")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "something else"}))
    refused(buffer.getvalue(), fresh, "not a file of work")
    store, datasets = fresh
    with pytest.raises(WorkFileError, match="does not exist"):
        open_work(tmp_path / "missing.zip", store=store, datasets=datasets, owner="dave")


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(home, fresh):
    bomb = with_member(good_file(home), "runs/000000000000/batches.json", b"[" + b" " * (30 * 1024 * 1024) + b"]")
    refused(bomb, fresh, "zip bomb")


def test_unsafe_names_links_and_strangers_are_refused(home, fresh):
    data = good_file(home)
    refused(with_member(data, "../../etc/passwd", b"x"), fresh, "climbs out of the archive")
    refused(with_member(data, "/tmp/evil", b"x"), fresh, "absolute path")
    link = stat.S_IFLNK | 0o777
    refused(with_member(data, "runs/aaaaaaaaaaaa/model.keras", b"/etc/passwd", attr=link), fresh, "symbolic link")
    refused(with_member(data, "runs/x/run.py", b"import os"), fresh, "never has")
    refused(with_member(data, "runs/aaaaaaaaaaaa/run.json", b"{}"), fresh, "its list does not name")


def test_too_many_entries_or_too_large_a_file_is_refused(home, fresh):
    data = good_file(home)
    store, datasets = fresh
    with pytest.raises(WorkFileError, match="the most one file may hold"):
        open_work(data, store=store, datasets=datasets, owner="dave", limits=WorkLimits(max_runs=0))
    with pytest.raises(WorkFileError, match="MB are allowed"):
        open_work(
            data + b"\0" * 1024 * 1024, store=store, datasets=datasets, owner="dave", limits=WorkLimits(max_file_mb=1)
        )


def test_oversize_or_deeply_nested_json_is_refused(home, fresh):
    data = good_file(home)
    big = run_json(lambda record: {**record, "name": "x" * 300_000})
    refused(rewritten(data, big), fresh, "run.json in this file of work is 3")
    deep = rewritten(data, lambda n, c: b"[" * 50 + b"]" * 50 if n.endswith("epochs.json") else c)
    refused(deep, fresh, "nests brackets more than 3 deep")
    refused(rewritten(data, lambda n, c: b"{not json" if n.endswith("run.json") else c), fresh, "not valid JSON")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda r: {**r, "params": "many"}, "number of parameters is not a whole number"),
        (lambda r: {**r, "created": True}, "creation time is not a number"),
        (lambda r: {**r, "status": "running"}, "not an ended run"),
        (lambda r: {**r, "spec": {"layers": "Conv2D"}}, "run's model cannot be used"),
        (lambda r: {**r, "hyperparameters": {"epochs": -3}}, "training settings cannot be used"),
        (lambda r: {**r, "dataset": "../../secret"}, "data set is not one this app knows"),
        (lambda r: {**r, "results": {**r["results"], "confusion_matrix": "lots"}}, "confusion matrix"),
        (lambda r: {**r, "results": {**r["results"], "test_accuracy": None}}, "results lack"),
        (lambda r: {**r, "name": ["a", "list"]}, "its name is not a text"),
        (lambda r: {**r, "id": "../evil"}, "its id is not a run id"),
    ],
)
def test_a_run_record_with_wrong_types_is_refused(home, fresh, change, match):
    refused(rewritten(good_file(home), run_json(change)), fresh, "Run 1.* cannot be opened: .*" + match)


def test_a_history_with_something_other_than_numbers_is_refused(home, fresh):
    data = rewritten(good_file(home), lambda n, c: b'[{"loss": "low"}]' if n.endswith("epochs.json") else c)
    refused(data, fresh, "epoch history holds 'loss' with a value that is not a number")


def test_a_model_file_that_is_not_a_keras_zip_is_refused(home, fresh):
    data = good_file(home)
    refused(rewritten(data, lambda n, c: b"not a zip" if n.endswith("model.keras") else c), fresh, "not a Keras model")
    spec = classified_run().spec
    other_layers = keras_file(spec, layers=["Dense"])
    refused(rewritten(data, lambda n, c: other_layers if n.endswith("model.keras") else c), fresh, "not the layers")


def test_keras_files_with_custom_code_or_strange_members_are_refused():
    spec = classified_run().spec
    check_keras_file(keras_file(spec), spec)  # what Keras writes passes
    kinds = [layer["type"] for layer in spec["layers"]]
    with pytest.raises(ModelFileRefused, match="outside Keras' built-in"):
        check_keras_file(keras_file(spec, module="my_package.evil"), spec)
    with pytest.raises(ModelFileRefused, match="never builds"):
        check_keras_file(keras_file(spec, layers=["Lambda", *kinds[1:]]), spec)
    with pytest.raises(ModelFileRefused, match="never has"):
        check_keras_file(keras_file(spec, extra={"assets/run.sh": b"rm -rf /"}), spec)
    flat = io.BytesIO()
    with zipfile.ZipFile(flat, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", b"pickle")
    with pytest.raises(ModelFileRefused, match="HDF5"):
        check_keras_file(flat.getvalue(), spec)


def test_predictions_that_are_not_arrays_of_the_run_are_refused(home, fresh):
    data = good_file(home)
    pickled = io.BytesIO()
    np.savez(pickled, probabilities=np.array([{"a": 1}], dtype=object), y_true=np.array([0]))
    refused(rewritten(data, lambda n, c: pickled.getvalue() if n.endswith(".npz") else c), fresh, "holds objects")
    wrong = io.BytesIO()
    np.savez(wrong, probabilities=np.zeros((3, 7), np.float32), y_true=np.zeros(3))
    refused(
        rewritten(data, lambda n, c: wrong.getvalue() if n.endswith(".npz") else c), fresh, "one probability per class"
    )


def test_a_data_set_with_labels_outside_its_classes_is_refused(home, fresh):
    store, datasets = home
    shapes_dataset(datasets)
    data = save_work(store, datasets, "alice", include_datasets=True).data
    bad = io.BytesIO()
    np.savez_compressed(
        bad,
        x_train=np.zeros((2, 8, 8, 1), np.uint8),
        y_train=np.array([0, 7]),
        x_test=np.zeros((1, 8, 8, 1), np.uint8),
        y_test=np.array([0]),
    )
    refused(
        rewritten(data, lambda n, c: bad.getvalue() if n.endswith("data.npz") else c),
        fresh,
        "labels are not class numbers",
    )


def test_a_fault_while_writing_leaves_nothing_partial(home, fresh, monkeypatch):
    store, datasets = home
    save_with_files(store, classified_run(name="one"))
    save_with_files(store, classified_run(name="two"))
    data = save_work(store, datasets, "alice").data
    new_store, new_datasets = fresh
    saves = []

    def full_disk(run, **kwargs):
        if saves:
            raise OSError(28, "No space left on device")
        saves.append(run.id)
        RunStore.save(new_store, run, **kwargs)

    monkeypatch.setattr(new_store, "save", full_disk)
    with pytest.raises(WorkFileError, match="disk is full.*Nothing of the file was opened"):
        open_work(data, store=new_store, datasets=new_datasets, owner="dave")
    assert new_store.list() == [] and list(new_store.models_dir.iterdir()) == []


def test_a_read_only_store_refuses_the_file_before_reading_it(home, fresh, monkeypatch):
    store, datasets = home
    save_with_files(store, classified_run(name="one"))
    data = save_work(store, datasets, "alice").data
    new_store, new_datasets = fresh
    monkeypatch.setattr(new_store, "read_only", True)
    with pytest.raises(WorkFileError, match="cannot be opened here: The server's storage is read-only"):
        open_work(data, store=new_store, datasets=new_datasets, owner="dave")


# --- the recovery code ------------------------------------------------------------------------------


def test_a_recovery_code_stands_for_the_user_id_and_strangers_are_refused():
    uid = "0123456789abcdef0123456789abcdef"
    code = recovery_code(uid)
    assert code == "0123-4567-89ab-cdef-0123-4567-89ab-cdef"
    assert parse_recovery_code(code) == uid
    assert parse_recovery_code("  " + code.upper().replace("-", " ") + "\n") == uid
    assert parse_recovery_code("0123-4567-89ab") == "0123456789ab"  # an id of an earlier version's browser
    for typed, match in [
        ("", "Type or paste"),
        ("0123-4567", "has 8 letters and digits; a recovery code has 32"),
        ("zzzz-" * 8, "only the digits 0-9 and the letters a-f"),
        ("'; DROP TABLE runs; --", "only the digits"),
        (None, "32 letters and digits"),
    ]:
        with pytest.raises(InvalidRecoveryCode, match=match):
            parse_recovery_code(typed)


# --- the command line -------------------------------------------------------------------------------


def test_cli_saves_and_opens_a_file_of_work(home, tmp_path, capsys):
    store, datasets = home
    save_with_files(store, classified_run())
    out = tmp_path / "work.zip"
    assert main(["work", "save", "--owner", "alice", "--out", str(out), "--home", str(store.home)]) == 0
    assert "holds 1 run" in capsys.readouterr().err
    other = tmp_path / "other"
    assert main(["work", "open", str(out), "--owner", "dave", "--home", str(other)]) == 0
    assert "Opened 1 run." in capsys.readouterr().out
    assert [r.name for r in RunStore(other).list("dave")] == ["first try"]


def test_cli_exits_2_with_a_plain_message_on_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    assert main(["work", "open", str(bad), "--owner", "dave", "--home", str(tmp_path / "h")]) == 2
    err = capsys.readouterr().err
    assert "not a file of work" in err and "Traceback" not in err
    assert main(["work", "open", str(tmp_path / "none.zip"), "--owner", "dave", "--home", str(tmp_path / "h")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert (
        main(["work", "save", "--owner", "nobody", "--out", str(tmp_path / "w.zip"), "--home", str(tmp_path / "h")])
        == 2
    )
    assert "nothing to save" in capsys.readouterr().err
    assert (
        main(["work", "save", "--owner", "../x", "--out", str(tmp_path / "w.zip"), "--home", str(tmp_path / "h")]) == 2
    )
    assert "not a user id" in capsys.readouterr().err
