"""Keras code for a spec: the snippet shown in the builder, and a runnable training script.

Nothing a user typed reaches the code except as a Python literal made by ``repr``: layer types and
setting names must be the registry's own (the spec is validated first, and an invalid one is refused),
and names and titles go into string constants, never into a docstring or a comment.
"""

from __future__ import annotations

import inspect
import textwrap

from core.data.datasets import DEBIAN_FASHION_MNIST, USER_PREFIX, make_shapes
from core.messages import quote
from core.model.keras_build import KERAS_BATCH_NORM_MOMENTUM
from core.model.spec import (
    LAYER_TYPES,
    MERGE_TYPES,
    analyze,
    is_graph,
    keras_kwargs,
    layer_names,
    merge_number,
)
from core.training.hyperparams import COSINE_FLOOR, ONE_CYCLE_START, ONE_CYCLE_WARMUP, OPTIMIZERS, Hyperparameters
from core.training.validation import InvalidInput, check_hyperparameters, check_spec

POSITIONAL = {"Conv2D": ("filters",), "Dense": ("units",), "Dropout": ("rate",), "Activation": ("activation",)}


def _with_momentum(layer_type: str, kwargs: dict, momentum: float | None) -> dict:
    """BatchNormalization's kwargs with the momentum the app trained with, where it is not Keras' own."""
    if layer_type == "BatchNormalization" and momentum is not None and momentum != KERAS_BATCH_NORM_MOMENTUM:
        kwargs.setdefault("momentum", momentum)
    return kwargs


def _layer_call(layer: dict, name: str, momentum: float | None = None) -> str:
    layer_type = LAYER_TYPES[layer["type"]]  # check_spec has made sure it is the registry's
    if any(layer_type.arg(key) is None for key in layer if key != "type"):
        raise InvalidInput(f"{layer['type']} has a setting it does not know.")
    kwargs = _with_momentum(layer["type"], keras_kwargs(layer), momentum)
    positional = [repr(kwargs.pop(key)) for key in POSITIONAL.get(layer["type"], ()) if key in kwargs]
    named = [f"{key}={value!r}" for key, value in kwargs.items()]
    return f"layers.{layer['type']}({', '.join([*positional, *named, f'name={name!r}'])})"


def _inner_call(part, momentum: float | None = None) -> str:
    kwargs = _with_momentum(part.type, dict(part.kwargs), momentum)
    positional = [repr(kwargs.pop(key)) for key in POSITIONAL.get(part.type, ()) if key in kwargs]
    named = [f"{key}={(tuple(v) if isinstance(v, list) else v)!r}" for key, v in kwargs.items()]
    return f"layers.{part.type}({', '.join([*positional, *named, f'name={part.name!r}'])})"


def _graph_layer_lines(layer: dict, report, source: str, momentum: float | None = None) -> list[str]:
    """A residual block's or a merge's Keras layers, one per line: ``x`` is the main path, ``shortcut``
    (or the earlier layer's variable) the path the shortcut takes."""
    if layer["type"] == "ResidualBlock":
        projected = any(part.branch == "shortcut" for part in report.inner)
        convs = sum(part.type == "Conv2D" and part.branch == "main" for part in report.inner)
        lines = [
            f"# Residual block: {convs} convolutions, then their input is added back"
            + (" through a 1×1 convolution (the shape changes)" if projected else ""),
            "shortcut = x",
        ]
        source = "shortcut"
    else:
        lines = []
        if any(part.branch == "shortcut" for part in report.inner):
            lines.append(f"shortcut = {source}")
            source = "shortcut"
    for part in report.inner:
        call = _inner_call(part, momentum)
        if part.type in MERGE_TYPES:
            lines.append(f"x = {call}([x, {source}])")
        elif part.branch == "shortcut":
            lines.append(f"shortcut = {call}(shortcut)")
        else:
            lines.append(f"x = {call}(x)")
    return lines


