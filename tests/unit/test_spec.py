"""Architecture specs: exact parameter counts and shapes, and plain-language problems (tests/training/test_spec_keras.py checks them against Keras)."""

import copy

import pytest
from helpers import MIXED_LAYERS_SPEC

from core.config import DEFAULT_PARAM_BUDGET
from core.model.edit import new_layer
from core.model.spec import (
    LAYER_TYPES,
    analyze,
    format_shape,
    layer_names,
)
from core.training.presets import PRESETS

SEED_PARAMS = {"model1": 108_618, "model2": 75_594, "model3": 142_538}


def _problems(spec, *args, **kwargs):
    return analyze(spec, *args, **kwargs).problems


def _texts(spec, *args, **kwargs):
    return [p.text() for p in _problems(spec, *args, **kwargs)]


def _model1():
    return PRESETS["model1"].spec()


# --- parameter counts and shapes --------------------------------------------------------------


@pytest.mark.parametrize("name, params", SEED_PARAMS.items())
def test_notebook_presets_have_the_seed_parameter_counts(name, params):
    analysis = analyze(PRESETS[name].spec(), (28, 28, 1), 10)
    assert analysis.ok, analysis.problems
    assert analysis.total_params == params


def test_model1_layer_by_layer_matches_the_notebook_summary():
    analysis = analyze(_model1())
    assert [(r.name, r.output_shape, r.params) for r in analysis.layers] == [
        ("conv2d", (26, 26, 16), 160),
        ("max_pooling2d", (13, 13, 16), 0),
        ("conv2d_1", (11, 11, 32), 4640),
        ("max_pooling2d_1", (5, 5, 32), 0),
        ("flatten", (800,), 0),
        ("dense", (128,), 102_528),
        ("dense_1", (10,), 1290),
    ]


def test_preset_specs_are_independent_copies():
    """Editing one layer of a preset's spec changes only that layer (presets reuse one dict for pooling)."""
    spec = PRESETS["model1"].spec()
    spec["layers"][1]["pool_size"] = 3
    assert spec["layers"][3]["pool_size"] == 2
    assert PRESETS["model1"].spec()["layers"][1]["pool_size"] == 2
    modern = PRESETS["modern"].spec()
    modern["layers"][1]["extra"] = 1
    assert "extra" not in modern["layers"][4]


def test_model1_for_five_classes_has_107973_params():
    """The number the exported shapes script prints (see test_codegen)."""
    assert analyze(PRESETS["model1"].spec(num_classes=5), (28, 28, 1), 5).total_params == 107_973


def test_layer_names_follow_keras_automatic_naming_rules():
    spec = MIXED_LAYERS_SPEC
    assert layer_names(spec) == [
        "conv2d",
        "max_pooling2d",
        "conv2d_1",
        "batch_normalization",
        "max_pooling2d_1",
        "global_average_pooling2d",
        "dense",
        "dense_1",
    ]


def test_format_shape_is_keras_style():
    assert format_shape((26, 26, 16)) == "(None, 26, 26, 16)"
    assert format_shape((10,)) == "(None, 10)"
    assert format_shape(None) == "—"


def test_new_layer_defaults_are_valid():
    for kind in LAYER_TYPES:
        layer = new_layer(kind)
        assert layer["type"] == kind
    spec = {
        "input_shape": [28, 28, 1],
        "layers": [
            new_layer("Conv2D"),
            new_layer("MaxPooling2D"),
            new_layer("Flatten"),
            new_layer("Dense"),
            {**new_layer("Dense"), "units": 10, "activation": "softmax"},
        ],
    }
    assert analyze(spec, (28, 28, 1), 10).ok


# --- problems, in plain language with their fix ------------------------------------------------


def test_dense_on_a_feature_map_says_add_flatten():
    spec = {
        "input_shape": [28, 28, 1],
        "layers": [
            {"type": "Conv2D", "filters": 16, "kernel_size": 3, "activation": "relu"},
            {"type": "Dense", "units": 10, "activation": "softmax"},
        ],
    }
    problems = _problems(spec, (28, 28, 1), 10)
    assert len(problems) == 1
    assert problems[0].layer == 1
    assert "26×26×16" in problems[0].message
    assert problems[0].text() == (
        "Layer 2: Dense expects a flat vector but receives a 26×26×16 feature map here"
        " — add Flatten or GlobalAveragePooling2D before Dense."
    )
    analysis = analyze(spec)
    assert analysis.layers[1].output_shape is None and analysis.layers[1].params is None


