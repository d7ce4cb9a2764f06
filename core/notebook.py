"""A run as a Jupyter notebook: the steps of the classic lesson, with this run's data, layers and settings.

Load the data (the same images or rows, the same split and limits), show a few samples, build the model
(the run's layers as Keras code, core.training.codegen), its summary, compile and fit with the run's
settings and seed, the accuracy/loss curves from the history, the test set, and the confusion matrix (a
regression: predicted against actual). Markdown cells explain each step in the app's words: the layer
registry's sentences, the settings' help. The code imports nothing from this project: built-in data sets
load as the bundle's training script loads them; a data set imported in the app travels beside the
notebook as a data file (images as .npz, a table as .csv), so such a download is a zip of both.

Text a user wrote (the run's name, class names, column names) reaches Markdown cells only through
:func:`markdown_text` and code cells only as Python literals made by ``repr``.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import nbformat
import numpy as np
import pandas as pd

from core.data.datasets import DATASETS, USER_PREFIX, DatasetUnavailable, load_dataset
from core.model.spec import LAYER_TYPES, layer_names
from core.runs.record import Run, Status
from core.training.codegen import (
    DATA_LOADERS,
    IMPORTED_IMAGES_LOADER,
    TABLE_LOADER,
    compile_code,
    fit_code,
    fold_scaling_code,
    image_preparation_code,
    model_code,
    table_preparation_code,
    target_scaling_code,
)
from core.training.hyperparams import FIELDS_BY_NAME, LOSSES, OPTIMIZERS
from core.training.tasks import format_number
from core.training.validation import InvalidInput

SAMPLES = 10  # images shown in the samples cell
NOTEBOOK_MIME = "application/x-ipynb+json"
TABLE_PART_COLUMN = "part"  # the data CSV's first column: "train" or "test"

# Characters that mean something in Markdown (and $, which Jupyter reads as the start of LaTeX).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")


class NotebookUnavailable(Exception):
    """No notebook can be made for this run; the message says why in plain words."""


def markdown_text(text) -> str:
    """What a user wrote, shown literally in a Markdown cell: on one line, HTML and Markdown escaped."""
    line = " ".join(str(text).split())
    line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", line)


@dataclass(frozen=True)
class RunNotebook:
    """A run's notebook (the .ipynb's text) and, for a data set imported in the app, its data file."""

    folder: str  # cnn-playground-RUN_ID: the notebook's name without .ipynb, the zip's folder
    text: str
    data_filename: str | None = None
    data: bytes | None = None

    @property
    def filename(self) -> str:
        return f"{self.folder}.ipynb"

    def zip_bytes(self) -> bytes:
        """The notebook and its data file in one folder: unzipped, the notebook finds the file beside it."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{self.folder}/{self.filename}", self.text)
            if self.data is not None:
                archive.writestr(f"{self.folder}/{self.data_filename}", self.data)
        return buffer.getvalue()

    def download(self) -> tuple[str, bytes, str]:
        """(file name, bytes, MIME type): the .ipynb alone, or a zip when a data file goes with it."""
        if self.data is None:
            return self.filename, self.text.encode(), NOTEBOOK_MIME
        return f"{self.folder}.zip", self.zip_bytes(), "application/zip"


def download_name(run: Run) -> tuple[str, str]:
    """The download's file name and MIME type, known before the notebook is made: a zip when a data file
    goes with it (the run's data set was imported in the app)."""
    folder = _folder(run)
    if run.dataset.startswith(USER_PREFIX):
        return f"{folder}.zip", "application/zip"
    return f"{folder}.ipynb", NOTEBOOK_MIME


def notebook_problem(run: Run) -> str | None:
    """Why no notebook can be made for the run (plain words), or None. Cheap: the data set is loaded once
    per process, and the notebook itself is not made."""
    try:
        _check(run)
    except NotebookUnavailable as error:
        return str(error)
    return None


def _folder(run: Run) -> str:
    return f"cnn-playground-{run.id}"


def _check(run: Run):
    """The run's data set, once it is sure that a notebook can be made."""
    if not run.dataset.startswith(USER_PREFIX) and run.dataset not in DATA_LOADERS:
        raise NotebookUnavailable(f"The data set of run {run.id} is not one a notebook can load.")
    try:
        dataset = load_dataset(run.dataset)
    except DatasetUnavailable as error:
        raise NotebookUnavailable(f"The notebook needs the run's data set: {error}") from None
    try:
        model_code(run.spec)
    except InvalidInput as error:  # a stored spec that is no longer valid
        raise NotebookUnavailable(f"The model of run {run.id} cannot be written as code: {error}") from None
    return dataset


