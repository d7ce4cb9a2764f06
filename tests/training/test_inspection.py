"""Looking inside a trained model (filters, feature maps, Grad-CAM), its mistakes, and preparing own images."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from core.data.datasets import load_dataset
from core.data.own_image import BadImage, has_dark_background, open_image, preprocess_image
from core.insight.inspection import (
    ModelUnavailable,
    NotInspectable,
    conv_filters,
    feature_maps,
    grad_cam,
    load_run_model,
    predict_probabilities,
)
from core.insight.mistakes import (
    Predictions,
    PredictionsUnavailable,
    confident_mistakes,
    load_predictions,
    pair_examples,
)
from core.model.keras_build import build_model
from core.model.spec import analyze
from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import DEFAULT_PRESET, PRESETS
from dashboard.charts import inspection as charts

SHAPE = (28, 28, 1)


def shapes_spec() -> dict:
    spec = PRESETS[DEFAULT_PRESET].spec()
    spec["input_shape"] = list(SHAPE)
    spec["layers"][-1]["units"] = 5
    return spec


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small run on shapes (a few batches), its store and its loaded model."""
    store = RunStore(tmp_path_factory.mktemp("inspect_home"))
    hp = Hyperparameters(epochs=1, batch_size=16, limit_train=300, limit_test=100)
    run = RunManager(store).start(shapes_spec(), "shapes", hp, owner="tester")
    assert run.wait(120)
    assert run.status == "finished", run.message
    return store, run, load_run_model(store, run.id)


def shape_image(i: int = 0) -> np.ndarray:
    return load_dataset("shapes").x_test[i].astype(np.float32) / 255


# --- loading ----------------------------------------------------------------------------------------


def test_a_missing_model_is_a_plain_message(tmp_path):
    with pytest.raises(ModelUnavailable, match="no saved model"):
        load_run_model(RunStore(tmp_path), "nosuchrun")


def test_a_damaged_model_file_is_a_plain_message(tmp_path):
    store = RunStore(tmp_path)
    store.model_path("0badc0ffee00").write_bytes(b"this is not a keras file")
    with pytest.raises(ModelUnavailable, match="cannot be opened"):
        load_run_model(store, "0badc0ffee00")


# --- filters, feature maps, Grad-CAM ----------------------------------------------------------------


def test_filters_of_each_conv_layer_as_0_to_1_grids(trained):
    _, _, model = trained
    grids = conv_filters(model)
    assert [(g.layer, g.filters.shape, g.total, g.input_channels) for g in grids] == [
        ("conv2d", (16, 3, 3), 16, 1),
        ("conv2d_1", (32, 3, 3), 32, 16),
    ]
    for grid in grids:
        assert grid.filters.min() >= 0 and grid.filters.max() <= 1
        # each filter is stretched to the full range, so its pattern is visible
        assert np.allclose(grid.filters.min(axis=(1, 2)), 0) and np.allclose(grid.filters.max(axis=(1, 2)), 1)
    # the first layer's filters are exactly its kernel, rescaled
    kernel = model.get_layer("conv2d").kernel.numpy()[:, :, 0, 0]
    expected = (kernel - kernel.min()) / (kernel.max() - kernel.min())
    assert np.allclose(grids[0].filters[0], expected, atol=1e-6)


def test_filters_are_capped(trained):
    grids = conv_filters(trained[2], limit=8)
    assert [g.filters.shape[0] for g in grids] == [8, 8] and [g.total for g in grids] == [16, 32]


def test_feature_map_shapes_equal_the_analyzed_shapes(trained):
    _, run, model = trained
    maps = feature_maps(model, shape_image(), limit=16)
    expected = [
        (r.name, r.type, r.output_shape)
        for r in analyze(run.spec).layers
        if r.type in ("Conv2D", "MaxPooling2D", "AveragePooling2D")
    ]
    assert [(m.layer, m.type, m.shape) for m in maps] == expected
    assert [m.maps.shape for m in maps] == [(16, 26, 26), (16, 13, 13), (16, 11, 11), (16, 5, 5)]
    # max pooling keeps the largest of each 2×2 window of the conv maps
    conv, pool = maps[0].maps, maps[1].maps
    assert np.allclose(pool, conv[:, :26, :26].reshape(16, 13, 2, 13, 2).max(axis=(2, 4)), atol=1e-5)


def test_feature_maps_differ_between_images(trained):
    first = feature_maps(trained[2], shape_image(0))[0].maps
    second = feature_maps(trained[2], shape_image(1))[0].maps
    assert not np.allclose(first, second)


