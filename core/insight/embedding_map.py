"""A map of what the network learned: each test example placed in 2-D by what one layer makes of it.

The chosen layer's outputs (by default the layer before the output: the network's own summary of an
example) for a stratified sample of at most :data:`MAX_POINTS` test examples are reduced to two
coordinates with PCA (at once: a second or two) or t-SNE (when asked: tens of seconds). Examples the
network sees as alike land close together, so well-separated clusters per class mean the layer tells
the classes apart, and mistakes sit where classes overlap.

Each map is computed once per run, layer and method and kept beside the run's model
(``<run>.map-<layer>-<method>.npz``, removed with the run), and made again when the model changes (after
"train more"). Plain :class:`MapUnavailable` messages for a run without a model or predictions.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.model.augmentation import AUGMENTATION_TYPES
from core.model.spec import analyze
from core.runs.record import Run
from core.runs.store import PredictionsUnavailable, RunStore

MAX_POINTS = 2_000  # test examples on one map: t-SNE stays well under a minute, the page's payload small
METHODS = {"pca": "PCA", "tsne": "t-SNE"}
PCA_BEFORE_TSNE = 50  # t-SNE on the first 50 principal components: the usual speed-up, same picture
EVAL_BATCH = 256
# Layers whose output at inference holds the layer before's values: mapping them would repeat that map.
_SAME_AS_BEFORE = frozenset({"Dropout", "Flatten"}) | AUGMENTATION_TYPES
_LAYER_NAME = re.compile(r"[a-z0-9_]{1,64}")


class MapUnavailable(Exception):
    """The run has no map to show; the message says why in plain words."""


@dataclass(frozen=True)
class MapLayer:
    """A layer whose outputs can be mapped."""

    name: str  # the Keras layer name (conv2d_1, dense)
    type: str
    values: int  # values per example it outputs

    def label(self) -> str:
        return f"{self.name} ({self.type}, {self.values:,} values)"


def mappable_layers(spec: dict) -> list[MapLayer]:
    """Every layer before the output whose outputs can be mapped, in model order (from the spec alone)."""
    analysis = analyze(spec)
    reports = analysis.layers[:-1]  # the output layer's scores are the prediction itself
    return [
        MapLayer(r.name, r.type, int(np.prod(r.output_shape)))
        for r in reports
        if r.output_shape is not None and r.type not in _SAME_AS_BEFORE
    ]


def default_layer(spec: dict) -> str | None:
    """The penultimate layer that changes the values: the network's last summary of an example before it answers."""
    layers = mappable_layers(spec)
    return layers[-1].name if layers else None


