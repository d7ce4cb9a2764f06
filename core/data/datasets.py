"""Data sets behind one registry: name -> loader. Each is loaded once per process and shared read-only."""

from __future__ import annotations

import gzip
import logging
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.dataset import (  # noqa: F401  (the data set's own type, named here for the callers of the registry)
    CLASSIFICATION,
    REGRESSION,
    USER_PREFIX,
    Dataset,
    DatasetUnavailable,
    forget_dataset,
    loaded_once,
    provide_dataset,
)
from core.data.user_datasets import UserDatasetStore

log = logging.getLogger(__name__)

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DIGIT_CLASSES = tuple(str(d) for d in range(10))
SHAPE_CLASSES = ("square", "circle", "triangle", "cross", "ring")


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    description: str
    loader: Callable[[], Dataset]


# --- IDX files (the MNIST family's format) ------------------------------------------------------


def _reason(err: Exception) -> str:
    """What went wrong reading a file, without its path (an OSError's text names the file's whole path)."""
    return err.strerror if isinstance(err, OSError) and err.strerror else str(err)


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped (or plain) IDX file of unsigned bytes, checking its header against its size."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as err:
        raise DatasetUnavailable(
            f"{path.name} cannot be read ({_reason(err)}); it may be damaged — fetch it again."
        ) from err
    if len(data) < 4 or data[0:2] != b"\0\0" or data[2] != 0x08:
        raise DatasetUnavailable(f"{path.name} is not an IDX file of bytes; it may be damaged — fetch it again.")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetUnavailable(f"{path.name} is truncated or damaged (its header is cut short); fetch it again.")
    dims = struct.unpack(">" + "I" * ndim, data[4:header])
    if len(data) - header != int(np.prod(dims)):
        raise DatasetUnavailable(
            f"{path.name} is truncated or damaged (expected {int(np.prod(dims)):,} values); fetch it again."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _from_idx_dir(directory: Path) -> dict[str, np.ndarray] | None:
    paths = {key: directory / name for key, name in IDX_FILES.items()}
    for key, path in paths.items():
        if not path.exists() and path.with_suffix("").exists():
            paths[key] = path.with_suffix("")  # accept un-gzipped copies too
    if not all(p.exists() for p in paths.values()):
        return None
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for part in ("train", "test"):
        if len(arrays[f"x_{part}"]) != len(arrays[f"y_{part}"]):
            raise DatasetUnavailable(f"The {part} images and labels in {directory.name} do not match in number.")
    return arrays


def _from_npz(path: Path) -> dict[str, np.ndarray] | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in IDX_FILES}
    except (OSError, KeyError, ValueError) as err:
        raise DatasetUnavailable(f"{path.name} cannot be read ({_reason(err)}); delete it and fetch it again.") from err


def _keras_cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _keras_download(module_name: str) -> dict[str, np.ndarray] | None:
    if os.environ.get("CNN_PLAYGROUND_OFFLINE"):
        return None
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, module_name).load_data()
    except Exception:  # no network, blocked host, partial file: fall through to the plain message
        return None
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _image_dataset(name: str, title: str, classes: tuple[str, ...], arrays: dict, source: str) -> Dataset:
    def images(x):
        x = np.asarray(x, dtype=np.uint8)
        return x[..., None] if x.ndim == 3 else x

    parts = {k: images(v) if k.startswith("x") else np.asarray(v, dtype=np.int64) for k, v in arrays.items()}
    return Dataset(name, title, classes, parts["x_train"], parts["y_train"], parts["x_test"], parts["y_test"], source)


def _load_mnist_family(
    name: str,
    title: str,
    classes,
    env_var: str,
    debian_dir: Path | None,
    keras_subdir: str,
    keras_npz: str | None,
    keras_module: str,
    how_to_get: str,
) -> Dataset:
    # Each place is named in words a learner may read on the Data page (never a server path: that goes to
    # the log for the operator).
    candidates: list[tuple[str, Path | None, Callable[[], dict | None]]] = []
    if os.environ.get(env_var):
        env_dir = Path(os.environ[env_var])
        candidates.append(
            (
                f"the folder set in {env_var}",
                env_dir,
                lambda: _from_idx_dir(env_dir) or _from_npz(env_dir / f"{name}.npz"),
            )
        )
    if debian_dir is not None:
        candidates.append(
            (f"Debian's dataset-{name.replace('_', '-')} package", debian_dir, lambda: _from_idx_dir(debian_dir))
        )
    cache = _keras_cache_dir()
    candidates.append(
        (f"Keras' cache ({keras_subdir})", cache / keras_subdir, lambda: _from_idx_dir(cache / keras_subdir))
    )
    if keras_npz:
        candidates.append((f"Keras' cache ({keras_npz})", cache / keras_npz, lambda: _from_npz(cache / keras_npz)))
    candidates.append(("Keras' download", None, lambda: _keras_download(keras_module)))
    for source, place, load in candidates:
        arrays = load()
        if arrays is not None:
            log.info("%s loaded from %s", title, place or source)
            return _image_dataset(name, title, classes, arrays, source)
    raise DatasetUnavailable(f"{title} is not available on this computer and could not be downloaded. {how_to_get}")


