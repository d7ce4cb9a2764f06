"""A run's notebook: its steps in order, the run's own layers and settings, what a user wrote shown
literally, an imported data set's file beside it, and `python -m core notebook` (in-process).

Executing the notebook needs TensorFlow: tests/training/test_notebook.py does that."""

import ast
import io
import re
import zipfile

import nbformat
import numpy as np
import pandas as pd
import pytest
from helpers import finished_run

from core.cli import main
from core.data.datasets import REGRESSION, load_dataset
from core.data.user_datasets import UserDatasetStore
from core.notebook import NotebookUnavailable, download_name, markdown_text, notebook_problem, run_notebook
from core.runs.record import Run, Status
from core.runs.store import RunStore
from core.training.codegen import IMPORTED_IMAGES_LOADER, TABLE_LOADER, model_code
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS, TABLE_PRESETS

HOSTILE_NAME = "<img src=x onerror=alert(1)> **bold** [link](http://x) $x^2$ `code`\n# not a heading"
HOSTILE_CLASSES = ["<b>boots</b>", "a$b$c", "'); import os #", "x\n## y"]


def cells(run) -> list:
    return nbformat.reads(run_notebook(run).text, as_version=4).cells


def headings(notebook_cells) -> list[str]:
    return [
        line for c in notebook_cells if c.cell_type == "markdown" for line in c.source.splitlines() if line[:1] == "#"
    ]


def code(notebook_cells) -> str:
    return "\n".join(c.source for c in notebook_cells if c.cell_type == "code")


def ended(run: Run, status=Status.FINISHED, results=None) -> Run:
    run.begin(1)
    run.finish(status, "", results)
    return run


def image_dataset(class_names=HOSTILE_CLASSES, shape=(8, 8, 3)) -> str:
    rng = np.random.default_rng(0)
    k = len(class_names)
    arrays = {
        "x_train": rng.integers(0, 256, (40, *shape), dtype=np.uint8),
        "y_train": np.arange(40) % k,
        "x_test": rng.integers(0, 256, (12, *shape), dtype=np.uint8),
        "y_test": np.arange(12) % k,
    }
    return UserDatasetStore().save(owner="me", title="My <i>photos</i>", arrays=arrays, class_names=class_names)


def table_dataset() -> str:
    rng = np.random.default_rng(1)
    features = ["area m²", "rooms", "district=north", "target"]  # a feature named like a part of the file
    arrays = {
        "x_train": rng.normal(size=(30, 4)).astype(np.float32),
        "y_train": rng.normal(300, 50, 30).astype(np.float32),
        "x_test": rng.normal(size=(8, 4)).astype(np.float32),
        "y_test": rng.normal(300, 50, 8).astype(np.float32),
    }
    return UserDatasetStore().save(
        owner="me",
        title="Houses",
        arrays=arrays,
        task=REGRESSION,
        feature_names=features,
        target_name="price <k€>",
    )


def test_the_lesson_steps_come_in_order_with_the_runs_layers_and_settings():
    run = finished_run(name="first try")
    notebook_cells = cells(run)
    assert headings(notebook_cells) == [
        "# first try",
        "## The settings of this run",
        "## 1. Load the data",
        "## 2. A few samples",
        "## 3. Build the model",
        "## 4. Compile and train",
        "## 5. Accuracy and loss during training",
        "## 6. The test set",
        "## 7. Confusion matrix",
    ]
    source = code(notebook_cells)
    assert model_code(run.spec) in source  # the run's exact layers, as the builder's code shows them
    assert "layers.Conv2D(16, kernel_size=3, activation='relu', name='conv2d')" in source
    assert "keras.utils.set_random_seed(SEED)" in source and "SEED = 5" in source
    assert "keras.optimizers.Adam(learning_rate=0.001)" in source and "batch_size=16" in source
    assert "validation_split=0.1" in source and "make_shapes(2000, seed=1)" in source
    assert "CLASS_NAMES = ['square', 'circle', 'triangle', 'cross', 'ring']" in source
    assert "model.summary()" in source and "history.history" in source and "np.add.at(matrix" in source
    ast.parse(source)  # the code cells are Python
    markdown = "\n".join(c.source for c in notebook_cells if c.cell_type == "markdown")
    assert "test accuracy **75.00 %**" in markdown  # what the app measured, to compare with
    assert "Slides small learned filters over the image" in markdown  # the layer registry's own words
    nbformat.validate(nbformat.reads(run_notebook(run).text, as_version=4))