def run_notebook(run: Run) -> RunNotebook:
    """The notebook of ``run``. Raises NotebookUnavailable (plain message) when its data set is gone or
    its model cannot be written as code."""
    dataset = _check(run)
    folder = _folder(run)
    data_filename = data = None
    if run.dataset.startswith(USER_PREFIX):
        data_filename = f"{folder}-data.{'npz' if dataset.is_images else 'csv'}"
        data = _images_file(dataset) if dataset.is_images else _table_file(dataset)
    notebook = nbformat.v4.new_notebook(
        cells=_Cells(run, dataset, data_filename).cells(),
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    return RunNotebook(folder, nbformat.writes(notebook), data_filename, data)


def _images_file(dataset) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, x_train=dataset.x_train, y_train=dataset.y_train, x_test=dataset.x_test, y_test=dataset.y_test
    )
    return buffer.getvalue()


def _table_file(dataset) -> bytes:
    """The prepared table as CSV: which part each row is in, the input columns, the target last.
    float32 values are written with enough digits to read back exactly."""
    columns = [*dataset.feature_names, dataset.target_name or "target"]
    parts = []
    for part in ("train", "test"):
        x, y = getattr(dataset, f"x_{part}"), getattr(dataset, f"y_{part}")
        values = pd.DataFrame(np.column_stack([x, y]).astype(np.float32), columns=columns)
        parts.append(pd.concat([pd.DataFrame({TABLE_PART_COLUMN: [part] * len(x)}), values], axis=1))
    return pd.concat(parts, ignore_index=True).to_csv(index=False).encode()


def _percent(value: float) -> str:
    return f"{100 * value:.2f} %"