def load_fashion_mnist() -> Dataset:
    return _load_mnist_family(
        "fashion_mnist",
        "Fashion-MNIST",
        FASHION_CLASSES,
        "FASHION_MNIST_DIR",
        DEBIAN_FASHION_MNIST,
        "fashion-mnist",
        None,
        "fashion_mnist",
        "On Debian or Ubuntu run 'sudo apt-get install dataset-fashion-mnist'; or put the four files "
        "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
        "t10k-labels-idx1-ubyte.gz in a folder and set FASHION_MNIST_DIR to it; or connect to the internet "
        "once so Keras can download it.",
    )


def load_mnist() -> Dataset:
    return _load_mnist_family(
        "mnist",
        "MNIST digits",
        DIGIT_CLASSES,
        "MNIST_DIR",
        None,
        "mnist",
        "mnist.npz",
        "mnist",
        "Put the four MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) or Keras' mnist.npz in a folder and set "
        "MNIST_DIR to it, or copy mnist.npz to ~/.keras/datasets/; or connect to the internet once so Keras "
        "can download it.",
    )


# --- shapes: a small synthetic data set, generated on the fly ------------------------------------


def make_shapes(n: int, seed: int = 0, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """n noisy grey images of 5 shape classes (square, circle, triangle, cross, ring) and their labels.

    Pure NumPy, so exported training scripts can carry it along.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    labels = np.arange(n) % 5
    rng.shuffle(labels)
    images = np.empty((n, size, size, 1), dtype=np.uint8)
    for i, label in enumerate(labels):
        r = rng.uniform(size * 0.18, size * 0.32)
        cx, cy = rng.uniform(r + 1, size - r - 1, 2)
        dx, dy = xx - cx, yy - cy
        if label == 0:  # square
            mask = (np.abs(dx) <= r * 0.8) & (np.abs(dy) <= r * 0.8)
        elif label == 1:  # circle (filled)
            mask = dx**2 + dy**2 <= r**2
        elif label == 2:  # triangle pointing up
            mask = (dy <= r * 0.8) & (dy >= -r) & (np.abs(dx) <= (dy + r) * 0.55)
        elif label == 3:  # cross
            w = max(r * 0.25, 1.0)
            mask = ((np.abs(dx) <= w) & (np.abs(dy) <= r)) | ((np.abs(dy) <= w) & (np.abs(dx) <= r))
        else:  # ring
            d2 = dx**2 + dy**2
            mask = (d2 <= r**2) & (d2 >= (r * 0.6) ** 2)
        brightness = rng.uniform(150, 255)
        noise = rng.normal(0, 20, (size, size))
        images[i, :, :, 0] = np.clip(mask * brightness + noise + 20, 0, 255).astype(np.uint8)
    return images, labels.astype(np.int64)


def load_shapes(n_train: int = 2000, n_test: int = 500) -> Dataset:
    x_train, y_train = make_shapes(n_train, seed=1)
    x_test, y_test = make_shapes(n_test, seed=2)
    return Dataset(
        "shapes", "Shapes (synthetic)", SHAPE_CLASSES, x_train, y_train, x_test, y_test, "generated on this computer"
    )


DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in [
        DatasetInfo(
            "fashion_mnist",
            "Fashion-MNIST",
            "70,000 grey 28×28 photos of clothes in 10 classes (60,000 to train, 10,000 to test): "
            "the seed notebook's data.",
            load_fashion_mnist,
        ),
        DatasetInfo(
            "mnist",
            "MNIST digits",
            "70,000 grey 28×28 handwritten digits 0–9 (60,000 to train, 10,000 to test).",
            load_mnist,
        ),
        DatasetInfo(
            "shapes",
            "Shapes (synthetic)",
            "2,500 grey 28×28 drawings of 5 shapes, made on the fly: no download, trains in seconds.",
            load_shapes,
        ),
    ]
}

# A built-in set that could not be found or downloaded is not looked for again for a while: every page
# asks for the data set, and each try of Keras' download on an offline server waits for the network.
RETRY_UNAVAILABLE_SECONDS = 600.0
_unavailable: dict[tuple, tuple[float, str]] = {}
_WHERE_TO_LOOK = ("FASHION_MNIST_DIR", "MNIST_DIR", "KERAS_HOME", "CNN_PLAYGROUND_OFFLINE")


def load_dataset(name: str) -> Dataset:
    """The named data set, loaded once per process; its arrays are read-only.

    Built-in sets are looked up in DATASETS; a user's own (``own-...``) in the user data set store.
    """
    if name not in DATASETS and not name.startswith(USER_PREFIX):
        raise DatasetUnavailable(f"Unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    return loaded_once(name, lambda: _load(name))


def _load(name: str) -> Dataset:
    """Load the data set (called once per process, under the cache's lock)."""
    if name not in DATASETS:
        return UserDatasetStore().load(name)
    where = (name, *(os.environ.get(v) for v in _WHERE_TO_LOOK))  # a new folder is looked in at once
    failed = _unavailable.get(where)
    if failed is not None and time.monotonic() - failed[0] < RETRY_UNAVAILABLE_SECONDS:
        raise DatasetUnavailable(failed[1])
    try:
        dataset = DATASETS[name].loader()
    except DatasetUnavailable as error:
        _unavailable[where] = (time.monotonic(), str(error))
        raise
    _unavailable.pop(where, None)
    return dataset
