"""The model card holds the run's real numbers; the TFLite files load in the interpreter and score what the
card says; a model TFLite cannot take is refused in plain words; the bundle carries card, picture and files."""

import io
import re
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.data.datasets import load_dataset
from core.export import run_bundle
from core.insight import tflite_files
from core.insight.mistakes import confident_mistakes, load_predictions
from core.insight.model_card import app_version, confused_pairs, model_card
from core.model import tflite
from core.runs.manager import RunManager
from core.runs.record import Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small CNN trained on shapes long enough to be right most of the time but not always."""
    store = RunStore(tmp_path_factory.mktemp("card") / "home")
    spec = PRESETS["model1"].spec((28, 28, 1), 5)
    hp = Hyperparameters(epochs=2, batch_size=32, limit_train=1500, limit_test=400, seed=5)
    run = RunManager(store, max_concurrent=1).start(spec, "shapes", hp, owner="me", name="card test")
    assert run.wait(240)
    assert run.status == Status.FINISHED, run.message
    return store.load(run.id), store


@pytest.fixture(scope="module")
def card_and_files(trained):
    run, store = trained
    files = tflite_files.make_files(store, run)
    return model_card(run, store, tflite_files=files), files


def interpreter_accuracy(path, x, y) -> float:
    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    right = 0
    for image, label in zip(x, y):  # one image at a time, as the usage snippet does
        interpreter.set_tensor(inp["index"], image[None].astype(np.float32))
        interpreter.invoke()
        right += int(np.argmax(interpreter.get_tensor(out["index"])[0]) == label)
    return right / len(y)


def test_card_holds_the_runs_real_numbers(trained, card_and_files):
    run, store = trained
    card, _ = card_and_files
    results = run.results
    assert f"Test accuracy: **{100 * results['test_accuracy']:.1f} %**" in card
    for name, accuracy in zip(results["class_names"], results["per_class_accuracy"]):
        assert f"| {name} | {100 * accuracy:.1f} % |" in card
    for true, predicted, count in confused_pairs(results["confusion_matrix"]):
        assert f"- {results['class_names'][true]} → {results['class_names'][predicted]}: {count} test images" in card
    worst = confident_mistakes(load_predictions(store, run.id), 1)
    if worst:
        assert f"test image {worst[0].index}: of the class {results['class_names'][worst[0].true]}" in card
    assert f"{run.params:,} parameters" in card and "1,500 training examples" in card and "400 test examples" in card
    assert f"CNN Playground {app_version()}" in card and app_version() != "unknown (not installed)"
    assert "Optimizer adam" in card and "2 of 2 epochs" in card and "seed 5" in card
    assert "## Intended use and limits" in card and "Weakest class" in card


def test_a_regression_card_gives_its_errors_in_the_targets_units(tmp_path):
    from core.runs.record import Run

    spec = {"input_shape": [7], "layers": [{"type": "Dense", "units": 8}, {"type": "Dense", "units": 1}]}
    run = Run(spec, "own-0123456789ab", Hyperparameters(epochs=3), name="houses")
    results = {"task": "regression", "test_mae": 30.65, "test_rmse": 35.54, "test_r2": 0.88, "test_loss": 1263.1}
    run.finish(Status.FINISHED, "", {**results, "test_examples": 120, "target_name": "price_k_eur"})
    card = model_card(run, RunStore(tmp_path / "home"))
    assert "Predicts one number: **price_k_eur**" in card and "rows of 7 numbers" in card
    assert "(MAE): **30.65**, root mean squared error 35.54" in card and "R²: 0.880" in card
    assert "Weakest class" not in card


def test_tflite_files_run_in_the_interpreter_with_the_cards_accuracy(trained, card_and_files):
    run, store = trained
    card, files = card_and_files
    data = load_dataset("shapes")
    x, y = data.as_float("x_test")[:400], data.y_test[:400]
    by_kind = {f.kind: f for f in files}
    assert by_kind["int8"].size_bytes < by_kind["float32"].size_bytes / 2
    for kind, tolerance in (("float32", 0.01), ("int8", 0.02)):
        file = by_kind[kind]
        path = tflite_files.paths(store, run.id)[kind]
        assert path.stat().st_size == file.size_bytes
        measured = interpreter_accuracy(path, x, y)
        card_value = float(re.search(rf"{kind} \(model_{kind}\.tflite\): .*?test accuracy ([\d.]+) %", card).group(1))
        assert abs(measured - card_value / 100) <= tolerance + 0.0005  # the card rounds to 0.1 %
        assert abs(file.keras_value - run.results["test_accuracy"]) < 1e-6
        assert abs(measured - file.keras_value) <= tolerance


def test_files_are_made_once_per_model(trained, card_and_files):
    run, store = trained
    _, files = card_and_files
    stamp = tflite_files.paths(store, run.id)["float32"].stat().st_mtime_ns
    assert tflite_files.make_files(store, run) == files
    assert tflite_files.paths(store, run.id)["float32"].stat().st_mtime_ns == stamp


def test_bundle_holds_card_picture_and_both_tflite_files(trained, card_and_files):
    run, store = trained
    with zipfile.ZipFile(io.BytesIO(run_bundle(run, store))) as archive:
        names = {n.split("/", 1)[1]: archive.read(n) for n in archive.namelist()}
    assert names["model_float32.tflite"] == tflite_files.paths(store, run.id)["float32"].read_bytes()
    assert names["model_int8.tflite"] == tflite_files.paths(store, run.id)["int8"].read_bytes()
    assert names["architecture.png"].startswith(b"\x89PNG") and b"<svg" in names["architecture.svg"]
    card = names["model_card.md"].decode()
    assert "ms for one image alone" in card and "model_int8.tflite" in card
    assert "model_int8.tflite" in names["README.txt"].decode()


def test_usage_snippet_names_the_file_and_shape():
    file = tflite.TFLiteFile("int8", 1000, "accuracy", 0.9, 0.9, 10)
    snippet = tflite.usage_snippet(file, (28, 28, 1), ("a", "b"))
    assert 'model_path="model_int8.tflite"' in snippet and "np.zeros((1, 28, 28, 1)" in snippet
    compile(snippet, "snippet", "exec")


class Determinant(keras.layers.Layer):
    def call(self, x):
        return tf.linalg.det(tf.reshape(x, (-1, 2, 2)))[:, None]


def test_an_operation_tflite_lacks_is_refused_plainly():
    model = keras.Sequential([keras.Input((4,)), Determinant(name="odd")])
    with pytest.raises(tflite.TFLiteUnavailable, match=r"no built-in operation .*MatrixDeterminant.* in layer odd"):
        tflite.convert(model, "float32")
    with pytest.raises(tflite.TFLiteUnavailable, match="cannot take the layer type"):
        tflite.check_layers({"layers": [{"type": "LSTM"}]})
