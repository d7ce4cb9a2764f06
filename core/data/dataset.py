"""A data set's type, and this process's cache of the data sets it has loaded (each once, shared read-only).

Below the registry (core.data.datasets) and the users' own data sets (core.data.user_datasets), which
both make ``Dataset`` values and keep the cache right.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.data.pixels import as_float_input

USER_PREFIX = "own-"  # names of data sets users imported (image folders, CSV tables)


class DatasetUnavailable(Exception):
    """The data set cannot be loaded here; the message says how to get it."""


CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    class_names: tuple[str, ...]  # empty for regression
    x_train: np.ndarray  # images: uint8 N×H×W×C; tables: float32 N×features, already normalised
    y_train: np.ndarray  # class labels 0..classes-1, or float targets for regression
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # where it was loaded from, for the UI
    task: str = CLASSIFICATION
    feature_names: tuple[str, ...] = ()  # tables: the model's input columns (after one-hot encoding)
    target_name: str = ""  # regression: the predicted column
    owner: str = ""  # user data sets: the anonymous user who imported it

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int | None:
        return len(self.class_names) if self.task == CLASSIFICATION else None

    @property
    def output_units(self) -> int:
        """Units of the model's last Dense layer: one per class, or one predicted number."""
        return self.num_classes if self.task == CLASSIFICATION else 1

    @property
    def is_images(self) -> bool:
        return len(self.input_shape) == 3

    def as_float(self, part: str) -> np.ndarray:
        """x_train or x_test as float32 (images scaled to [0, 1]), computed once and shared read-only."""
        return _float_cache(self, part)


_cache: dict[str, Dataset] = {}
_float_arrays: dict[tuple[int, str], np.ndarray] = {}
_lock = threading.Lock()


def loaded_once(name: str, load: Callable[[], Dataset]) -> Dataset:
    """The data set ``name`` from this process's cache; ``load()`` makes it the first time (under the lock,
    so two pages asking at once load it once). Its arrays are made read-only."""
    with _lock:
        if name not in _cache:
            dataset = load()
            for array in (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test):
                array.setflags(write=False)
            _cache[name] = dataset
        return _cache[name]


def provide_dataset(dataset: Dataset) -> None:
    """Use this already-loaded data set under its name from now on (a cluster worker is sent it by the
    server through Ray's object store instead of loading it itself)."""
    for array in (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test):
        if array.flags.writeable:
            array.setflags(write=False)
    forget_dataset(dataset.name)
    with _lock:
        _cache[dataset.name] = dataset


def forget_dataset(name: str) -> None:
    """Drop a (deleted) user data set from this process's cache."""
    with _lock:
        dataset = _cache.pop(name, None)
        if dataset is not None:
            for part in ("x_train", "x_test"):
                _float_arrays.pop((id(dataset), part), None)


def _float_cache(dataset: Dataset, part: str) -> np.ndarray:
    key = (id(dataset), part)
    with _lock:
        if key not in _float_arrays:
            raw = getattr(dataset, part)
            array = as_float_input(raw)
            array.setflags(write=False)
            _float_arrays[key] = array
        return _float_arrays[key]
