"""A trained model for phones and small devices: TensorFlow Lite files, float32 and int8.

The conversion is Keras' own LiteRT export (``model.export(format="litert")``) restricted to TFLite's
built-in operations, so every file runs in the plain interpreter (no TensorFlow "select" ops); a model
with an operation that has no built-in is refused with a plain message. The int8 file is post-training
quantized with a representative sample of the training images. Each file's test accuracy is measured with
the TFLite interpreter on the same test images as the Keras model's, and sits beside it.

A model the converter or the interpreter cannot take (e.g. one whose weights blew up to huge or NaN
values) gets a plain TFLiteUnavailable message, never a traceback. A run's files, kept beside its model
and measured on its test set, are core.insight.tflite_files'.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.model.augmentation import AUGMENTATION_TYPES
from core.model.spec import is_image_spec

KINDS = ("float32", "int8")
KIND_TITLES = {"float32": "float32 (full precision)", "int8": "int8 (quantized, about 4× smaller)"}
REPRESENTATIVE_SAMPLES = 200  # training examples (images or rows) that calibrate the int8 value ranges
EVAL_BATCH = 256
SUPPORTED_LAYERS = (
    frozenset(
        {
            "Conv2D",
            "MaxPooling2D",
            "AveragePooling2D",
            "BatchNormalization",
            "Dropout",
            "Flatten",
            "GlobalAveragePooling2D",
            "GlobalMaxPooling2D",
            "Dense",
            # Their Keras layers (convolutions, BatchNormalization, ReLU, Add, Concatenate) are built-in TFLite ops.
            "ResidualBlock",
            "Add",
            "Concatenate",
        }
    )
    | AUGMENTATION_TYPES
)  # Keras' augmentation layers pass images through unchanged at inference: nothing to convert


BROKEN_WEIGHTS_HINT = (
    "This can happen when training went wrong and the weights became huge or not numbers (the coaching under "
    "the history chart says if the loss exploded): lower the learning rate and train again."
)


class TFLiteUnavailable(Exception):
    """The model cannot become a TFLite file (or has nothing to measure); the message says why."""


@dataclass(frozen=True)
class TFLiteFile:
    kind: str  # float32 or int8
    size_bytes: int
    metric: str  # "accuracy" or "mae"
    tflite_value: float  # measured with the TFLite interpreter
    keras_value: float  # the Keras model on the same test examples
    test_examples: int

    @property
    def filename(self) -> str:
        return f"model_{self.kind}.tflite"


def check_layers(spec: dict) -> None:
    """Refuse, in plain words, a spec with a layer type this export does not know to be convertible."""
    unknown = sorted({layer.get("type", "?") for layer in spec.get("layers") or []} - SUPPORTED_LAYERS)
    if unknown:
        raise TFLiteUnavailable(
            f"TensorFlow Lite cannot take the layer type(s) {', '.join(unknown)}: this model has no phone version."
        )


def convert(model, kind: str, representative: np.ndarray | None = None) -> bytes:
    """The model as TFLite bytes; int8 needs ``representative`` inputs (a sample of the training data)."""
    import tensorflow as tf

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    options: dict = {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}}
    if kind == "int8":
        if representative is None or not len(representative):
            raise TFLiteUnavailable("int8 quantization needs a sample of the training data, and there is none.")
        sample = np.asarray(representative, dtype=np.float32)

        def representative_dataset():
            for row in sample:
                yield [row[None]]

        options = {
            "optimizations": [tf.lite.Optimize.DEFAULT],
            "representative_dataset": representative_dataset,
            "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
        }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.tflite"
        try:
            model.export(str(path), format="litert", verbose=False, **options)
        except Exception as error:  # the converter's own error lists the ops it could not convert
            raise TFLiteUnavailable(_plain_converter_error(error)) from error
        return path.read_bytes()


def _plain_converter_error(error: Exception) -> str:
    text = str(error)
    ops = sorted(set(re.findall(r"'tf\.(\w+)' op is neither", text)))
    layers = sorted(set(re.findall(r'"[^"/@]+/([^"/@]+)/[^"/@]+@', text)))
    if not ops and not layers:  # not a missing operation: say so rather than blame a layer
        return "TensorFlow Lite could not convert this model, so it has no phone version. " + BROKEN_WEIGHTS_HINT
    what = f" ({', '.join(ops)})" if ops else ""
    where = f" in layer {', '.join(layers)}" if layers else ""
    return (
        f"TensorFlow Lite has no built-in operation for part of this model{what}{where}, so it cannot run on a "
        "phone as it is. Replace that layer or activation with a common one (e.g. ReLU) and train again."
    )


def _interpreter(tflite_bytes: bytes, with_xnnpack: bool):
    import tensorflow as tf

    options = (
        {}
        if with_xnnpack
        else {"experimental_op_resolver_type": tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    )
    with warnings.catch_warnings():  # tf.lite's interpreter warns that it moves to ai_edge_litert (not installed)
        warnings.simplefilter("ignore", UserWarning)
        return tf.lite.Interpreter(model_content=tflite_bytes, **options)


def predict(tflite_bytes: bytes, inputs: np.ndarray, name: str = "the TensorFlow Lite file") -> np.ndarray:
    """The TFLite model's outputs for many inputs, run with the TFLite interpreter in batches.

    The interpreter's default fast CPU kernels (XNNPACK) refuse some models, e.g. an int8 file quantized from
    weights that blew up ("failed to create XNNPACK runtime"); those run again on the plain built-in kernels.

    Args:
        name: the file in the plain message, e.g. "the int8 file".

    Raises:
        TFLiteUnavailable: when neither way can run the file.
    """
    try:
        return _run_batches(_interpreter(tflite_bytes, with_xnnpack=True), inputs)
    except (RuntimeError, ValueError):
        pass
    try:
        return _run_batches(_interpreter(tflite_bytes, with_xnnpack=False), inputs)
    except (RuntimeError, ValueError) as error:
        raise TFLiteUnavailable(
            f"The TensorFlow Lite interpreter could not run {name} on the test set, so no phone files were made. "
            f"{BROKEN_WEIGHTS_HINT}"
        ) from error


def _run_batches(interpreter, inputs: np.ndarray) -> np.ndarray:
    detail = interpreter.get_input_details()[0]
    outputs = []
    current = None
    for start in range(0, len(inputs), EVAL_BATCH):
        batch = np.asarray(inputs[start : start + EVAL_BATCH], dtype=np.float32)
        if current != len(batch):
            interpreter.resize_tensor_input(detail["index"], [len(batch), *batch.shape[1:]])
            interpreter.allocate_tensors()
            current = len(batch)
        interpreter.set_tensor(detail["index"], batch)
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy())
    return np.concatenate(outputs)


def score(outputs: np.ndarray, y_true: np.ndarray, metric: str) -> float:
    """Accuracy (share of right classes) or mean absolute error (a regression)."""
    if metric == "accuracy":
        return float(np.mean(outputs.argmax(axis=1) == np.asarray(y_true)))
    return float(np.mean(np.abs(outputs.reshape(-1) - np.asarray(y_true, dtype=np.float64).reshape(-1))))


def usage_snippet(file: TFLiteFile, input_shape, class_names=()) -> str:
    """A short Python example that runs the file with the TFLite interpreter."""
    shape = ", ".join(str(v) for v in input_shape)
    answer = (
        f"CLASS_NAMES = {list(class_names)!r}\nprint(CLASS_NAMES[int(np.argmax(scores))])"
        if class_names
        else "print(scores[0])  # the predicted number"
    )
    pixels = (
        "pixels 0..255 divided by 255" if is_image_spec({"input_shape": input_shape}) else "normalised as in training"
    )
    return f"""import numpy as np
import tensorflow as tf  # or: from ai_edge_litert.interpreter import Interpreter

interpreter = tf.lite.Interpreter(model_path="{file.filename}")
interpreter.allocate_tensors()
inp = interpreter.get_input_details()[0]
out = interpreter.get_output_details()[0]

x = np.zeros((1, {shape}), dtype=np.float32)  # one input, {pixels}
interpreter.set_tensor(inp["index"], x)
interpreter.invoke()
scores = interpreter.get_tensor(out["index"])[0]
{answer}
"""
