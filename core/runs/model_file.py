"""Is this ``.keras`` file a run's model of this spec? Checked from the file alone, without TensorFlow.

A file of work (core.work) brings trained models from elsewhere. The web server does not load them to
judge them (that would import TensorFlow and run Keras' deserialisation on a stranger's file); instead
the ``.keras`` zip passes the same zip rules as any upload (core.data.image_import), must hold only the
three members Keras writes, and its ``config.json`` must describe exactly the spec's layers, built only
from Keras' own built-in classes (no custom, registered or lambda objects). Whenever the app later loads
a model (Inside, Predict, train more) it does so with Keras' ``safe_mode=True``, which refuses lambdas too.
"""

from __future__ import annotations

import io
import zipfile

from core.data.image_import import ImportLimits, MemberRefused, archive_problem, read_member, unsafe_member_reason
from core.training.validation import InvalidInput, load_json

MEMBERS = ("metadata.json", "config.json", "model.weights.h5")  # what Keras writes for this app's models
REQUIRED = ("config.json", "model.weights.h5")
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
MAX_CONFIG_BYTES = 1_000_000  # model 1's config.json is ~6 KB; 100 layers with every setting ~150 KB
MAX_CONFIG_DEPTH = 12  # a layer's initializer's config nests 7 deep
# Where Keras' own classes live in a saved config; anything else would be imported from elsewhere.
KERAS_MODULES = frozenset(
    {
        "keras",
        "keras.layers",
        "keras.initializers",
        "keras.optimizers",
        "keras.optimizers.schedules",
        "keras.losses",
        "keras.metrics",
        "keras.regularizers",
        "keras.constraints",
    }
)
MAX_OBJECTS = 20_000  # objects in a config (each layer has a handful)


class ModelFileRefused(ValueError):
    """The file is not a model the app will keep; the message says why in plain words."""


def _limits(max_mb: int) -> ImportLimits:
    return ImportLimits(max_archive_mb=max_mb, max_files=2 * len(MEMBERS), max_total_mb=max_mb, max_file_mb=max_mb)


def check_keras_file(data: bytes, spec: dict, *, max_mb: int = 200) -> None:
    """Refuse (ModelFileRefused) a ``.keras`` file that is not a zip of Keras' members, breaks the zip
    rules, or whose config is not this spec's Sequential model of built-in Keras classes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ModelFileRefused("it is not a Keras model file (a .keras file is a zip archive)") from None
    with archive:
        infos = archive.infolist()
        problem = archive_problem(infos, _limits(max_mb))
        if problem:
            raise ModelFileRefused(problem)
        names = [info.filename for info in infos]
        unsafe = next((unsafe_member_reason(i) for i in infos if unsafe_member_reason(i)), None)
        if unsafe or len(set(names)) != len(names) or not set(names) <= set(MEMBERS):
            raise ModelFileRefused("it holds files a Keras model file never has" + (f" ({unsafe})" if unsafe else ""))
        if not set(REQUIRED) <= set(names):
            raise ModelFileRefused("it is not a complete Keras model file (its configuration or weights are missing)")
        try:
            members = {i.filename: read_member(archive, i) for i in infos}
        except MemberRefused as error:
            raise ModelFileRefused(f"a part of it cannot be read: {error}") from None
    if not members["model.weights.h5"].startswith(HDF5_SIGNATURE):
        raise ModelFileRefused("its weights are not in Keras' format (HDF5)")
    try:
        config = load_json(
            members["config.json"], what="model configuration", max_bytes=MAX_CONFIG_BYTES, max_depth=MAX_CONFIG_DEPTH
        )
        if "metadata.json" in members:
            load_json(members["metadata.json"], what="model metadata", max_bytes=10_000, max_depth=3)
    except InvalidInput as error:
        raise ModelFileRefused(str(error)) from None
    _check_classes(config)
    _check_layers(config, spec)


def _check_classes(config) -> None:
    """Every serialised object must be one of Keras' built-in classes: no custom or registered object."""
    pending, seen = [config], 0
    while pending:  # no recursion: the depth is bounded, but a loop keeps it so whatever comes
        value = pending.pop()
        seen += 1
        if seen > MAX_OBJECTS:
            raise ModelFileRefused("its configuration is far larger than any model of this app")
        if isinstance(value, dict):
            if "class_name" in value:
                module, name = value.get("module"), value.get("class_name")
                if module not in KERAS_MODULES or value.get("registered_name") is not None:
                    raise ModelFileRefused(
                        "it uses code from outside Keras' built-in layers (custom objects are never loaded)"
                    )
                if not isinstance(name, str) or not name.isidentifier() or name.startswith("_") or name == "Lambda":
                    raise ModelFileRefused("it uses a layer or function this app never builds")
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def _check_layers(config, spec: dict) -> None:
    """A Sequential model whose input is the spec's input shape and whose layers are the spec's, in order."""
    body = config.get("config") if isinstance(config, dict) else None
    if (
        not isinstance(body, dict)
        or config.get("class_name") != "Sequential"
        or not isinstance(body.get("layers"), list)
    ):
        raise ModelFileRefused("it is not a model this app builds (a Sequential stack of layers)")
    layers = body["layers"]
    kinds = [layer.get("class_name") if isinstance(layer, dict) else None for layer in layers]
    expected = ["InputLayer"] + [layer["type"] for layer in spec["layers"]]
    if kinds != expected:
        raise ModelFileRefused("its layers are not the layers of the run's model")
    batch_shape = (layers[0].get("config") or {}).get("batch_shape")
    if batch_shape != [None, *spec["input_shape"]]:
        raise ModelFileRefused("its input shape is not the input shape of the run's model")