def test_a_hostile_run_name_is_shown_literally():
    notebook_cells = cells(finished_run(name=HOSTILE_NAME))
    title = notebook_cells[0].source.splitlines()[0]
    assert title == (
        r"# &lt;img src=x onerror=alert\(1\)&gt; \*\*bold\*\* \[link\]\(http://x\) \$x^2\$ \`code\` \# not a heading"
    )
    assert "<img" not in "".join(c.source for c in notebook_cells)
    assert headings(notebook_cells)[1] == "## The settings of this run"  # the name made no heading of its own


def test_markdown_text_escapes_what_markdown_or_html_would_read():
    assert markdown_text("T-shirt/top") == r"T\-shirt/top"
    assert markdown_text("a & <b>") == "a &amp; &lt;b&gt;"
    assert markdown_text("1. line\n\n| cell |") == r"1\. line \| cell \|"


def test_early_stopping_cosine_schedule_and_limits_reach_the_code():
    hp = Hyperparameters(
        epochs=4,
        batch_size=32,
        seed=9,
        limit_train=500,
        limit_test=200,
        early_stopping_patience=2,
        learning_rate_schedule="cosine",
        learning_rate=0.003,
        optimizer="nadam",
    )
    run = ended(Run(PRESETS["model1"].spec(num_classes=5), "shapes", hp, name="x"))
    notebook_cells = cells(run)
    source = code(notebook_cells)
    assert "LIMIT_TRAIN = 500" in source and "LIMIT_TEST = 200" in source and "EPOCHS = 4" in source
    assert "x_train, y_train = x_train[:LIMIT_TRAIN], y_train[:LIMIT_TRAIN]" in source
    assert 'EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)' in source
    assert "CosineDecay(\n    0.003, decay_steps=EPOCHS * batches, alpha=0.02" in source
    assert "keras.optimizers.Nadam(learning_rate=learning_rate)" in source
    markdown = "\n".join(c.source for c in notebook_cells if c.cell_type == "markdown")
    assert "This run used only the first 500 training examples and the first 200 test examples." in markdown
    assert "has not improved for 2 epoch(s) in a row" in markdown


def test_an_imported_image_set_travels_beside_the_notebook_in_a_zip(tmp_path):
    name = image_dataset()
    run = ended(Run(PRESETS["model1"].spec((8, 8, 3), 4), name, Hyperparameters(seed=1), name="mine"))
    notebook = run_notebook(run)
    file_name, data, mime = notebook.download()
    assert (file_name, mime) == (f"cnn-playground-{run.id}.zip", "application/zip") == download_name(run)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.namelist()
        assert sorted(members) == sorted(
            [
                f"cnn-playground-{run.id}/cnn-playground-{run.id}.ipynb",
                f"cnn-playground-{run.id}/{notebook.data_filename}",
            ]
        )
        archive.extractall(tmp_path)
    folder = tmp_path / f"cnn-playground-{run.id}"
    namespace = {"np": np, "DATA_FILE": str(folder / notebook.data_filename)}
    exec(IMPORTED_IMAGES_LOADER, namespace)  # the notebook's own loader reads the same images and split
    (x_train, y_train), (x_test, y_test) = namespace["load_data"]()
    dataset = load_dataset(name)
    assert np.array_equal(x_train, dataset.x_train) and np.array_equal(y_test, dataset.y_test)
    assert x_test.shape == (12, 8, 8, 3) and np.array_equal(y_train, dataset.y_train)
    source = code(nbformat.reads(notebook.text, as_version=4).cells)
    assert f"DATA_FILE = {notebook.data_filename!r}" in source
    literal = re.search(r"^CLASS_NAMES = (.*)$", source, re.M).group(1)
    assert ast.literal_eval(literal) == list(dataset.class_names)  # as stored (names cleaned), never code
    assert list(dataset.class_names) == [*HOSTILE_CLASSES[:3], "x ## y"]
    markdown = "\n".join(
        c.source for c in nbformat.reads(notebook.text, as_version=4).cells if c.cell_type == "markdown"
    )
    assert r"&lt;b&gt;boots&lt;/b&gt;, a\$b\$c, '\); import os \#, x \#\# y" in markdown
    assert (
        "Your images My &lt;i&gt;photos&lt;/i&gt;, as the app prepared them when you imported them (8×8 pixels, colour)"
        in markdown
    )