def _shrunk_to_3x3(extra_layer):
    """28 → 26 → 13 → 11 → 5 → 3: the image is 3×3 when extra_layer is reached."""
    return {
        "input_shape": [28, 28, 1],
        "layers": [
            {"type": "Conv2D", "filters": 8, "kernel_size": 3},
            {"type": "MaxPooling2D", "pool_size": 2},
            {"type": "Conv2D", "filters": 8, "kernel_size": 3},
            {"type": "MaxPooling2D", "pool_size": 2},
            {"type": "Conv2D", "filters": 8, "kernel_size": 3},
            extra_layer,
            {"type": "Flatten"},
            {"type": "Dense", "units": 10, "activation": "softmax"},
        ],
    }


def test_kernel_bigger_than_the_image_names_the_size_at_that_point():
    spec = _shrunk_to_3x3({"type": "Conv2D", "filters": 8, "kernel_size": 5})
    assert analyze(spec).layers[4].output_shape == (3, 3, 8)
    problems = _problems(spec, (28, 28, 1), 10)
    assert [p.layer for p in problems] == [5]
    text = problems[0].text()
    assert "the kernel is 5×5 but the image is only 3×3 at this point" in text
    assert "use a kernel of at most 3×3" in text
    assert "remove a pooling layer" in text


def test_pool_bigger_than_the_image_names_the_size_at_that_point():
    problems = _problems(_shrunk_to_3x3({"type": "MaxPooling2D", "pool_size": 4}), (28, 28, 1), 10)
    assert len(problems) == 1
    assert "the pooling window is 4×4 but the image is only 3×3 at this point" in problems[0].text()


def test_same_padding_makes_a_big_kernel_fine():
    spec = _shrunk_to_3x3({"type": "Conv2D", "filters": 8, "kernel_size": 5, "padding": "same"})
    assert analyze(spec, (28, 28, 1), 10).ok


def test_output_units_must_equal_the_number_of_classes():
    problems = _problems(_model1(), (28, 28, 1), 5)
    assert len(problems) == 1
    assert problems[0].layer == 6
    assert problems[0].text() == (
        "Layer 7: the output layer has 10 units but the data set has 5 classes — set the last Dense layer to 5 units."
    )


@pytest.mark.parametrize("activation, shown", [("relu", "relu"), (None, "linear")])
def test_output_must_be_softmax(activation, shown):
    spec = _model1()
    if activation is None:
        del spec["layers"][-1]["activation"]
    else:
        spec["layers"][-1]["activation"] = activation
    texts = _texts(spec, (28, 28, 1), 10)
    assert texts == [
        f"Layer 7: the output layer uses '{shown}', so its outputs are not class probabilities"
        " — set the last Dense layer's activation to softmax."
    ]


def test_last_layer_must_be_dense():
    spec = _model1()
    spec["layers"].append({"type": "Dropout", "rate": 0.2})
    texts = _texts(spec, (28, 28, 1), 10)
    assert texts == [
        "Layer 8: the last layer must be a Dense layer that gives the model's output"
        " — add a Dense layer at the end with 10 units."
    ]


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_dropout_rate_outside_0_1(rate):
    spec = copy.deepcopy(PRESETS["model2"].spec())
    spec["layers"][1]["rate"] = rate
    problems = _problems(spec, (28, 28, 1), 10)
    assert len(problems) == 1 and problems[0].layer == 1
    assert problems[0].text() == (
        f"Layer 2: the dropout rate must be at least 0 and below 1 (got {rate}) — use a rate such as 0.25 or 0.5."
    )


def test_dropout_rate_zero_is_allowed():
    spec = PRESETS["model2"].spec()
    spec["layers"][1]["rate"] = 0
    assert analyze(spec, (28, 28, 1), 10).ok


