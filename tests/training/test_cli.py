"""The command line as a user runs it: `python -m core ...`, called in this process (the `cli` fixture);
the validate tests run the real `python -m core` in a subprocess, for its exit codes and streams end to end.
"""

import json

import pytest

from core.training.presets import PRESETS


@pytest.fixture
def spec_file(tmp_path):
    def write(content):
        path = tmp_path / "spec.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return path

    return write


def test_presets_lists_the_notebook_models_with_their_params(cli):
    done = cli("presets")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert any(l.startswith("model1") and "108,618 params" in l for l in lines)
    assert any(l.startswith("model2") and "75,594 params" in l for l in lines)
    assert any(l.startswith("model3") and "142,538 params" in l for l in lines)
    assert "notebook: sgd, 30 epochs, batch 32." in done.stdout
    assert all(name in done.stdout for name in PRESETS)


def test_datasets_lists_the_registry(cli):
    done = cli("datasets")
    assert done.returncode == 0
    assert [l.split()[0] for l in done.stdout.splitlines()] == ["fashion_mnist", "mnist", "shapes"]


def test_summary_is_like_keras(cli):
    done = cli("summary", "--preset", "model1")
    assert done.returncode == 0
    out = done.stdout
    assert "Total params: 108,618" in out.splitlines()
    assert "conv2d (Conv2D)" in out and "(None, 26, 26, 16)" in out
    assert "dense (Dense)" in out and "102,528" in out
    assert "Problem" not in out


def test_summary_of_a_spec_file_lists_its_problems(cli, spec_file):
    path = spec_file({"input_shape": [28, 28, 1], "layers": [{"type": "Dense", "units": 10, "activation": "softmax"}]})
    done = cli("summary", "--spec", path)
    assert done.returncode == 0
    assert "Problem: Layer 1: Dense expects a flat vector" in done.stdout


def test_validate_a_valid_spec_exits_0(cli_process, spec_file):
    path = spec_file(PRESETS["model1"].spec(num_classes=5))
    done = cli_process("validate", "--spec", path, "--dataset", "shapes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Valid: 7 layers, 107,973 params."


def test_validate_an_invalid_spec_exits_2_with_plain_problems(cli_process, spec_file):
    path = spec_file(
        {
            "input_shape": [28, 28, 1],
            "layers": [
                {"type": "Conv2D", "filters": 8, "kernel_size": 3},
                {"type": "Dropout", "rate": 1.0},
                {"type": "Dense", "units": 10, "activation": "relu"},
            ],
        }
    )
    done = cli_process("validate", "--spec", path, "--dataset", "shapes")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "The model has 3 problem(s):",
        "- Layer 2: the dropout rate must be at least 0 and below 1 (got 1.0) — use a rate such as 0.25 or 0.5.",
        "- Layer 3: the output layer has 10 units but the data set has 5 classes — set the last Dense layer to 5 units.",
        "- Layer 3: the output layer uses 'relu', so its outputs are not class probabilities — set the last Dense "
        "layer's activation to softmax.",
    ]


def test_validate_param_budget(cli):
    done = cli("validate", "--preset", "model1", "--param-budget", "100000")
    assert done.returncode == 2
    assert "108,618 parameters, more than the limit of 100,000" in done.stderr


def test_validate_missing_file_or_bad_json_exits_2(cli, spec_file, tmp_path):
    done = cli("validate", "--spec", tmp_path / "nowhere.json")
    assert done.returncode == 2
    assert done.stderr.strip() == f"Error: The spec file {tmp_path / 'nowhere.json'} does not exist."

    path = spec_file('{"input_shape": [28, 28, 1], "layers": [')
    done = cli("validate", "--spec", path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"Error: The spec file {path} is not valid JSON (line 1, column")


def test_every_command_has_help(cli):
    for command in ("presets", "datasets", "summary", "validate", "export", "train", "runs"):
        done = cli(command, "--help")
        assert done.returncode == 0 and "usage: python -m core " + command in done.stdout


def test_export_writes_a_script(cli, tmp_path):
    out = tmp_path / "model1.py"
    done = cli("export", "--preset", "model1", "--dataset", "shapes", "--out", out)
    assert done.returncode == 0
    script = out.read_text()
    compile(script, str(out), "exec")
    assert "layers.Conv2D(16, kernel_size=3, activation='relu', name='conv2d')" in script
    assert "layers.Dense(5, activation='softmax', name='dense_1')" in script
    app_defaults = PRESETS["model1"].app_hyperparameters  # export uses the app's settings
    assert f"keras.optimizers.Adam(learning_rate={app_defaults.learning_rate})" in script
    assert f"batch_size={app_defaults.batch_size}" in script
    assert "def make_shapes(" in script
    printed = cli("export", "--preset", "model1", "--dataset", "shapes").stdout
    assert printed.strip() == script.strip()


def test_train_rejects_bad_input_without_training(cli, spec_file, tmp_path):
    done = cli("train", "--preset", "model1", "--dataset", "shapes", "--batch-size", "0", "--out", tmp_path / "x.json")
    assert done.returncode == 2
    assert done.stderr.strip() == "Error: Batch size must be a whole number from 1 to 4096 (got 0)."
    done = cli(
        "train", "--spec", spec_file(PRESETS["model1"].spec()), "--dataset", "shapes", "--out", tmp_path / "x.json"
    )
    assert done.returncode == 2
    # (TensorFlow may print its own start-up lines first: the runner imports it.)
    assert [l for l in done.stderr.splitlines() if l.startswith(("Error:", "- "))] == [
        "Error: The run cannot start:",
        "- Layer 7: the output layer has 10 units but the data set has 5 classes — set the last Dense layer to 5 units.",
    ]
    assert not (tmp_path / "x.json").exists()