def test_a_table_becomes_csv_steps_that_read_back_the_same_numbers(tmp_path):
    name = table_dataset()
    spec = TABLE_PRESETS["tabular"].spec(input_shape=(4,), num_classes=1)
    run = ended(
        Run(spec, name, Hyperparameters(loss="mae", epochs=3), name="houses", task=REGRESSION),
        results={"task": "regression", "test_mae": 12.5, "test_rmse": 15.0, "test_r2": 0.5},
    )
    notebook = run_notebook(run)
    assert notebook.data_filename.endswith("-data.csv")
    path = tmp_path / notebook.data_filename
    path.write_bytes(notebook.data)
    namespace = {"pd": pd, "DATA_FILE": str(path)}
    exec(TABLE_LOADER, namespace)
    (x_train, y_train), (x_test, y_test) = namespace["load_data"]()
    dataset = load_dataset(name)
    for got, expected in ((x_train, dataset.x_train), (y_train, dataset.y_train), (x_test, dataset.x_test)):
        assert np.array_equal(got, expected)  # exactly: float32 written with all its digits
    assert np.array_equal(y_test, dataset.y_test)
    assert pd.read_csv(path).columns[0] == "part"
    notebook_cells = nbformat.reads(notebook.text, as_version=4).cells
    assert headings(notebook_cells)[2:] == [
        "## 1. Load the data",
        "## 2. Build the model",
        "## 3. Compile and train",
        "## 4. MAE and loss during training",
        "## 5. The test set",
        "## 6. Predicted against actual",
    ]
    source = code(notebook_cells)
    assert "loss='mean_absolute_error'" in source and "metrics=['mae']" in source
    assert "y_train_scaled" in source and "output.kernel.assign(output.kernel.numpy() * target_std)" in source
    assert "'loss': target_std ** 1" in source  # an MAE loss scales with the spread, not its square
    assert "pd.read_csv(DATA_FILE).head()" in source
    markdown = "\n".join(c.source for c in notebook_cells if c.cell_type == "markdown")
    assert "test MAE **12.5**" in markdown and r"predicts **price &lt;k€&gt;**" in markdown


def test_a_run_whose_data_set_is_gone_gets_a_plain_reason():
    name = image_dataset()
    run = ended(Run(PRESETS["model1"].spec((8, 8, 3), 4), name, Hyperparameters(), name="mine"))
    assert UserDatasetStore().delete(name, "me")
    with pytest.raises(NotebookUnavailable, match="no longer exists"):
        run_notebook(run)
    assert notebook_problem(run).startswith("The notebook needs the run's data set: This imported data set no longer")
    assert notebook_problem(finished_run()) is None


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "store")


def test_cli_writes_the_notebook_and_refuses_plainly(store, tmp_path, capsys):
    run = finished_run()
    store.save(run)
    out = tmp_path / "run.ipynb"
    assert main(["notebook", run.id, "--home", str(store.home), "--out", str(out)]) == 0
    assert out.read_text() == run_notebook(store.load(run.id)).text
    assert f"Wrote {out}" in capsys.readouterr().err
    assert main(["notebook", "nosuchrun", "--home", str(store.home)]) == 2
    assert "There is no run 'nosuchrun'" in capsys.readouterr().err
    assert main(["notebook", run.id, "--home", str(store.home), "--out", str(tmp_path / "run.txt")]) == 2
    err = capsys.readouterr().err
    assert "--out must end in .ipynb" in err and "Traceback" not in err


def test_cli_writes_an_imported_sets_data_file_beside_the_notebook_or_into_the_zip(store, tmp_path, capsys):
    run = Run(PRESETS["model1"].spec((8, 8, 3), 4), image_dataset(), Hyperparameters(), name="mine")
    store.save(ended(run))
    notebook = run_notebook(run)
    assert main(["notebook", run.id, "--home", str(store.home), "--out", str(tmp_path / "mine.ipynb")]) == 0
    assert (tmp_path / notebook.data_filename).read_bytes() == notebook.data
    assert "and its data file" in capsys.readouterr().err
    assert main(["notebook", run.id, "--home", str(store.home), "--out", str(tmp_path / "mine.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "mine.zip") as archive:
        assert len(archive.namelist()) == 2