def test_grad_cam_is_an_input_sized_map_in_0_to_1_for_the_predicted_class(trained):
    model = trained[2]
    image = shape_image(3)
    cam = grad_cam(model, image)
    probabilities = predict_probabilities(model, image)
    assert cam.heatmap.shape == (28, 28)
    assert cam.heatmap.min() >= 0 and cam.heatmap.max() == pytest.approx(1.0)
    assert cam.heatmap.std() > 0.01  # not constant: some parts count more than others
    assert cam.found_evidence and cam.layer == "conv2d_1"
    assert cam.class_index == int(np.argmax(probabilities))
    assert np.allclose(cam.probabilities, probabilities, atol=1e-5)


def test_grad_cam_for_another_class_gives_another_map(trained):
    model = trained[2]
    image = shape_image(3)
    predicted = grad_cam(model, image)
    other = next(c for c in range(5) if c != predicted.class_index)
    cam = grad_cam(model, image, class_index=other)
    assert cam.class_index == other
    assert not np.allclose(cam.heatmap, predicted.heatmap)


def test_a_model_without_convolutions_has_nothing_to_show():
    model = build_model(
        {
            "input_shape": list(SHAPE),
            "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}],
        }
    )
    assert conv_filters(model) == [] and feature_maps(model, shape_image()) == []
    with pytest.raises(NotInspectable, match="no Conv2D layer"):
        grad_cam(model, shape_image())


# --- mistakes ---------------------------------------------------------------------------------------


def synthetic_predictions() -> Predictions:
    # true:      0    0    0    1    1    2
    # predicted: 1    1    0    1    0    1
    probabilities = np.array(
        [[0.3, 0.6, 0.1], [0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.1, 0.6, 0.3]],
        dtype=np.float32,
    )
    return Predictions(probabilities, np.array([0, 0, 0, 1, 1, 2]))


def test_a_cells_images_come_most_confident_first():
    examples = pair_examples(synthetic_predictions(), true_class=0, predicted_class=1)
    assert [e.index for e in examples] == [1, 0]
    assert [e.confidence for e in examples] == pytest.approx([0.9, 0.6])
    assert all(e.true == 0 and e.predicted == 1 for e in examples)
    assert pair_examples(synthetic_predictions(), 2, 0) == []
    assert [e.index for e in pair_examples(synthetic_predictions(), 0, 1, limit=1)] == [1]


def test_most_confident_mistakes_leave_out_correct_answers():
    mistakes = confident_mistakes(synthetic_predictions())
    assert [e.index for e in mistakes] == [1, 0, 5, 4]  # 0.9, 0.6, 0.6 (test order on ties), 0.5
    assert [(e.true, e.predicted) for e in mistakes] == [(0, 1), (0, 1), (2, 1), (1, 0)]
    assert len(confident_mistakes(synthetic_predictions(), limit=2)) == 2


def test_a_runs_saved_predictions(trained, tmp_path):
    store, run, _ = trained
    predictions = load_predictions(store, run.id)
    assert predictions.probabilities.shape == (100, 5)
    assert list(predictions.y_true) == list(load_dataset("shapes").y_test[:100])
    wrong = int((predictions.predicted != predictions.y_true).sum())
    assert len(confident_mistakes(predictions, limit=None)) == wrong
    assert round(wrong / 100, 2) == round(1 - run.results["test_accuracy"], 2)
    with pytest.raises(PredictionsUnavailable, match="no saved test predictions"):
        load_predictions(RunStore(tmp_path), "nosuchrun")


# --- preparing own images ---------------------------------------------------------------------------


