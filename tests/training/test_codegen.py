"""Exported code: the training script runs on its own and builds the same model."""

import subprocess
import sys

import pytest
from helpers import REAL_FASHION_MNIST

from core.model.spec import analyze
from core.training.codegen import snippet, training_script
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS


def run_script(script: str, tmp_path, env, *args) -> subprocess.CompletedProcess:
    path = tmp_path / "exported.py"
    path.write_text(script)
    # Run from an empty folder, without the repo on the path: the script must stand alone.
    env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, str(path), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240
    )


def test_exported_shapes_script_trains_model1(tmp_path, subprocess_env):
    spec = PRESETS["model1"].spec(num_classes=5)
    assert analyze(spec, (28, 28, 1), 5).total_params == 107_973
    script = training_script(spec, "shapes", PRESETS["model1"].app_hyperparameters, "Model 1")
    assert "TITLE = 'Model 1'" in script
    done = run_script(script, tmp_path, subprocess_env, "--epochs", "1", "--limit-train", "200", "--limit-test", "50")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Total params: 107,973" in done.stdout
    assert "conv2d_1 (Conv2D)" in done.stdout  # the same layer names as the app shows
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("Test accuracy: ") and "Test loss: " in last
    assert 0 <= float(last.split()[2]) <= 1


@pytest.mark.skipif(
    not (REAL_FASHION_MNIST / "train-images-idx3-ubyte.gz").exists(),
    reason="real Fashion-MNIST not installed (sudo apt-get install dataset-fashion-mnist)",
)
def test_exported_fashion_mnist_script_reads_the_debian_files(tmp_path, subprocess_env):
    script = training_script(PRESETS["model2"].spec(), "fashion_mnist", PRESETS["model2"].seed_hyperparameters)
    assert "keras.optimizers.SGD(learning_rate=0.01)" in script and "batch_size=32" in script
    done = run_script(script, tmp_path, subprocess_env, "--epochs", "1", "--limit-train", "200", "--limit-test", "50")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Total params: 75,594" in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("Test accuracy: ")


def test_script_carries_the_hyperparameters():
    hp = Hyperparameters(
        optimizer="rmsprop", learning_rate=0.0005, epochs=7, batch_size=128, validation_split=0.2, seed=99
    )
    script = training_script(PRESETS["model3"].spec(), "mnist", hp)
    compile(script, "exported.py", "exec")
    assert "keras.optimizers.RMSprop(learning_rate=0.0005)" in script
    assert "default=7" in script and "batch_size=128" in script and "validation_split=0.2" in script
    assert "keras.utils.set_random_seed(99)" in script
    assert "keras.datasets.mnist.load_data()" in script
    assert "layers.Dense(256, activation='relu', name='dense')" in script


def test_unknown_dataset_cannot_be_exported():
    with pytest.raises(ValueError, match="No exported data loader for data set 'cifar'"):
        training_script(PRESETS["model1"].spec(), "cifar", Hyperparameters())


def test_snippet_builds_the_model(capsys):
    namespace = {}
    exec(snippet(PRESETS["modern"].spec()), namespace)
    assert namespace["model"].count_params() == analyze(PRESETS["modern"].spec()).total_params
    assert "Total params: 94,858" in capsys.readouterr().out