class _Cells:
    """The notebook's cells for one run, step by step."""

    def __init__(self, run: Run, dataset, data_filename: str | None):
        self.run, self.dataset, self.data_filename = run, dataset, data_filename
        self.hp = run.hyperparameters
        self.task = run.task
        self.regression = self.task.is_regression
        self.results = run.results or {}

    def cells(self) -> list:
        steps = [self._introduction(), self._settings(), self._data(), self._samples(), self._model()]
        steps += [self._training(), self._curves(), self._test(), self._confusion_or_scatter()]
        cells = [cell for step in steps for cell in step]
        for number, cell in enumerate(cells, 1):
            cell.id = f"cell-{number}"  # the same run gives the same file, byte for byte
        return cells

    @staticmethod
    def _md(*lines: str):
        return nbformat.v4.new_markdown_cell("\n".join(lines))

    @staticmethod
    def _code(source: str):
        return nbformat.v4.new_code_cell(source.strip("\n"))

    # --- the steps -------------------------------------------------------------------------------

    def _introduction(self) -> list:
        run = self.run
        name = markdown_text(run.name) if run.name else "An unnamed run"
        app_result = self.task.headline(self.results, decimals=2, bold=True)
        measured = f"In CNN Playground this run reached {app_result}." if app_result else ""
        notes = []
        if run.status == Status.STOPPED:
            notes.append(
                f"The run was stopped after {run.epoch} of {self.hp.epochs} epochs; this notebook trains all "
                f"{self.hp.epochs}, so its numbers will differ."
            )
        elif run.status not in (Status.FINISHED,):
            notes.append(f"The run has no test results in the app (it is {run.status}).")
        packages = "keras tensorflow matplotlib numpy" + (" pandas" if self.regression else "")
        return [
            self._md(
                f"# {name}",
                "",
                f"Run `{run.id}` from CNN Playground as a notebook: the steps of the classic Fashion-MNIST lesson "
                "with this run's data, layers and settings. Run the cells from top to bottom; with the same "
                "seed the network learns as it did in the app. " + measured,
                "",
                *(f"{note}\n" for note in notes),
                f"It needs Python with these packages: `pip install {packages}`.",
            ),
            self._code(
                "import numpy as np\n"
                + ("import pandas as pd\n" if self.regression else "")
                + "import matplotlib.pyplot as plt\nimport keras\nfrom keras import layers\n\n"
                + 'plt.rcParams["text.parse_math"] = False  # names are shown as written, never as formulas'
            ),
        ]

    def _settings(self) -> list:
        hp = self.hp
        values = {
            "optimizer": f"{hp.optimizer} ({OPTIMIZERS[hp.optimizer].summary.rstrip('.')})",
            "learning_rate": f"{hp.effective_learning_rate:g}",
            "learning_rate_schedule": hp.learning_rate_schedule,
            "epochs": hp.epochs,
            "batch_size": hp.batch_size,
            "validation_split": hp.validation_split,
            "seed": hp.seed,
            "early_stopping_patience": hp.early_stopping_patience or "off",
            "limit_train": hp.limit_train or "all",
            "limit_test": hp.limit_test or "all",
        }
        if self.regression:
            values["loss"] = LOSSES[hp.loss].title
        else:
            values["label_smoothing"] = hp.label_smoothing or "off"
            values["target_accuracy"] = f"{hp.target_accuracy:.1%}" if hp.target_accuracy is not None else "off"
        rows = [
            f"| {FIELDS_BY_NAME[key].label} | {value} | {FIELDS_BY_NAME[key].help} |" for key, value in values.items()
        ]
        constants = [
            f"EPOCHS = {hp.epochs!r}",
            f"SEED = {hp.seed!r}",
            f"LIMIT_TRAIN = {hp.limit_train!r}  # train on the first N examples only (None: all)",
            f"LIMIT_TEST = {hp.limit_test!r}",
        ]
        if self.data_filename:
            constants.append(f"DATA_FILE = {self.data_filename!r}  # beside this notebook")
        return [
            self._md("## The settings of this run", "", "| Setting | Value | What it does |", "|---|---|---|", *rows),
            self._code("\n".join(constants)),
        ]

    def _data_description(self) -> str:
        dataset = self.dataset
        if self.run.dataset in DATASETS:
            return DATASETS[self.run.dataset].description
        if self.regression:
            return (
                f"Your table {markdown_text(dataset.title)}, as the app prepared it when you imported it: "
                f"{len(dataset.x_train):,} rows to train on and {len(dataset.x_test):,} held back to test. "
                f"The network predicts **{markdown_text(dataset.target_name)}** from "
                f"{len(dataset.feature_names)} input columns (numbers normalised with the training rows' mean "
                "and spread, text columns one-hot encoded). They are in the file beside this notebook."
            )
        height, width, channels = dataset.input_shape
        return (
            f"Your images {markdown_text(dataset.title)}, as the app prepared them when you imported them "
            f"({height}×{width} pixels, {'grey' if channels == 1 else 'colour'}): {len(dataset.x_train):,} to train on "
            f"and {len(dataset.x_test):,} held back to test. They are in the file beside this notebook."
        )

    def _data(self) -> list:
        hp = self.hp
        limits = []
        if hp.limit_train:
            limits.append(f"the first {hp.limit_train:,} training examples")
        if hp.limit_test:
            limits.append(f"the first {hp.limit_test:,} test examples")
        used = f" This run used only {' and '.join(limits)}." if limits else ""
        if self.run.dataset.startswith(USER_PREFIX):
            loader = TABLE_LOADER if self.regression else IMPORTED_IMAGES_LOADER
        else:
            loader = DATA_LOADERS[self.run.dataset]()
        prepare = table_preparation_code if self.regression else image_preparation_code
        load = [
            loader.strip("\n"),
            "",
            "",
            "(x_train, y_train), (x_test, y_test) = load_data()",
            prepare("LIMIT_TRAIN", "LIMIT_TEST").rstrip("\n"),
            'print("training:", x_train.shape, " test:", x_test.shape)',
        ]
        intro = ["## 1. Load the data", "", self._data_description() + used]
        if self.regression:
            intro += ["", "The first rows of the file:"]
        else:
            names = ", ".join(markdown_text(n) for n in self._class_names())
            intro += ["", f"The classes: {names}."]
        cells = [self._md(*intro)]
        if self.regression:
            cells.append(self._code("pd.read_csv(DATA_FILE).head()"))
        cells.append(self._code("\n".join(load)))
        return cells

    def _class_names(self) -> list[str]:
        return list(self.results.get("class_names") or self.dataset.class_names)

    def _samples(self) -> list:
        if self.regression:
            return []
        return [
            self._md(
                "## 2. A few samples",
                "",
                "The first training images with their class: what the network learns from.",
            ),
            self._code(
                f"CLASS_NAMES = {self._class_names()!r}\n"
                f"figure, axes = plt.subplots(1, {SAMPLES}, figsize=({SAMPLES * 1.2:g}, 1.8))\n"
                "for axis, image, label in zip(axes, x_train, y_train):\n"
                '    axis.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)\n'
                "    axis.set_title(CLASS_NAMES[label], fontsize=8)\n"
                '    axis.axis("off")\n'
                "plt.show()"
            ),
        ]

    def _model(self) -> list:
        spec = self.run.spec
        code = model_code(spec, (self.run.results or {}).get("batch_norm_momentum"))  # validates the spec
        layers = [
            f"- **{name}** ({layer['type']}): {LAYER_TYPES[layer['type']].summary}"
            for name, layer in zip(layer_names(spec), spec["layers"])
        ]
        params = f" It has {self.run.params:,} parameters (weights) to learn." if self.run.params else ""
        step = "2" if self.regression else "3"
        return [
            self._md(
                f"## {step}. Build the model",
                "",
                f"The run's layers, in order.{params} The seed is set first, so the network starts from the same "
                "random weights as in the app.",
                "",
                *layers,
            ),
            self._code(f"keras.utils.set_random_seed(SEED)\n{code}\nmodel.summary()"),
        ]

    def _training(self) -> list:
        hp = self.hp
        compiled = compile_code(hp, "EPOCHS", self.task.keras_loss(hp), self.task.metric)
        if self.regression:
            loss = LOSSES[hp.loss]
            what = (
                f"The loss is the {loss.title.lower()}: {loss.summary} The target is standardised while the "
                "network learns and the scaling is folded back into the output layer afterwards, so every "
                "number below is in the target's own units, as in the app."
            )
            code = target_scaling_code() + compiled + fit_code(hp, "EPOCHS", "y_train_scaled") + fold_scaling_code()
        else:
            what = (
                "The loss is cross-entropy: how surprised the network is by the right answer. The metric is "
                "accuracy: the share of images it classifies correctly."
            )
            code = compiled + fit_code(hp, "EPOCHS")
        validation = schedule = early = ""
        if hp.validation_split:
            validation = (
                f" The last {hp.validation_split:.0%} of the training examples are held back to check, after "
                "each epoch, how well the network does on examples it did not learn from (the validation split)."
            )
        if hp.learning_rate_schedule == "cosine":
            schedule = " It is lowered along a cosine to nearly zero by the last batch."
        if hp.learning_rate_schedule == "one_cycle":
            schedule = " It rises over the first 30 % of the batches, then falls along a cosine to nearly zero."
        if hp.label_smoothing and not self.regression:
            schedule += (
                f" Label smoothing {hp.label_smoothing:g}: the right class is aimed at {1 - hp.label_smoothing:.0%}."
            )
        if hp.target_accuracy is not None and not self.regression:
            schedule += f" Training stops once the validation accuracy reaches {hp.target_accuracy:.1%}."
        if hp.early_stopping_patience:
            early = (
                " Early stopping: training stops when the validation loss has not improved for "
                f"{hp.early_stopping_patience} epoch(s) in a row, and keeps the weights of the best epoch."
            )
        return [
            self._md(
                f"## {'3' if self.regression else '4'}. Compile and train",
                "",
                f"The optimizer {hp.optimizer}: {OPTIMIZERS[hp.optimizer].summary} Learning rate "
                f"{hp.effective_learning_rate:g}.{schedule} {hp.epochs} epoch(s) in batches of {hp.batch_size} "
                f"examples.{validation}{early} {what}",
            ),
            self._code(code),
        ]

    def _curves(self) -> list:
        step = "4" if self.regression else "5"
        metric, title = self.task.metric, self.task.metric_title
        if self.regression:
            power = 2 if self.hp.loss == "mse" else 1  # an MSE scales with the spread squared
            factors = f"{{'loss': target_std ** {power}, 'mae': target_std}}"
            scale = f"scale = {factors}  # back to the target's units, as the app shows them\n"
        else:
            scale = "scale = {}\n"
        return [
            self._md(
                f"## {step}. {title} and loss during training",
                "",
                "One point per epoch, from the history that `fit` returns: training and validation. When the "
                "validation loss turns up while the training loss still falls, the network has started to "
                "memorise the training examples (overfitting).",
            ),
            self._code(
                "from matplotlib.ticker import MaxNLocator\n\n"
                + scale
                + "figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5))\n"
                + f"for axis, key in ((left, {metric!r}), (right, 'loss')):\n"
                + "    epochs = range(1, len(history.history[key]) + 1)\n"
                + "    for prefix, label in (('', 'training'), ('val_', 'validation')):\n"
                + "        if prefix + key in history.history:\n"
                + "            values = np.array(history.history[prefix + key]) * scale.get(key, 1.0)\n"
                + '            axis.plot(epochs, values, marker="o", label=label)\n'
                + '    axis.set_xlabel("epoch")\n'
                + "    axis.xaxis.set_major_locator(MaxNLocator(integer=True))\n"
                + "    axis.set_title(key)\n"
                + "    axis.legend()\n"
                + "plt.show()"
            ),
        ]

    def _test(self) -> list:
        step = "5" if self.regression else "6"
        if self.regression:
            app = self.results.get("test_mae")
            code = (
                "predicted = model.predict(x_test, verbose=0).reshape(-1).astype('float64')\n"
                "errors = predicted - y_test.astype('float64')\n"
                "test_mae = float(np.mean(np.abs(errors)))\n"
                "test_rmse = float(np.sqrt(np.mean(errors ** 2)))\n"
                "test_r2 = 1 - float(np.sum(errors ** 2)) / float(np.sum((y_test - y_test.mean()) ** 2))\n"
                'print(f"Test MAE: {test_mae:.6g}  RMSE: {test_rmse:.6g}  R²: {test_r2:.4f}")\n'
            )
            if app is not None:
                code += f'print("CNN Playground measured: test MAE", {format_number(app)!r})'
            words = (
                "Examples the network never saw. MAE is the average size of an error, RMSE weighs big errors "
                "more, R² is the share of the target's spread the network explains (1 is perfect)."
            )
        else:
            app = self.results.get("test_accuracy")
            code = (
                "test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)\n"
                'print(f"Test accuracy: {test_accuracy:.4f}  Test loss: {test_loss:.4f}")\n'
            )
            if app is not None:
                code += f'print("CNN Playground measured: test accuracy", {f"{app:.4f}"!r})'
            words = "Images the network never saw while it learned: the honest measure of how well it does."
        return [self._md(f"## {step}. The test set", "", words), self._code(code)]

    def _confusion_or_scatter(self) -> list:
        if self.regression:
            return [
                self._md(
                    "## 6. Predicted against actual",
                    "",
                    "Each dot is one test row: on the diagonal the prediction is exactly right.",
                ),
                self._code(
                    "plt.figure(figsize=(4.5, 4.5))\n"
                    "plt.scatter(y_test, predicted, s=8)\n"
                    "low, high = float(min(y_test.min(), predicted.min())), float(max(y_test.max(), predicted.max()))\n"
                    'plt.plot([low, high], [low, high], color="grey")\n'
                    'plt.xlabel("actual")\n'
                    'plt.ylabel("predicted")\n'
                    "plt.show()"
                ),
            ]
        return [
            self._md(
                "## 7. Confusion matrix",
                "",
                "Each row is the true class, each column what the network predicted: the diagonal holds the "
                "correct answers, everything else shows which classes it mixes up.",
            ),
            self._code(
                "predicted = model.predict(x_test, verbose=0).argmax(axis=1)\n"
                "matrix = np.zeros((len(CLASS_NAMES), len(CLASS_NAMES)), dtype=int)\n"
                "np.add.at(matrix, (y_test, predicted), 1)\n"
                "figure, axis = plt.subplots(figsize=(7, 6))\n"
                'axis.imshow(matrix, cmap="Blues")\n'
                "ticks = range(len(CLASS_NAMES))\n"
                "axis.set_xticks(ticks, CLASS_NAMES, rotation=45, ha='right')\n"
                "axis.set_yticks(ticks, CLASS_NAMES)\n"
                "for (row, column), count in np.ndenumerate(matrix):\n"
                "    colour = 'white' if count > matrix.max() / 2 else 'black'\n"
                '    axis.text(column, row, count, ha="center", va="center", fontsize=8, color=colour)\n'
                'axis.set_xlabel("predicted")\n'
                'axis.set_ylabel("true")\n'
                "plt.show()"
            ),
        ]