def png_bytes(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_data_set_image_passes_through_unchanged():
    pixels = load_dataset("shapes").x_test[0]
    prepared = preprocess_image(pixels, SHAPE)
    assert prepared.array.shape == SHAPE and prepared.array.dtype == np.float32
    assert np.allclose(prepared.array, pixels / 255, atol=1e-6)
    assert not prepared.inverted and len(prepared.steps) == 1 and "divided by 255" in prepared.steps[0]


def test_a_light_background_photo_is_turned_grey_shrunk_and_inverted():
    photo = np.full((56, 56, 3), 255, dtype=np.uint8)
    photo[14:42, 14:42] = (200, 0, 0)  # a dark red square on white
    prepared = preprocess_image(open_image(png_bytes(photo)), SHAPE)
    assert prepared.array.shape == SHAPE and prepared.inverted
    text = " ".join(prepared.steps)
    assert "grey" in text and "shrunk from 56×56 to 28×28" in text and "inverted" in text
    grey = prepared.array[..., 0]
    assert grey[0, 0] == pytest.approx(0, abs=0.01)  # the white background is now black
    assert grey[14, 14] > 0.6  # the square is now light
    assert np.allclose(grey, grey.T, atol=0.02)  # and still square


def test_inversion_follows_the_training_data_or_the_users_choice():
    light = np.full((28, 28), 255, dtype=np.uint8)
    light[10:18, 10:18] = 0
    assert not preprocess_image(light, SHAPE, dark_background=False).inverted  # data is dark on light too
    assert not preprocess_image(light, SHAPE, invert=False).inverted
    dark = 255 - light
    forced = preprocess_image(dark, SHAPE, invert=True)
    assert forced.inverted and "as you asked" in " ".join(forced.steps)
    assert forced.array[0, 0, 0] == pytest.approx(1.0)


def test_a_wide_image_is_padded_not_squashed():
    wide = np.zeros((30, 60), dtype=np.uint8)
    wide[5:25, 20:40] = 255  # a 20×20 square
    prepared = preprocess_image(wide, SHAPE)
    assert "padded from 60×30" in " ".join(prepared.steps)
    ink = prepared.array[..., 0] > 0.5
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    assert abs(len(rows) - len(cols)) <= 1 and 8 <= len(rows) <= 11  # 20/60 of 28 ≈ 9 pixels each way


def test_transparent_parts_count_as_white():
    rgba = np.zeros((40, 40, 4), dtype=np.uint8)  # fully transparent
    rgba[10:30, 18:22] = (0, 0, 0, 255)  # an opaque black bar
    prepared = preprocess_image(open_image(png_bytes(rgba)), SHAPE)
    assert "Transparent parts were filled with white." in prepared.steps
    assert prepared.inverted and prepared.array[14, 14, 0] > 0.8  # the bar is light on dark now


def test_a_drawing_is_centred_like_mnist():
    drawing = np.zeros((280, 280, 3), dtype=np.uint8)
    drawing[10:70, 10:40] = 255  # a stroke in the top-left corner
    prepared = preprocess_image(drawing, SHAPE, invert=False, centre=True)
    ink = prepared.array[..., 0] > 0.5
    rows, cols = np.nonzero(ink)
    assert 12 <= rows.mean() <= 15 and 12 <= cols.mean() <= 15  # centred
    assert 18 <= rows.max() - rows.min() + 1 <= 21  # its long side fills 20 of 28 pixels, as in MNIST


def test_colour_models_get_three_channels():
    prepared = preprocess_image(np.zeros((32, 32), dtype=np.uint8), (32, 32, 3))
    assert prepared.array.shape == (32, 32, 3)


def test_a_file_that_is_not_an_image_is_a_plain_message():
    with pytest.raises(BadImage, match="not an image that can be read"):
        open_image(b"%PDF-1.4 definitely not a picture")


def test_the_shapes_data_has_a_dark_background():
    images = load_dataset("shapes").x_train
    assert has_dark_background(images) and not has_dark_background(255 - images)


# --- figure helpers (plain Plotly) ------------------------------------------------------------------


def test_confusion_cells_are_clickable_points_carrying_their_cell():
    matrix = [[5, 1, 0], [2, 7, 0], [0, 0, 9]]
    fig = charts.clickable_confusion_figure(matrix, ["a", "b", "c"], selected=(1, 0))
    points = next(t for t in fig.data if t.type == "scatter")
    assert len(points.x) == 9
    cells = {(x, y): tuple(int(v) for v in data) for x, y, data in zip(points.x, points.y, points.customdata)}
    assert cells[("a", "b")] == (1, 0, 2)  # predicted a, true b: 2 images
    assert fig.layout.clickmode == "event+select"
    assert len(fig.layout.shapes) == 1  # the selected cell is outlined
    # the browser gets plain lists back only if it was sent plain lists (not Plotly's binary arrays)
    sent = next(t for t in json.loads(fig.to_json())["data"] if t["type"] == "scatter")
    assert sent["customdata"][3] == [1, 0, 2]
    event = {"selection": {"points": [{"x": "a", "y": "b", "customdata": [1, 0, 2]}]}}
    assert charts.selected_cell(event) == (1, 0)
    assert charts.selected_cell({"selection": {"points": []}}) is None and charts.selected_cell(None) is None


def test_mosaic_lays_tiles_out_with_gaps():
    tiles = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    grid, owner = charts.mosaic(tiles, columns=3)
    assert grid.shape == (5, 11)
    assert np.array_equal(grid[0:2, 0:3], tiles[0]) and np.array_equal(grid[3:5, 4:7], tiles[4])
    assert np.isnan(grid[2]).all() and owner[3, 9] == -1 and owner[0, 5] == 1


def test_probability_bars_in_percent_with_the_answer_highlighted():
    fig = charts.probability_figure([0.1, 0.7, 0.2], ["a", "b", "c"], true_class=2)
    bars = fig.data[0]
    assert list(bars.x) == pytest.approx([10, 70, 20])
    assert list(bars.y) == ["a", "b", "c (true)"]
    assert bars.marker.color[1] != bars.marker.color[0]


def test_enlarge_keeps_pixels_sharp():
    image = np.zeros((28, 28, 1), dtype=np.float32)
    image[0, 0] = 1.0
    big = charts.enlarge(image, 84)
    assert big.shape == (84, 84) and big.dtype == np.uint8
    assert (big[:3, :3] == 255).all() and big[3, 3] == 0
