"""Skip connections in Keras: the functional build matches analyze(), a tiny run trains, converts to TFLite,
is explained inside, and its exported script stands alone and reproduces the app's test accuracy."""

import io
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from core.data.datasets import load_dataset
from core.export import run_bundle
from core.insight.arithmetic import add_arithmetic, conv_arithmetic, conv_result, layer_values, receptive_field
from core.insight.inspection import feature_maps, grad_cam, load_run_model
from core.insight.tflite_files import saved_files
from core.model.keras_build import build_model
from core.model.spec import analyze, layer_names
from core.runs.manager import RunManager
from core.runs.record import Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

# Every graph layer: a block keeping its shape, one halving it (a projection shortcut), a hand-wired Add
# through a 1×1 convolution and a Concatenate.
SPEC = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "ResidualBlock", "filters": 8, "kernel_size": 3},
        {"type": "ResidualBlock", "filters": 16, "kernel_size": 3, "strides": 2},
        {"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"type": "Add", "with": 3, "projection": True},
        {"type": "Concatenate", "with": 4},
        {"type": "GlobalAveragePooling2D"},
        {"type": "Dense", "units": 5, "activation": "softmax"},
    ],
}
HP = Hyperparameters(epochs=1, batch_size=32, limit_train=1000, limit_test=200, seed=5)


def test_the_functional_model_has_the_parameters_and_names_analyze_gives():
    analysis = analyze(SPEC)
    assert analysis.ok, analysis.problems
    model = build_model(SPEC)
    assert model.count_params() == analysis.total_params
    names = {layer.name for layer in model.layers}
    assert set(layer_names(SPEC)) <= names  # each spec layer's output is the Keras layer of its name
    assert {"residual_block_1_shortcut", "add_shortcut", "residual_block_add"} <= names
    for report in analysis.layers:
        assert tuple(model.get_layer(report.name).output.shape[1:]) == report.output_shape
    plain = build_model(PRESETS["model1"].spec())  # a plain stack stays exactly as before
    assert type(plain).__name__ == "Sequential" and plain.count_params() == 108_618
    assert [layer.name for layer in plain.layers] == layer_names(PRESETS["model1"].spec())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("residual") / "home")
    manager = RunManager(store, max_concurrent=1)
    run = manager.start(SPEC, "shapes", HP, owner="me", name="tiny resnet")
    assert run.wait(300)
    assert run.status == Status.FINISHED, run.message
    return store.load(run.id), store


def test_a_tiny_residual_run_trains_converts_and_is_explained(trained):
    run, store = trained
    assert run.params == analyze(SPEC).total_params and len(run.epoch_history()) == 1
    assert 0 <= run.test_accuracy <= 1
    bundle = run_bundle(run, store)  # makes the TFLite pair: Add, Concatenate and ReLU are built-in ops
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        assert {"model_float32.tflite", "model_int8.tflite"} <= {n.split("/", 1)[1] for n in archive.namelist()}
    float32 = next(f for f in saved_files(store, run.id) if f.kind == "float32")
    assert float32.tflite_value == pytest.approx(float32.keras_value, abs=0.01)

    model = load_run_model(store, run.id)
    image = load_dataset("shapes").as_float("x_test")[0]
    values = layer_values(model, image)
    assert len(values["add"][0]) == 2  # an Add's input: the main path and its shortcut
    step = add_arithmetic(model, image, "residual_block_add", 3, 4, 5)
    assert step.sources == ("residual_block_bn2", "max_pooling2d")  # the first block adds its input as it is
    assert step.value == pytest.approx(step.model_value, abs=1e-5)
    inner_conv = conv_arithmetic(model, image, "residual_block_1_conv2", 0, 2, 2)
    assert conv_result(inner_conv, model) == pytest.approx(inner_conv.model_value, abs=1e-4)
    # Back along every path of the blocks: the widest area any path reaches (through all six 3×3 convolutions).
    assert receptive_field(model, "residual_block_1", 0, 0) == (0, 0, 14, 14)
    assert grad_cam(model, image).layer == "concatenate"  # the last maps, after every path has joined
    assert "residual_block_conv1" in [m.layer for m in feature_maps(model, image)]
    assert np.isfinite(grad_cam(model, image).heatmap).all()


def test_the_bundled_script_stands_alone_and_reproduces_the_test_accuracy(trained, tmp_path, subprocess_env):
    run, store = trained
    with zipfile.ZipFile(io.BytesIO(run_bundle(run, store))) as archive:
        archive.extractall(tmp_path / "unzipped")
    script = tmp_path / "unzipped" / f"cnn-playground-{run.id}" / "train.py"
    env = {k: v for k, v in subprocess_env.items() if k != "PYTHONPATH"}  # the script must stand alone
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=script.parent, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Total params: {run.params:,}" in done.stdout
    accuracy = float(re.search(r"Test accuracy: ([\d.]+)", done.stdout).group(1))
    # Same data, seed, settings and model: the same result but for threads adding in another order.
    assert accuracy == pytest.approx(run.test_accuracy, abs=0.03)
