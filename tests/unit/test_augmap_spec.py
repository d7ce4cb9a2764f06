"""Augmentation layers through everything that reads a spec, the coaching note on the gap, and the map's
sampling, layers and chart (pure Python: no TensorFlow)."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from core.experiments.factors import apply_values, factor_options, parse_factor
from core.insight.coaching import augmentation_finding
from core.insight.embedding_map import EmbeddingMap, default_layer, mappable_layers, stratified_sample
from core.model.augmentation import describe, flip_warning, without_augmentation
from core.model.diagram import stages
from core.model.spec import analyze
from core.model.tflite import check_layers
from core.share import decode, encode
from core.training.codegen import snippet, training_script
from core.training.hyperparams import Hyperparameters
from core.training.presets import DEFAULT_TABLE_PRESET, PRESETS, presets_for
from dashboard.charts.embedding_map import embedding_figure
from dashboard.components.hover_chart import clicked_position

AUGMENTATION = [
    {"type": "RandomFlip", "mode": "horizontal"},
    {"type": "RandomRotation", "factor": 0.05},
    {"type": "RandomZoom", "height_factor": 0.1},
    {"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.2},
    {"type": "RandomContrast", "factor": 0.2},
]


def augmented(preset="model1", classes=10) -> dict:
    spec = PRESETS[preset].spec(num_classes=classes)
    return {**spec, "layers": [*AUGMENTATION, *spec["layers"]]}


# --- the spec and what reads it -------------------------------------------------------------------


def test_augmentation_layers_keep_the_shape_and_add_no_parameters():
    plain = analyze(PRESETS["model1"].spec(), (28, 28, 1), 10)
    analysis = analyze(augmented(), (28, 28, 1), 10)
    assert analysis.ok, [p.text() for p in analysis.problems]
    assert [(r.name, r.output_shape, r.params) for r in analysis.layers[:5]] == [
        ("random_flip", (28, 28, 1), 0),
        ("random_rotation", (28, 28, 1), 0),
        ("random_zoom", (28, 28, 1), 0),
        ("random_translation", (28, 28, 1), 0),
        ("random_contrast", (28, 28, 1), 0),
    ]
    assert analysis.total_params == plain.total_params == 108_618


def test_augmentation_on_a_table_or_with_a_bad_setting_is_a_plain_problem():
    table = {
        "input_shape": [6],
        "layers": [{"type": "RandomFlip", "mode": "horizontal"}, {"type": "Dense", "units": 1}],
    }
    (problem,) = analyze(table, (6,), task="regression").problems
    assert problem.layer == 0 and "works on images only" in problem.fix and "6 values" in problem.message
    spec = augmented()
    spec["layers"][1] = {"type": "RandomRotation", "factor": 2}
    spec["layers"][0] = {"type": "RandomFlip", "mode": "sideways"}
    texts = [p.text() for p in analyze(spec, (28, 28, 1), 10).problems]
    assert any("rotation (share of a full turn) must be from 0 to 0.5 (got 2)" in t for t in texts), texts
    assert any("flip must be one of horizontal, vertical, horizontal_and_vertical" in t for t in texts), texts


def test_the_code_the_script_and_a_share_link_carry_the_augmentation():
    spec = augmented()
    code = snippet(spec)
    assert "layers.RandomFlip(mode='horizontal', name='random_flip')," in code
    assert "layers.RandomTranslation(height_factor=0.1, width_factor=0.2, name='random_translation')," in code
    script = training_script(spec, "fashion_mnist", Hyperparameters(epochs=1))
    compile(script, "script.py", "exec")
    assert "layers.RandomContrast(factor=0.2, name='random_contrast')" in script
    model = {"dataset": "fashion_mnist", "preset": "model1", "spec": spec, "hyperparameters": {}}
    model["hyperparameters"] = PRESETS["model1"].app_hyperparameters.to_dict()
    assert decode(encode(model))["spec"] == spec
    check_layers(spec)  # TFLite takes them (inactive at inference)


def test_the_picture_tags_the_input_and_the_card_words_say_what_augmentation_does():
    first = stages(augmented())[0]
    assert first.title == "Input" and first.tags == (
        "flip ↔",
        "rotate ±18°",
        "zoom ±10 %",
        "shift ±20 %",
        "contrast ±20 %",
    )
    assert describe(augmented()) == (
        "left-right flip, rotation up to ±18°, zoom up to ±10 %, shift up to 10 % up/down and 20 % left/right, "
        "contrast ±20 %"
    )
    assert describe(PRESETS["model1"].spec()) == ""
    assert without_augmentation(augmented())["layers"] == PRESETS["model1"].spec()["layers"]


def test_flips_are_warned_about_where_they_change_a_class():
    assert "digit" in flip_warning("mnist", "horizontal")
    assert flip_warning("fashion_mnist", "horizontal") is None  # a mirrored shirt is still a shirt
    assert "upside down" in flip_warning("fashion_mnist", "vertical")
    assert "upside down" in flip_warning("fashion_mnist", "horizontal_and_vertical")
    assert flip_warning("shapes", "vertical") is None


def test_an_experiment_can_add_augmentation_at_the_top_of_an_image_model_only():
    spec, hp = PRESETS["model1"].spec(), Hyperparameters()
    options = {o.key: o for o in factor_options(spec, hp)}
    assert options["add1"].suggested == ("none", "RandomRotation")
    assert "RandomFlip" in options["add1"].choices
    factor = parse_factor("add1=none,RandomFlip", spec)
    variant, _ = apply_values(spec, hp, {factor.key: "RandomFlip"})
    assert variant["layers"][0] == {"type": "RandomFlip", "mode": "horizontal"}
    table = presets_for(is_images=False)[DEFAULT_TABLE_PRESET].spec((6,), 1)
    choices = {o.key: o for o in factor_options(table, hp)}["add1"].choices
    assert "Dropout" in choices and not {"RandomFlip", "RandomRotation"} & set(choices)


# --- coaching: what augmentation did to the gap --------------------------------------------------------


def fake_run(run_id, spec, train, val, epoch=3, hp=None, dataset="fashion_mnist"):
    history = [{"epoch": e, "accuracy": 0.5, "val_accuracy": 0.5} for e in range(1, epoch)]
    history.append({"epoch": epoch, "accuracy": train, "val_accuracy": val})
    return SimpleNamespace(
        id=run_id,
        spec=spec,
        dataset=dataset,
        hyperparameters=hp or Hyperparameters(epochs=epoch),
        task=SimpleNamespace(is_regression=False),
        epoch_history=lambda: history,
    )


def test_the_coaching_compares_the_gap_with_the_same_model_without_augmentation():
    run = fake_run("aaaaaaaaaaaa", augmented(), 0.905, 0.893)
    plain = fake_run("bbbbbbbbbbbb", PRESETS["model1"].spec(), 0.962, 0.901)
    other_data = fake_run("cccccccccccc", PRESETS["model1"].spec(), 0.99, 0.5, dataset="mnist")
    finding = augmentation_finding(run, [run, other_data, plain])
    assert finding.title == "Augmentation narrowed the gap" and not finding.is_problem
    assert (
        "training accuracy 90.5 % and validation accuracy 89.3 % at epoch 3: a gap of 1.2 points" in finding.statement
    )
    assert "Run bbbbbbbbbbbb, the same model without augmentation" in finding.statement
    assert "a gap of 6.1 points" in finding.statement
    assert "narrowed the gap by 4.9 points" in finding.statement and "fell by 0.8 points" in finding.statement


def test_without_a_run_to_compare_the_coaching_states_the_gap_and_that_augmentation_is_on():
    run = fake_run("aaaaaaaaaaaa", augmented(), 0.88, 0.90)
    finding = augmentation_finding(run, [run])
    assert finding.title == "Augmentation is on"
    assert "left-right flip" in finding.statement and "validation 2.0 points above training" in finding.statement
    assert "Clone and edit" in finding.suggestion
    assert augmentation_finding(fake_run("bbbbbbbbbbbb", PRESETS["model1"].spec(), 0.9, 0.8), []) is None


# --- the map ---------------------------------------------------------------------------------------


def test_the_map_samples_at_most_2000_test_images_each_class_in_its_share():
    labels = np.r_[np.zeros(6000, int), np.ones(3990, int), np.full(10, 2)]
    picks = stratified_sample(labels, len(labels))
    assert len(picks) == 2000 and len(set(picks.tolist())) == 2000 and np.all(np.diff(picks) > 0)
    assert np.bincount(labels[picks]).tolist() == [1200, 798, 2]
    many = np.arange(5000) % 2500  # more classes than places: still exactly the limit
    assert len(stratified_sample(many, 5000)) == 2000
    assert stratified_sample(labels[:50], 50).tolist() == list(range(50))  # small test sets: all of it
    assert len(stratified_sample(None, 9000)) == 2000  # a regression: uniform


def test_the_map_offers_the_layers_that_change_values_the_penultimate_by_default():
    names = [m.name for m in mappable_layers(augmented())]
    assert names == ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "dense"]
    assert default_layer(augmented()) == "dense"
    assert default_layer({"input_shape": [4], "layers": [{"type": "Dense", "units": 1}]}) is None


def tiny_map(regression=False) -> EmbeddingMap:
    return EmbeddingMap(
        "dense",
        "pca",
        np.array([3, 5, 8, 9]),
        np.array([[0, 0], [1, 1], [2, 0], [0, 2]], np.float32),
        np.array([0, 0, 1, 1]) if not regression else np.array([1.0, 2.0, 3.0, 4.0]),
        np.array([0, 1, 1, 1]) if not regression else np.array([1.5, 2.0, 2.0, 4.0]),
        np.array([0.9, 0.6, 0.8, 0.7], np.float32),
        (0.4, 0.2),
        regression,
    )


def test_the_map_chart_colours_by_class_crosses_mistakes_and_shows_names_literally():
    figure = embedding_figure(tiny_map(), ["<b>bold</b> & co", "cat"])
    traces = {t.name: t for t in figure.data}
    assert set(traces) == {"&lt;b&gt;bold&lt;/b&gt; &amp; co", "cat", "✕ mistakes (1)"}
    assert len(traces["cat"].x) == 2 and list(traces["✕ mistakes (1)"].customdata[0][:2]) == [1, 5]
    assert "predicted: cat (60 %), <b>wrong</b>" in traces["✕ mistakes (1)"].customdata[0][2]
    assert figure.layout.xaxis.title.text == "principal component 1 (40 % of the variance)"
    assert clicked_position({"clicked": 2}, len(tiny_map())) == 2  # what a click on the third dot sends
    assert clicked_position({"clicked": None}, 4) is None and clicked_position(None, 4) is None
    assert clicked_position({"clicked": 4}, 4) is None and clicked_position({"clicked": True}, 4) is None
    regression = embedding_figure(tiny_map(regression=True))
    assert len(regression.data) == 1 and list(regression.data[0].marker.color) == pytest.approx([0.9, 0.6, 0.8, 0.7])
    json.dumps(figure.to_plotly_json(), default=str)