def _functional_code(spec: dict, momentum: float | None = None) -> str:
    """Keras' functional API: each layer's output feeds the next, and the outputs a merge takes later are kept
    in a variable of their own (``layer3``)."""
    analysis = analyze(spec)
    broken = next((r for r in analysis.layers if r.output_shape is None), None)
    if broken is not None:  # a graph layer's Keras layers follow from its shapes
        problem = next((p for p in analysis.problems if p.layer is not None), None)
        raise InvalidInput(
            "A model with skip connections gets its code once every layer fits"
            + (f": {problem.text()}" if problem else ".")
        )
    taken = {merge_number(layer) for layer in spec["layers"]} - {None}
    lines = [f"inputs = keras.Input(shape={tuple(spec['input_shape'])!r})", "x = inputs"]
    for number, (layer, name, report) in enumerate(zip(spec["layers"], layer_names(spec), analysis.layers), start=1):
        if report.inner:
            taken_from = merge_number(layer)
            lines += _graph_layer_lines(layer, report, "inputs" if taken_from == 0 else f"layer{taken_from}", momentum)
        else:
            lines.append(f"x = {_layer_call(layer, name, momentum)}(x)")
        if number in taken:
            lines.append(f"layer{number} = x  # an Add or Concatenate below takes it")
    lines.append('model = keras.Model(inputs, x, name="cnn_playground_model")')
    return "\n".join(lines)


def model_code(spec: dict, batch_norm_momentum: float | None = None) -> str:
    """Python that builds the spec's model with Keras (the builder's "view code"): a Sequential stack, or for
    a model with residual blocks or merges the functional API.

    Args:
        batch_norm_momentum: the momentum a run's BatchNormalization layers trained with (the app chooses it
            from the batches per epoch, core.model.keras_build.batch_norm_momentum); written out where it is not
            Keras' default, so a script or notebook trains the same model.

    Raises InvalidInput (a ValueError) with a plain message for a spec that is not valid.
    """
    check_spec(spec)
    if is_graph(spec):
        return _functional_code(spec, batch_norm_momentum)
    lines = [f"    keras.Input(shape={tuple(spec['input_shape'])!r}),"]
    lines += [
        f"    {_layer_call(layer, name, batch_norm_momentum)},"
        for layer, name in zip(spec["layers"], layer_names(spec))
    ]
    body = "\n".join(lines)
    return f'model = keras.Sequential([\n{body}\n], name="cnn_playground_model")'


def snippet(spec: dict) -> str:
    return "import keras\nfrom keras import layers\n\n" + model_code(spec) + "\nmodel.summary()\n"


_FASHION_LOADER = f'''
def load_data():
    """Fashion-MNIST from the folder in $FASHION_MNIST_DIR or Debian's dataset-fashion-mnist package (as
    CNN Playground looks), else Keras' download."""
    import gzip
    import os
    from pathlib import Path

    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    for folder in [os.environ.get("FASHION_MNIST_DIR"), {str(DEBIAN_FASHION_MNIST)!r}]:
        if folder and all((Path(folder) / name).exists() for name in names):
            def read(name):
                data = gzip.open(Path(folder) / name, "rb").read()
                ndim = data[3]
                dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
                return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)
            x_train, y_train, x_test, y_test = (read(name) for name in names)
            return (x_train, y_train), (x_test, y_test)
    return keras.datasets.fashion_mnist.load_data()
'''

_MNIST_LOADER = '''
def load_data():
    """MNIST digits from Keras (downloaded once into ~/.keras/datasets)."""
    return keras.datasets.mnist.load_data()
'''


def _shapes_loader() -> str:
    source = textwrap.dedent(inspect.getsource(make_shapes))
    return f'''
{source}

def load_data():
    """The synthetic shapes data set, generated exactly as CNN Playground does."""
    return make_shapes(2000, seed=1), make_shapes(500, seed=2)
'''


DATA_LOADERS = {
    "fashion_mnist": lambda: _FASHION_LOADER,
    "mnist": lambda: _MNIST_LOADER,
    "shapes": _shapes_loader,
}


# --- Code blocks that train like the app: the training script and the notebook (core/notebook.py) use them ---

CROSS_ENTROPY = "sparse_categorical_crossentropy"


def image_preparation_code(limit_train: str, limit_test: str) -> str:
    """The first N images (the run's limits; None is all), pixels scaled to 0..1, grey ones given a channel axis.

    Args:
        limit_train, limit_test: Python expressions for the limits (``args.limit_train``, ``LIMIT_TRAIN``).
    """
    return f"""x_train, y_train = x_train[:{limit_train}], y_train[:{limit_train}]
x_test, y_test = x_test[:{limit_test}], y_test[:{limit_test}]
# Scale pixels to 0..1 and give grey images their single channel axis.
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
if x_train.ndim == 3:
    x_train, x_test = x_train[..., None], x_test[..., None]
"""


