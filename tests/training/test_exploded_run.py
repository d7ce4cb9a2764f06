"""Issue 19: model 1 with SGD at learning rate 10 explodes. Coaching names it, the bundle is still whole.

The real run (2,000 Fashion-MNIST images, 1 epoch) reaches a batch loss of tens of thousands and ends at chance
level; its int8 TFLite file is one XNNPACK, the interpreter's default CPU kernels, refuses to run ("failed to
create XNNPACK runtime"). A TFLite step that fails outright is injected at its one owner (the interpreter in
core.model.tflite): the bundle keeps everything else and says why the .tflite files are missing.
"""

import io
import zipfile

import pytest

from core.cli import main
from core.export import build_bundle, bundle_folder, run_bundle
from core.insight import tflite_files
from core.insight.coaching import coach_run
from core.model import tflite
from core.runs.manager import RunManager
from core.runs.record import Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

EVERYTHING_ELSE = ("README.txt", "train.py", "model.keras", "history.csv", "metrics.json", "model_card.md")
EVERYTHING_ELSE += ("architecture.svg", "architecture.png")
PHONE_FILES = ("model_float32.tflite", "model_int8.tflite")


@pytest.fixture(scope="module")
def exploded(tmp_path_factory):
    """A finished model-1 run trained with SGD at learning rate 10, and its store."""
    store = RunStore(tmp_path_factory.mktemp("exploded") / "home")
    manager = RunManager(store, max_concurrent=1)
    hp = Hyperparameters(
        optimizer="sgd", learning_rate=10.0, epochs=1, batch_size=32, limit_train=2000, limit_test=500, seed=1
    )
    run = manager.start(PRESETS["model1"].spec(num_classes=10), "fashion_mnist", hp, owner="me", name="too fast")
    assert run.wait(300) and run.status == Status.FINISHED, run.message
    return store.load(run.id), store


def members(bundle: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {info.filename.split("/", 1)[1]: archive.read(info) for info in archive.infolist()}


def test_coaching_names_the_explosion_of_the_real_run(exploded):
    run, _ = exploded
    peak = max(b["loss"] for b in run.batch_history())
    assert peak > 1000 and run.test_accuracy < 0.15  # what the issue saw: a huge loss, chance-level accuracy
    [finding] = coach_run(run)
    assert finding.title == "The loss exploded"
    assert f"to {peak:,.0f} in batch" in finding.statement
    assert f"Test accuracy is {100 * run.test_accuracy:.1f} %" in finding.statement
    assert "try 0.01 for SGD" in finding.suggestion
    assert "healthy" not in finding.statement.lower()


class FailingInterpreter:
    """What tf.lite.Interpreter does with a file its kernels cannot prepare."""

    def __init__(self, *args, **kwargs):
        pass

    def get_input_details(self):
        return [{"index": 0}]

    def resize_tensor_input(self, *args):
        pass

    def allocate_tensors(self):
        raise RuntimeError("failed to create XNNPACK runtimeNode number 13 (TfLiteXNNPackDelegate) failed to prepare.")


@pytest.fixture(scope="module")
def conversions():
    """The run's model as TFLite bytes by kind: converted once for the module (the converter is not what fails)."""
    return {}


@pytest.fixture
def interpreter_fails(monkeypatch, exploded, conversions):
    """Every TFLite interpreter, with XNNPACK or without, fails; the run starts with no TFLite files. The
    conversion before the interpreter is the real one, made once: a file already converted for this run's
    model (by an earlier test) is given again rather than converted anew."""
    run, store = exploded
    monkeypatch.setattr(tflite, "_interpreter", lambda content, with_xnnpack: FailingInterpreter())

    def convert_once(model, kind, representative=None):
        if kind not in conversions:
            conversions[kind] = tflite.convert(model, kind, representative)
        return conversions[kind]

    monkeypatch.setattr(tflite_files, "convert", convert_once)
    for kind, path in tflite_files.paths(store, run.id).items():
        if kind in tflite.KINDS and path.is_file():
            conversions.setdefault(kind, path.read_bytes())
        path.unlink(missing_ok=True)
    return run, store


def test_a_tflite_file_xnnpack_refuses_is_run_without_it_and_kept(exploded):
    run, store = exploded
    files = members(run_bundle(run, store))
    assert set(files) == {*EVERYTHING_ELSE, *PHONE_FILES}
    # The int8 file the bundle kept (converted once, as make_files converts it) is one XNNPACK refuses:
    _, x_test, _, _ = tflite_files._run_data(run)
    with pytest.raises(RuntimeError, match="XNNPACK"):  # the crash, still there in the interpreter
        tflite._run_batches(tflite._interpreter(files["model_int8.tflite"], with_xnnpack=True), x_test[:10])
    card = files["model_card.md"].decode()
    assert "TensorFlow Lite int8 (model_int8.tflite)" in card
    assert f"test accuracy {100 * run.test_accuracy:.1f} %" in card  # the int8 file guesses the same class


def test_when_tflite_fails_the_bundle_has_everything_else_and_says_why(interpreter_fails):
    run, store = interpreter_fails
    bundle = build_bundle(run, store)
    files = members(bundle.content)
    assert set(files) == set(EVERYTHING_ELSE)
    assert files["model.keras"] == store.model_path(run.id).read_bytes()
    readme = " ".join(files["README.txt"].decode().split())
    assert "(no .tflite files: The TensorFlow Lite interpreter could not run the float32 file" in readme
    assert "lower the learning rate and train again" in readme and "Traceback" not in readme
    assert bundle.no_phone_files.startswith("The TensorFlow Lite interpreter could not run the float32 file")
    assert not any(path.exists() for path in tflite_files.paths(store, run.id).values())  # no half-made pair


def test_make_files_gives_a_plain_message_when_the_interpreter_fails(interpreter_fails):
    run, store = interpreter_fails
    with pytest.raises(tflite.TFLiteUnavailable) as failure:
        tflite_files.make_files(store, run)
    message = str(failure.value)
    assert message.startswith("The TensorFlow Lite interpreter could not run the float32 file")
    assert "XNNPACK" not in message and str(store.home) not in message


def test_the_cli_writes_the_bundle_and_warns_when_tflite_fails(interpreter_fails, tmp_path, capsys):
    run, store = interpreter_fails
    out = tmp_path / "bundle.zip"
    assert main(["bundle", run.id, "--home", str(store.home), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"Wrote {out}" in err
    assert "Warning: the bundle has no .tflite files: The TensorFlow Lite interpreter could not run" in err
    assert "Traceback" not in err
    with zipfile.ZipFile(out) as archive:
        assert f"{bundle_folder(run)}/model.keras" in archive.namelist()