def stratified_sample(labels: np.ndarray | None, count: int, limit: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``limit`` of ``count`` examples.

    With class ``labels`` each class keeps its share of the sample (largest remainders get the leftover
    places), and every class present keeps at least one example while the limit allows; without labels
    (a regression) the sample is uniform.
    """
    if count <= limit:
        return np.arange(count)
    rng = np.random.default_rng(seed)
    if labels is None:
        return np.sort(rng.choice(count, limit, replace=False))
    labels = np.asarray(labels)[:count]
    classes, sizes = np.unique(labels, return_counts=True)
    exact = sizes * limit / count
    quota = np.minimum(np.maximum(np.floor(exact).astype(int), 1 if len(classes) <= limit else 0), sizes)
    while quota.sum() > limit:  # the rare classes' one place each came from the largest class
        quota[int(np.argmax(quota))] -= 1
    left = limit - int(quota.sum())
    for position in np.argsort(-(exact - np.floor(exact)), kind="stable"):
        if left <= 0:
            break
        if quota[position] < sizes[position]:
            quota[position] += 1
            left -= 1
    picks = [rng.choice(np.flatnonzero(labels == c), q, replace=False) for c, q in zip(classes, quota) if q]
    return np.sort(np.concatenate(picks))


@dataclass(frozen=True)
class EmbeddingMap:
    layer: str
    method: str  # a key of METHODS
    indices: np.ndarray  # positions in the run's test set
    coords: np.ndarray  # (points, 2)
    y_true: np.ndarray  # class indices, or the true numbers of a regression
    predicted: np.ndarray  # predicted class indices, or predicted numbers
    confidence: np.ndarray  # the probability of the predicted class (a regression: the absolute error)
    explained: tuple[float, ...] = ()  # PCA: the share of the layer's variance on each axis
    regression: bool = False

    @property
    def mistakes(self) -> np.ndarray:
        """Which points the network got wrong (a regression has no wrong class: none)."""
        if self.regression:
            return np.zeros(len(self.indices), dtype=bool)
        return self.y_true != self.predicted

    def __len__(self) -> int:
        return len(self.indices)


# --- computing -------------------------------------------------------------------------------------


def layer_outputs(model, layer_name: str, inputs: np.ndarray) -> np.ndarray:
    """The layer's outputs for the inputs at inference (augmentation and Dropout off), one flat row each."""
    import keras

    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        raise MapUnavailable(f"The model has no layer called {layer_name!r}.") from None
    probe = keras.Model(inputs=model.inputs, outputs=layer.output)
    outputs = probe.predict(np.asarray(inputs, dtype=np.float32), batch_size=EVAL_BATCH, verbose=0)
    return np.asarray(outputs, dtype=np.float32).reshape(len(inputs), -1)


def reduce(values: np.ndarray, method: str, seed: int = 0) -> tuple[np.ndarray, tuple[float, ...]]:
    """Two coordinates per row (PCA or t-SNE) and, for PCA, each axis's share of the variance."""
    from sklearn.decomposition import PCA

    values = np.asarray(values, dtype=np.float64)
    rows, columns = values.shape
    if rows < 3:
        raise MapUnavailable("A map needs at least 3 test examples.")
    if method == "pca":
        components = min(2, columns)
        pca = PCA(n_components=components, random_state=seed).fit(values)
        coords = pca.transform(values)
        explained = tuple(float(v) for v in pca.explained_variance_ratio_)
        if components < 2:  # a layer of one value: its values on one axis
            coords = np.column_stack([coords, np.zeros(rows)])
        return coords.astype(np.float32), explained
    if method == "tsne":
        from sklearn.manifold import TSNE

        if columns > PCA_BEFORE_TSNE and rows > PCA_BEFORE_TSNE:
            values = PCA(n_components=PCA_BEFORE_TSNE, random_state=seed).fit_transform(values)
        perplexity = float(min(30, (rows - 1) / 3))
        coords = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(values)
        return coords.astype(np.float32), ()
    raise ValueError(f"method must be one of {', '.join(METHODS)}")


def map_path(store: RunStore, run_id: str, layer: str, method: str) -> Path:
    """Where a run's map is kept: beside its model (so deleting the run deletes it)."""
    if not _LAYER_NAME.fullmatch(layer or "") or method not in METHODS:
        raise ValueError(f"Not a layer name and method: {layer!r}, {method!r}")
    return store.models_dir / f"{store.model_path(run_id).stem}.map-{layer}-{method}.npz"


def _model_stamp(store: RunStore, run_id: str) -> int:
    return store.model_path(run_id).stat().st_mtime_ns


def saved_map(store: RunStore, run_id: str, layer: str, method: str) -> EmbeddingMap | None:
    """The kept map when it exists and was made from the run's current model, else None."""
    try:
        path = map_path(store, run_id, layer, method)
        with np.load(path, allow_pickle=False) as data:
            if int(data["model_stamp"]) != _model_stamp(store, run_id):
                return None
            return EmbeddingMap(
                layer,
                method,
                data["indices"],
                data["coords"],
                data["y_true"],
                data["predicted"],
                data["confidence"],
                tuple(float(v) for v in data["explained"]),
                bool(data["regression"]),
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # missing or damaged: made again
        return None


def _save(store: RunStore, run_id: str, stamp: int, found: EmbeddingMap) -> None:
    path = map_path(store, run_id, found.layer, found.method)
    partial = path.with_name(path.name + ".part.npz")
    try:
        np.savez_compressed(
            partial,
            model_stamp=np.int64(stamp),
            indices=found.indices,
            coords=found.coords,
            y_true=found.y_true,
            predicted=found.predicted,
            confidence=found.confidence,
            explained=np.asarray(found.explained, dtype=np.float64),
            regression=np.bool_(found.regression),
        )
        partial.replace(path)  # never a half-written map
    except OSError:
        partial.unlink(missing_ok=True)  # a full or read-only disk: the map is shown, just not kept


def _test_inputs(run: Run, count: int) -> np.ndarray:
    from core.data.datasets import DatasetUnavailable, load_dataset

    try:
        data = load_dataset(run.dataset)
    except DatasetUnavailable as error:
        raise MapUnavailable(
            f"The run's data set is not available here, so its test set cannot be mapped: {error}"
        ) from None
    inputs = data.as_float("x_test")[:count]
    if len(inputs) != count:
        raise MapUnavailable("The run's data set has changed since it was tested, so its test set cannot be mapped.")
    return inputs


def run_map(store: RunStore, run: Run, layer: str | None = None, method: str = "pca", model=None) -> EmbeddingMap:
    """The map of the run's test set by ``layer`` (default: :func:`default_layer`), computed once and kept.

    Args:
        model: the run's loaded model, when the caller has it open already.

    Raises:
        MapUnavailable: with a plain message (no model, no predictions, no layer to map, too few examples).
    """
    layer = layer or default_layer(run.spec)
    names = {m.name for m in mappable_layers(run.spec)}
    if layer is None or layer not in names:
        raise MapUnavailable("This model has no layer before its output whose values could be mapped.")
    if method not in METHODS:
        raise MapUnavailable(f"There is no map method {method!r}: use {' or '.join(METHODS.values())}.")
    kept = saved_map(store, run.id, layer, method)
    if kept is not None:
        return kept
    from core.insight.inspection import ModelUnavailable, load_run_model  # TensorFlow: only to make a map

    try:
        arrays = store.read_predictions(run.id)
    except PredictionsUnavailable as error:
        raise MapUnavailable(str(error)) from None
    try:
        model = model if model is not None else load_run_model(store, run.id)
        stamp = _model_stamp(store, run.id)
    except (ModelUnavailable, OSError) as error:
        raise MapUnavailable(
            str(error) if isinstance(error, ModelUnavailable) else "The run's model is gone."
        ) from None
    regression = "probabilities" not in arrays
    y_true = np.asarray(arrays["y_true"])
    sample = stratified_sample(None if regression else y_true, len(y_true))
    inputs = _test_inputs(run, len(y_true))[sample]
    coords, explained = reduce(layer_outputs(model, layer, inputs), method)
    if regression:
        predicted = np.asarray(arrays["predictions"], dtype=np.float32)[sample]
        confidence = np.abs(predicted - y_true[sample].astype(np.float32))
    else:
        probabilities = np.asarray(arrays["probabilities"])[sample]
        predicted, confidence = probabilities.argmax(axis=1), probabilities.max(axis=1).astype(np.float32)
    found = EmbeddingMap(
        layer, method, sample, coords, y_true[sample], predicted, confidence, explained, regression=regression
    )
    _save(store, run.id, stamp, found)
    return found
