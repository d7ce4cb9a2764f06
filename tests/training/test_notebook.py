"""A run's notebook runs top to bottom in a Jupyter kernel (nbclient) and reaches the app's test result.

One tiny run each: model 1 on 2,000 Fashion-MNIST images for one epoch, and the Dense preset on the
example house prices (an imported table: the notebook reads its CSV beside it)."""

import re

import nbformat
import pytest
from helpers import wait_for
from nbclient import NotebookClient

from core.data.tabular import EXAMPLE_TARGET, make_example_houses, prepare, save_table
from core.notebook import run_notebook
from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS, TABLE_PRESETS

KERNEL_TIMEOUT = 600  # seconds for one cell: a safety net on a busy machine, not a speed claim


@pytest.fixture(autouse=True)
def _jupyter_environment(monkeypatch):
    """The kernel inherits this process's environment; importing Streamlit (the test helpers do) sets
    MPLBACKEND=Agg, which would keep the plots out of the notebook, as no learner's Jupyter does."""
    monkeypatch.delenv("MPLBACKEND", raising=False)


def trained(tmp_path, spec, dataset, hp, name):
    store = RunStore(tmp_path / "home")
    run = wait_for(RunManager(store, max_concurrent=1).start(spec, dataset, hp, owner="me", name=name), timeout=600)
    assert run.status == "finished", run.message
    return store.load(run.id)


def execute(notebook, folder) -> tuple[str, int]:
    """Run every cell as Jupyter would, in the folder the download unpacks to; its printed text and plots."""
    folder.mkdir()
    if notebook.data is not None:
        (folder / notebook.data_filename).write_bytes(notebook.data)
    book = nbformat.reads(notebook.text, as_version=4)
    NotebookClient(
        book, timeout=KERNEL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails
    outputs = [output for cell in book.cells if cell.cell_type == "code" for output in cell.outputs]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.name == "stdout")
    plots = sum(1 for o in outputs if "image/png" in o.get("data", {}))
    return printed, plots


def test_the_notebook_of_a_fashion_mnist_run_reaches_the_apps_test_accuracy(tmp_path):
    hp = Hyperparameters(epochs=1, batch_size=64, limit_train=2000, limit_test=1000, seed=7)
    run = trained(tmp_path, PRESETS["model1"].spec(), "fashion_mnist", hp, "tiny *model 1*")
    printed, plots = execute(run_notebook(run), tmp_path / "notebook")
    assert "training: (2000, 28, 28, 1)  test: (1000, 28, 28, 1)" in printed  # the same images and limits
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)", printed).group(1))
    assert accuracy == pytest.approx(run.results["test_accuracy"], abs=0.02)
    assert f"CNN Playground measured: test accuracy {run.results['test_accuracy']:.4f}" in printed
    assert plots == 3  # the samples, the curves, the confusion matrix


def test_the_notebook_of_a_regression_reads_its_csv_and_reaches_the_apps_test_mae(tmp_path):
    name = save_table(prepare(make_example_houses(), EXAMPLE_TARGET), owner="me", title="Houses")
    spec = TABLE_PRESETS["tabular"].spec(input_shape=(7,), num_classes=1)
    hp = Hyperparameters(optimizer="adam", learning_rate=0.01, epochs=5, batch_size=32, seed=3)
    run = trained(tmp_path, spec, name, hp, "houses")
    notebook = run_notebook(run)
    assert notebook.data_filename.endswith(".csv")
    printed, plots = execute(notebook, tmp_path / "notebook")
    mae = float(re.search(r"Test MAE: ([0-9.e+-]+)", printed).group(1))
    assert mae == pytest.approx(run.results["test_mae"], rel=0.03)  # in the target's own units, like the app's
    assert plots == 2  # the curves, predicted against actual