def table_preparation_code(limit_train: str, limit_test: str) -> str:
    """The first N rows (the run's limits): a table's columns are already numbers the network can use."""
    return f"""x_train, y_train = x_train[:{limit_train}], y_train[:{limit_train}]
x_test, y_test = x_test[:{limit_test}], y_test[:{limit_test}]
"""


def _schedule_code(hp: Hyperparameters, epochs: str) -> str:
    """Lines that turn `learning_rate` into the run's schedule (core.training.fitting.learning_rate)."""
    if hp.learning_rate_schedule not in ("cosine", "one_cycle"):
        return ""
    batches = f"""batches = -(-(len(x_train) - int(len(x_train) * {hp.validation_split!r})) // {hp.batch_size})
"""
    rate = hp.effective_learning_rate
    if hp.learning_rate_schedule == "one_cycle":
        return f"""# One-cycle schedule: from {ONE_CYCLE_START:g} of the learning rate up to all of it over the first
# {ONE_CYCLE_WARMUP:.0%} of the batches, then down along a cosine to {COSINE_FLOOR:g} of it by the last one.
{batches}warmup = max(1, round({ONE_CYCLE_WARMUP!r} * {epochs} * batches))
learning_rate = keras.optimizers.schedules.CosineDecay(
    {rate * ONE_CYCLE_START!r}, decay_steps=max(1, {epochs} * batches - warmup), alpha={COSINE_FLOOR!r},
    warmup_target={rate!r}, warmup_steps=warmup,
)
"""
    return f"""# Cosine schedule: from the learning rate down to {COSINE_FLOOR:g} of it over all the run's batches.
{batches}learning_rate = keras.optimizers.schedules.CosineDecay(
    {rate!r}, decay_steps={epochs} * batches, alpha={COSINE_FLOOR!r}
)
"""


def _learning_rate_arg(hp: Hyperparameters) -> str:
    scheduled = hp.learning_rate_schedule in ("cosine", "one_cycle")
    return "learning_rate" if scheduled else repr(hp.effective_learning_rate)


def _loss_arg(hp: Hyperparameters, loss: str) -> str:
    """Keras' loss; cross-entropy on one-hot labels when the run smooths them (core.runs.trainer.loss_of)."""
    if loss == CROSS_ENTROPY and hp.label_smoothing:
        return f"keras.losses.CategoricalCrossentropy(label_smoothing={hp.label_smoothing!r})"
    return repr(loss)


def compile_code(hp: Hyperparameters, epochs: str, loss: str = CROSS_ENTROPY, metric: str = "accuracy") -> str:
    """The run's optimizer, learning rate (and schedule), loss and metric (core.training.fitting.make_optimizer).

    Args:
        epochs: a Python expression for the number of epochs (the cosine schedule spans them all).
        loss, metric: Keras' names, from the run's task (core.training.tasks).
    """
    optimizer = OPTIMIZERS[hp.optimizer].keras_name
    return f"""{_schedule_code(hp, epochs)}model.compile(
    optimizer=keras.optimizers.{optimizer}(learning_rate={_learning_rate_arg(hp)}),
    loss={_loss_arg(hp, loss)},
    metrics=[{metric!r}],
)
"""


def fit_code(hp: Hyperparameters, epochs: str, targets: str = "y_train") -> str:
    """model.fit with the run's batch size, validation split, early stopping and target; its result is `history`.

    Keras holds back the last ``validation_split`` of the training examples to validate on, as the app does.
    """
    callbacks = []
    if hp.early_stopping_patience:
        callbacks.append(
            f'keras.callbacks.EarlyStopping(monitor="val_loss", patience={hp.early_stopping_patience!r}, '
            "restore_best_weights=True)"
        )
    if hp.target_accuracy is not None and targets == "y_train":
        callbacks.append(
            "keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(model, 'stop_training', "
            f"logs.get('val_accuracy', 0) >= {hp.target_accuracy!r}))"
        )
    if hp.label_smoothing and targets == "y_train":  # smoothed labels are one-hot
        targets = "keras.utils.to_categorical(y_train)"
    listed = "[" + ", ".join(callbacks) + "]"
    return f"""callbacks = {listed}  # early stopping and a target accuracy, when the run used them
history = model.fit(x_train, {targets}, epochs={epochs}, batch_size={hp.batch_size!r},
                    validation_split={hp.validation_split!r}, callbacks=callbacks)
"""