@pytest.mark.parametrize(
    "index, key, value, expected",
    [
        (0, "filters", 0, "Layer 1: filters must be at least 1 (got 0)"),
        (0, "filters", -4, "Layer 1: filters must be at least 1 (got -4)"),
        (0, "kernel_size", 0, "Layer 1: kernel size must be at least 1 (got 0)"),
        (5, "units", 0, "Layer 6: units must be at least 1 (got 0)"),
        (1, "pool_size", [2, -1], "Layer 2: pool size must be at least 1 (got [2, -1])"),
        (0, "filters", 2.5, "Layer 1: filters must be a whole number (got 2.5)"),
    ],
)
def test_non_positive_or_non_whole_sizes(index, key, value, expected):
    spec = _model1()
    spec["layers"][index][key] = value
    texts = _texts(spec, (28, 28, 1), 10)
    assert len(texts) == 1
    assert texts[0].startswith(expected + " — ")


def test_unknown_layer_type_suggests_the_right_one():
    spec = _model1()
    spec["layers"][0]["type"] = "Conv2d"
    problems = _problems(spec, (28, 28, 1), 10)
    assert len(problems) == 1 and problems[0].layer == 0
    assert problems[0].message == "unknown layer type 'Conv2d'"
    assert problems[0].fix.startswith("did you mean Conv2D? supported types are Conv2D, MaxPooling2D")
    # the layers after it cannot be computed, but the analysis still lists them
    assert len(analyze(spec).layers) == 7
    assert analyze(spec).layers[3].output_shape is None


def test_unknown_argument_suggests_the_right_one():
    spec = _model1()
    spec["layers"][5]["unit"] = spec["layers"][5].pop("units")
    texts = _texts(spec, (28, 28, 1), 10)
    assert "Layer 6: Dense has no setting 'unit' — did you mean 'units'." in texts
    assert "Layer 6: Dense needs a value for units — set units, for example to 128." in texts


def test_unknown_argument_without_a_close_match_lists_the_accepted_ones():
    spec = _model1()
    spec["layers"][4]["colour"] = "red"
    assert _texts(spec, (28, 28, 1), 10) == [
        "Layer 5: Flatten has no setting 'colour' — remove it; Flatten takes no settings."
    ]


def test_empty_stack():
    texts = _texts({"input_shape": [28, 28, 1], "layers": []}, (28, 28, 1), 10)
    assert texts == ["the model has no layers — add layers, ending with a Dense output layer."]


def test_not_a_spec_at_all():
    assert _texts([1, 2, 3])[0].startswith("the model description is not a JSON object")
    assert _texts({"input_shape": [28, 28], "layers": _model1()["layers"]})[0].startswith(
        "the input shape [28, 28] is not valid — use [height, width, channels]"
    )


def test_param_budget_default_five_million():
    assert DEFAULT_PARAM_BUDGET == 5_000_000
    spec = {
        "input_shape": [28, 28, 1],
        "layers": [
            {"type": "Flatten"},
            {"type": "Dense", "units": 10_000, "activation": "relu"},
            {"type": "Dense", "units": 10, "activation": "softmax"},
        ],
    }
    analysis = analyze(spec, (28, 28, 1), 10)
    assert analysis.total_params == 784 * 10_000 + 10_000 + 10_000 * 10 + 10
    assert [p.text() for p in analysis.problems] == [
        "the model has 7,950,010 parameters, more than the limit of 5,000,000 — use fewer filters or units, "
        "or add pooling before Flatten to shrink the Dense layer."
    ]


def test_param_budget_is_configurable():
    assert _texts(_model1(), (28, 28, 1), 10, param_budget=100_000) == [
        "the model has 108,618 parameters, more than the limit of 100,000 — use fewer filters or units, "
        "or add pooling before Flatten to shrink the Dense layer."
    ]
    assert analyze(_model1(), (28, 28, 1), 10, param_budget=108_618).ok


def test_input_shape_must_match_the_data():
    texts = _texts(_model1(), (32, 32, 3), 10)
    assert texts[0] == (
        "the model expects inputs of shape 28×28×1 but the data set has 32×32×3 — set the input shape to [32, 32, 3]."
    )


def test_several_problems_are_all_reported():
    spec = _model1()
    spec["layers"][0]["filters"] = 0
    spec["layers"][-1]["activation"] = "sigmoid"
    texts = _texts(spec, (28, 28, 1), 5)
    assert len(texts) == 3
    assert texts[0].startswith("Layer 1: filters must be at least 1")
    assert any("10 units but the data set has 5 classes" in t for t in texts)
    assert any("uses 'sigmoid'" in t for t in texts)
