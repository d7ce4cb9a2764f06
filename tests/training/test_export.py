"""The per-run zip bundle: its members hold the run's model, history and metrics, and its script runs."""

import io
import json
import subprocess
import sys
import zipfile

import pandas as pd
import pytest

from core.export import run_bundle
from core.model.spec import analyze
from core.runs.manager import RunManager
from core.runs.record import Run, Status
from core.runs.store import RunStore
from core.training.codegen import training_script
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

# Small, and with the layer types test_codegen's model1 script does not have.
SPEC = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"type": "BatchNormalization"},
        {"type": "AveragePooling2D", "pool_size": 2},
        {"type": "Conv2D", "filters": 16, "kernel_size": [3, 3], "strides": 2, "activation": "relu"},
        {"type": "GlobalMaxPooling2D"},
        {"type": "Dropout", "rate": 0.2},
        {"type": "Dense", "units": 5, "activation": "softmax"},
    ],
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished run on shapes, and its store."""
    store = RunStore(tmp_path_factory.mktemp("export") / "home")
    manager = RunManager(store, max_concurrent=1)
    hp = Hyperparameters(epochs=2, batch_size=32, limit_train=300, limit_test=100, seed=3)
    run = manager.start(SPEC, "shapes", hp, owner="me", name="small · test")
    assert run.wait(120)
    assert run.status == Status.FINISHED, run.message
    return store.load(run.id), store


EXTRAS = ("model_card.md", "architecture.svg", "architecture.png")  # every bundle
PHONE_FILES = ("model_float32.tflite", "model_int8.tflite")  # a bundle with a trained model


def members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_bundle_holds_script_model_history_and_metrics(trained, tmp_path):
    run, store = trained
    files = members(run_bundle(run, store))
    folder = f"cnn-playground-{run.id}"
    assert set(files) == {
        f"{folder}/{name}"
        for name in ("README.txt", "train.py", "model.keras", "history.csv", "metrics.json", *EXTRAS, *PHONE_FILES)
    }
    # The script trains the model the app trained: with the BatchNormalization momentum the run used.
    assert files[f"{folder}/train.py"].decode() == training_script(
        run.spec, "shapes", run.hyperparameters, "small · test", run.results["batch_norm_momentum"]
    )
    assert files[f"{folder}/model.keras"] == store.model_path(run.id).read_bytes()

    history = pd.read_csv(io.BytesIO(files[f"{folder}/history.csv"]))
    assert list(history.columns[:5]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert list(history["epoch"]) == [1, 2]
    assert history["val_loss"].tolist() == pytest.approx([e["val_loss"] for e in run.epoch_history()])

    metrics = json.loads(files[f"{folder}/metrics.json"])
    assert metrics["test_accuracy"] == run.test_accuracy is not None
    assert metrics["results"]["test_examples"] == 100 and len(metrics["results"]["confusion_matrix"]) == 5
    assert metrics["params"] == run.params == analyze(run.spec).total_params
    assert metrics["hyperparameters"]["seed"] == 3 and metrics["spec"] == run.spec
    assert metrics["final_epoch"]["epoch"] == 2
    readme = files[f"{folder}/README.txt"].decode()
    assert "python train.py" in readme and "model.keras" in readme


def test_bundled_script_runs_and_builds_the_same_model(trained, tmp_path, subprocess_env):
    """Extends test_codegen (model1) to BatchNorm, average and global pooling, strides and Dropout."""
    run, store = trained
    with zipfile.ZipFile(io.BytesIO(run_bundle(run, store))) as archive:
        archive.extractall(tmp_path / "unzipped")
    script = tmp_path / "unzipped" / f"cnn-playground-{run.id}" / "train.py"
    env = {k: v for k, v in subprocess_env.items() if k != "PYTHONPATH"}  # the script must stand alone
    done = subprocess.run(
        [sys.executable, str(script), "--epochs", "1", "--limit-train", "200", "--limit-test", "50"],
        capture_output=True,
        text=True,
        env=env,
        cwd=script.parent,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Total params: {run.params:,}" in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("Test accuracy: ")


def test_a_run_without_a_saved_model_is_bundled_without_it(tmp_path):
    store = RunStore(tmp_path / "home")
    run = Run(PRESETS["model1"].spec(num_classes=5), "shapes", Hyperparameters(), name="failed one")
    run.record_epoch({"epoch": 1, "loss": float("nan"), "accuracy": 0.2, "seconds": 1.0})
    run.finish(Status.FAILED, "The loss became NaN (not a number) — lower the learning rate and train again.")
    files = members(run_bundle(run, store))
    names = {name.split("/", 1)[1] for name in files}
    assert names == {"README.txt", "train.py", "history.csv", "metrics.json", *EXTRAS}
    metrics = json.loads(files[f"cnn-playground-{run.id}/metrics.json"])  # strict JSON: NaN became null
    assert metrics["status"] == "failed" and metrics["final_epoch"]["loss"] is None
    assert metrics["test_accuracy"] is None
    readme = files[f"cnn-playground-{run.id}/README.txt"].decode()
    assert "model.keras" not in readme and "(no .tflite files: this run saved no trained model)" in readme
    assert "no test results" in files[f"cnn-playground-{run.id}/model_card.md"].decode()


def test_a_data_set_without_a_standalone_loader_is_bundled_without_a_script(tmp_path):
    store = RunStore(tmp_path / "home")
    run = Run(PRESETS["model1"].spec(num_classes=5), "own-0123456789ab", Hyperparameters(), name="my photos")
    run.record_epoch({"epoch": 1, "loss": 1.2, "accuracy": 0.5, "seconds": 1.0})
    run.finish(Status.FINISHED, "", {"test_accuracy": 0.5, "test_loss": 1.3})
    files = members(run_bundle(run, store))
    assert {name.split("/", 1)[1] for name in files} == {"README.txt", "history.csv", "metrics.json", *EXTRAS}
    assert (
        "no train.py: No exported data loader for data set 'own-0123456789ab'"
        in files[f"cnn-playground-{run.id}/README.txt"].decode()
    )


def test_cli_bundle_writes_the_same_zip_and_refuses_an_unknown_run(trained, tmp_path, capsys):
    from core.cli import main

    run, store = trained
    out = tmp_path / "bundle.zip"
    assert main(["bundle", run.id, "--home", str(store.home), "--out", str(out)]) == 0
    assert set(members(out.read_bytes())) == set(members(run_bundle(run, store)))
    assert main(["bundle", "nosuchrun", "--home", str(store.home)]) == 2
    assert "There is no run 'nosuchrun'" in capsys.readouterr().err