def target_scaling_code() -> str:
    """A regression's targets standardised with the training rows' mean and spread (core.training.target_scaling)."""
    return """# Standardise the target: (y - mean) / spread, from the training rows (without a bias in the output
# layer, only the spread), so a target of any size trains alike.
target_std = float(np.std(y_train.astype("float64"))) or 1.0
target_mean = float(np.mean(y_train.astype("float64"))) if model.layers[-1].use_bias else 0.0
y_train_scaled = ((y_train.astype("float64") - target_mean) / target_std).astype("float32")
"""


def fold_scaling_code() -> str:
    """The scaling folded into the output layer, so the model predicts real units (TargetScaling.fold_into)."""
    return """# Fold the scaling into the output layer: the model now predicts the target in its own units.
output = model.layers[-1]
output.kernel.assign(output.kernel.numpy() * target_std)
if output.use_bias:
    output.bias.assign(output.bias.numpy() * target_std + target_mean)
"""


IMPORTED_IMAGES_LOADER = '''
def load_data():
    """The images imported in CNN Playground, as the app prepared them (resized, test images held out)."""
    with np.load(DATA_FILE, allow_pickle=False) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
'''

TABLE_LOADER = '''
def load_data():
    """The table imported in CNN Playground, as the app prepared it: the first column says which rows are
    for training and which for testing, then the input columns (numbers normalised, text one-hot encoded),
    the target last."""
    table = pd.read_csv(DATA_FILE)
    part = table.iloc[:, 0]

    def arrays(rows):
        return rows.iloc[:, 1:-1].to_numpy("float32"), rows.iloc[:, -1].to_numpy("float32")

    return arrays(table[part == "train"]), arrays(table[part == "test"])
'''


def training_script(
    spec: dict,
    dataset: str,
    hyperparameters: Hyperparameters,
    title: str = "",
    batch_norm_momentum: float | None = None,
) -> str:
    """A standalone Python script that builds, trains and evaluates the model like CNN Playground (with the
    BatchNormalization momentum the run trained with, see :func:`model_code`)."""
    if not isinstance(dataset, str):
        raise InvalidInput("The data set must be named by its name.")
    if dataset not in DATA_LOADERS:
        if dataset.startswith(USER_PREFIX):  # imported in the app: its files stay on the server
            raise ValueError(
                f"No exported data loader for data set {dataset!r}: it was imported in the app (your "
                "own CSV table or image folders), so a standalone script would need your original "
                "file and the app's preparation of it (column encoding and normalisation, resizing)."
            )
        raise ValueError(f"No exported data loader for data set {quote(dataset)}.")
    hp = check_hyperparameters(hyperparameters)
    code = model_code(spec, batch_norm_momentum)  # validates the spec
    used = ", ".join(sorted({layer["type"] for layer in spec["layers"]}))
    body = "\n".join(
        [
            f"keras.utils.set_random_seed({hp.seed!r})",
            "(x_train, y_train), (x_test, y_test) = load_data()",
            image_preparation_code("args.limit_train", "args.limit_test"),
            code,
            "model.summary()",
            compile_code(hp, "args.epochs") + fit_code(hp, "args.epochs"),
        ]
    )
    return f'''"""A model exported from CNN Playground.

Builds the model ({used}), trains it on {dataset} with the same hyperparameters and seed, and prints
the test accuracy. Run:  python this_script.py   (add --epochs N or --limit-train N for a quick try)
"""
import argparse

import numpy as np
import keras
from keras import layers
{DATA_LOADERS[dataset]()}

TITLE = {(str(title) or "A model")!r}


def main():
    parser = argparse.ArgumentParser(description=TITLE + " — exported from CNN Playground.")
    parser.add_argument("--epochs", type=int, default={hp.epochs!r})
    parser.add_argument("--limit-train", type=int, default={hp.limit_train!r})
    parser.add_argument("--limit-test", type=int, default={hp.limit_test!r})
    args = parser.parse_args()

{textwrap.indent(body, "    ")}
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test accuracy: {{test_accuracy:.4f}}  Test loss: {{test_loss:.4f}}")


if __name__ == "__main__":
    main()
'''
