"""Augmentation layers train, convert to TFLite and preview; the map of a tiny trained run is kept and reused."""

import numpy as np
import pytest

from core.insight import embedding_map, tflite_files
from core.insight.embedding_map import map_path, run_map
from core.insight.inspection import feature_maps, load_run_model
from core.insight.model_card import model_card
from core.model.augmentation import preview
from core.model.keras_build import build_model
from core.model.spec import analyze
from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters

AUGMENTATION = [
    {"type": "RandomFlip", "mode": "horizontal"},
    {"type": "RandomRotation", "factor": 0.05},
    {"type": "RandomZoom", "height_factor": 0.1},
    {"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1, "fill_mode": "constant"},
    {"type": "RandomContrast", "factor": 0.2},
]
SPEC = {
    "input_shape": [28, 28, 1],
    "layers": [
        *AUGMENTATION,
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 16, "activation": "relu"},
        {"type": "Dense", "units": 5, "activation": "softmax"},
    ],
}
TEST_EXAMPLES = 120


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("augmap") / "home")
    hp = Hyperparameters(epochs=1, batch_size=32, limit_train=600, limit_test=TEST_EXAMPLES)
    run = RunManager(store, max_concurrent=1).start(SPEC, "shapes", hp, owner="alice", name="augmented")
    assert run.wait(300) and run.status == "finished", run.message
    return store, store.load(run.id)


def test_a_model_with_every_augmentation_layer_trains_and_becomes_tflite_files(trained):
    store, run = trained
    assert 0.0 <= run.results["test_accuracy"] <= 1.0
    assert run.params == 8 * 9 + 8 + 13 * 13 * 8 * 16 + 16 + 16 * 5 + 5  # augmentation adds no weights
    files = {f.kind: f for f in tflite_files.make_files(store, run)}
    # inactive at inference: the float32 file answers like the Keras model on the same test images
    assert files["float32"].tflite_value == pytest.approx(files["float32"].keras_value, abs=0.01)
    assert files["int8"].test_examples == TEST_EXAMPLES


def test_keras_agrees_with_the_analysis_and_inspection_and_the_card_see_through_augmentation(trained):
    store, run = trained
    model, analysis = build_model(SPEC), analyze(SPEC)
    assert [tuple(layer.output.shape[1:]) for layer in model.layers] == [r.output_shape for r in analysis.layers]
    assert model.count_params() == analysis.total_params
    trained_model = load_run_model(store, run.id)
    image = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    assert [m.layer for m in feature_maps(trained_model, image)] == ["conv2d", "max_pooling2d"]
    card = model_card(run, store)
    assert "- Augmentation: left-right flip, rotation up to ±18°, zoom up to ±10 %, shift up to 10 % up/down" in card


def test_the_map_of_a_run_has_a_point_per_test_image_and_is_kept_and_reused(trained, monkeypatch):
    store, run = trained
    found = run_map(store, run)  # the default: the hidden Dense layer before the output
    assert found.layer == "dense" and len(found) == TEST_EXAMPLES and found.coords.shape == (TEST_EXAMPLES, 2)
    assert sorted(found.indices.tolist()) == list(range(TEST_EXAMPLES))
    assert 0 < sum(found.explained) <= 1.0
    assert map_path(store, run.id, "dense", "pca").is_file()

    def no_recompute(*args, **kwargs):
        raise AssertionError("the kept map was computed again")

    monkeypatch.setattr(embedding_map, "reduce", no_recompute)
    again = run_map(store, run)
    assert np.array_equal(again.coords, found.coords) and np.array_equal(again.predicted, found.predicted)
    monkeypatch.undo()
    tsne = run_map(store, run, "conv2d", "tsne")  # another layer and method: a map of its own
    assert len(tsne) == TEST_EXAMPLES and np.isfinite(tsne.coords).all()
    store.delete(run.id)
    assert not list(store.models_dir.glob(f"{run.id}.*"))  # the maps go with the run


def test_the_preview_shows_eight_different_versions_the_same_for_the_same_seed():
    image = np.zeros((28, 28, 1), np.float32)
    image[4:12, 2:9] = 1.0  # a block near the top left corner: any flip or turn moves it
    versions = preview(AUGMENTATION, image, n=8, seed=3)
    assert versions.shape == (8, 28, 28, 1) and versions.min() >= 0.0 and versions.max() <= 1.0
    assert len({v.tobytes() for v in versions}) == 8
    assert np.array_equal(versions, preview(AUGMENTATION, image, n=8, seed=3))
    flipped = preview([{"type": "RandomFlip", "mode": "horizontal"}], image, n=8, seed=1)
    assert all(np.array_equal(v, image) or np.array_equal(v, image[:, ::-1]) for v in flipped)
    with pytest.raises(ValueError, match="not an augmentation layer"):
        preview([{"type": "Dense", "units": 3}], image)