def test_train_writes_json_results_and_runs_lists_it(cli, tmp_path):
    out = tmp_path / "result.json"
    done = cli(
        "train",
        "--preset",
        "model1",
        "--dataset",
        "shapes",
        "--epochs",
        "1",
        "--limit-train",
        "300",
        "--limit-test",
        "100",
        "--out",
        out,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "epoch 1/1" in done.stderr and "[##############################]" in done.stderr  # the progress bar
    assert f"wrote {out}" in done.stderr
    report = json.loads(out.read_text())
    assert report["status"] == "finished" and report["message"] == ""
    assert report["params"] == 107_973
    assert report["dataset"] == "shapes"
    assert len(report["history"]) == 1
    assert {"accuracy", "loss", "val_accuracy", "val_loss", "seconds"} <= set(report["history"][0])
    assert report["history"][0]["seconds"] > 0
    assert 0 <= report["test_accuracy"] <= 1 and report["test_loss"] > 0
    assert report["results"]["test_examples"] == 100
    assert report["hyperparameters"]["validation_split"] == 0.1
    assert report["hyperparameters"]["optimizer"] == "adam" and report["hyperparameters"]["epochs"] == 1

    listed = cli("runs")
    assert listed.returncode == 0
    assert len(listed.stdout.splitlines()) == 1
    line = listed.stdout.splitlines()[0]
    assert line.startswith(report["run_id"]) and "finished" in line and "shapes" in line
    assert "107,973 params" in line and f"test acc {report['test_accuracy']:.4f}" in line


def test_runs_on_an_empty_store(cli, tmp_path):
    done = cli("runs", "--home", tmp_path / "empty")
    assert done.returncode == 0 and done.stdout.strip() == "No runs stored yet."


def _small_image_zip(path, classes=("cat", "dog"), per_class=20):
    """A zip of two class folders of 16×16 PNGs: an imported set far below SMALL_DATA_SET images."""
    import io
    import zipfile

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as archive:
        for k, name in enumerate(classes):
            for i in range(per_class):
                pixels = rng.integers(0, 60, (16, 16)).astype(np.uint8) + (150 if k else 0)
                image = io.BytesIO()
                Image.fromarray(pixels).save(image, "PNG")
                archive.writestr(f"{name}/{i:02d}.png", image.getvalue())
    return path


def test_import_images_keeps_grey_images_grey_unless_told_otherwise(cli, tmp_path):
    from core.data.datasets import load_dataset

    archive = _small_image_zip(tmp_path / "pets.zip")  # grey PNGs
    imported = {}
    for name, flags in (("Auto", ()), ("Colour", ("--colour", "colour")), ("Grey", ("--colour", "grey"))):
        done = cli("import-images", archive, "--name", name, "--size", 16, *flags)
        assert done.returncode == 0, done.stderr
        imported[name] = done.stdout
        dataset = done.stdout.split("Imported as data set ")[1].split()[0]
        assert load_dataset(dataset).input_shape == (16, 16, 3 if name == "Colour" else 1)
    assert "Images: 16×16 grey" in imported["Auto"] and "All 40 images are grey: imported as grey." in imported["Auto"]
    assert "Images: 16×16 colour" in imported["Colour"] and "though all 40 images are grey" in imported["Colour"]
    assert "Imported as grey, as chosen." in imported["Grey"]
    wrong = cli("import-images", archive, "--name", "Wrong", "--colour", "sepia")
    assert wrong.returncode == 2 and "invalid choice: 'sepia'" in wrong.stderr


def test_train_on_a_small_imported_set_starts_from_the_small_set_defaults_the_app_uses(cli, tmp_path):
    from core.training.presets import MAX_SMALL_SET_EPOCHS, defaults_for_dataset

    imported = cli("import-images", _small_image_zip(tmp_path / "pets.zip"), "--name", "Pets", "--size", 16, "--grey")
    assert imported.returncode == 0, imported.stderr
    name = imported.stdout.split("Imported as data set ")[1].split()[0]
    out = tmp_path / "pets.json"
    done = cli("train", "--preset", "blank", "--dataset", name, "--out", out)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["status"] == "finished" and report["dataset"] == name
    blank = PRESETS["blank"]
    # The small-set settings (Blank's own learning rate for a small set, and more epochs), not the large sets'.
    assert report["hyperparameters"]["epochs"] == MAX_SMALL_SET_EPOCHS > blank.app_hyperparameters.epochs
    assert report["hyperparameters"]["learning_rate"] == blank.small_set_hyperparameters.learning_rate
    assert report["hyperparameters"] == defaults_for_dataset(blank, name).to_dict()  # what the app's Train shows
    assert len(report["history"]) == MAX_SMALL_SET_EPOCHS
    # A set of 2,000 images is not small: the preset's own settings (an imported set cannot be exported as a
    # standalone script, which could not load it).
    script = cli("export", "--preset", "blank", "--dataset", "shapes").stdout
    assert f'parser.add_argument("--epochs", type=int, default={blank.app_hyperparameters.epochs})' in script
    assert f"Adam(learning_rate={blank.app_hyperparameters.learning_rate:g})" in script


def test_a_dataset_name_that_is_neither_built_in_nor_imported_is_refused(cli, tmp_path):
    done = cli("train", "--preset", "model1", "--dataset", "cifar", "--out", tmp_path / "x.json")
    assert done.returncode == 2
    assert "unknown data set 'cifar': choose one of fashion_mnist, mnist, shapes, or an imported" in done.stderr
    done = cli("train", "--preset", "model1", "--dataset", "own-0123456789ab", "--out", tmp_path / "x.json")
    assert done.returncode == 2 and "Error:" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.json").exists()
