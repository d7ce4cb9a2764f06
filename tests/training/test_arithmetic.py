"""How one number was computed: the arithmetic from the layer's input and weights gives the model's own value."""

import numpy as np
import pytest

from core.insight.arithmetic import (
    NotExplainable,
    add_arithmetic,
    concat_arithmetic,
    conv_arithmetic,
    conv_result,
    dense_arithmetic,
    dense_result,
    explainable_layers,
    layer_values,
    pool_arithmetic,
)
from core.model.keras_build import build_model

TOLERANCE = 1e-4


def model_with(layers, input_shape=(9, 11, 3), seed=0):
    """A model with random (not zero) weights and biases, so every term of the sum matters."""
    model = build_model({"input_shape": list(input_shape), "layers": layers})
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def image(shape=(9, 11, 3), seed=1):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def every_position(output_shape):
    return [(r, c) for r in range(output_shape[0]) for c in range(output_shape[1])]


def edge_positions(output_shape):
    """The corners and edges (where 'same' padding enters the window), one inside, one just off the corner."""
    last_r, last_c = output_shape[0] - 1, output_shape[1] - 1
    picks = [
        (0, 0),
        (0, last_c),
        (last_r, 0),
        (last_r, last_c),
        (last_r // 2, last_c // 2),
        (min(1, last_r), min(1, last_c)),
    ]
    picks += [(0, last_c // 2), (last_r // 2, 0)]
    return sorted(set(picks))


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2])
def test_convolution_sum_equals_the_models_activation_everywhere(padding, stride):
    kernel = [3, 2]  # not square: rows and columns cannot be swapped unnoticed
    model = model_with(
        [
            {
                "type": "Conv2D",
                "filters": 4,
                "kernel_size": kernel,
                "strides": stride,
                "padding": padding,
                "activation": "relu",
            },
            {
                "type": "Conv2D",
                "filters": 3,
                "kernel_size": 3,
                "strides": stride,
                "padding": padding,
                "activation": "tanh",
            },
        ]
    )
    x = image()
    for layer in model.layers:  # the first sees the 3-channel image, the second 4 feature maps
        out = layer_values(model, x)[layer.name][1]
        for f in range(out.shape[-1]):
            for row, col in edge_positions(out.shape) if f else every_position(out.shape):
                step = conv_arithmetic(model, x, layer.name, f, row, col)
                assert step.patch.shape == (*step.kernel.shape[:2], layer.input.shape[-1])
                assert abs(conv_result(step, model) - step.model_value) < TOLERANCE
                assert abs(step.model_value - out[row, col, f]) < TOLERANCE


def test_same_padding_window_hangs_over_the_edge_with_zeros():
    model = model_with([{"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same", "activation": "linear"}])
    step = conv_arithmetic(model, image(), "conv2d", 1, 0, 0)
    assert (step.top, step.left) == (-1, -1)
    assert not step.inside[0].any() and not step.inside[:, 0].any() and step.inside[1:, 1:].all()
    assert (step.patch[0] == 0).all()
    assert abs(step.pre_activation - step.model_value) < TOLERANCE  # linear: the sum plus bias is the value


def test_stride_two_moves_the_window_two_pixels():
    model = model_with([{"type": "Conv2D", "filters": 1, "kernel_size": 3, "strides": 2, "activation": "relu"}])
    step = conv_arithmetic(model, image(), "conv2d", 0, 2, 3)
    assert (step.top, step.left) == (4, 6)


@pytest.mark.parametrize("kind", ["MaxPooling2D", "AveragePooling2D"])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_window_value_equals_the_models_output(kind, padding):
    model = model_with(
        [
            {"type": "Conv2D", "filters": 3, "kernel_size": 2, "activation": "linear"},
            {"type": kind, "pool_size": 3, "strides": 2, "padding": padding},
        ]
    )
    x = image()
    name = model.layers[1].name
    out = layer_values(model, x)[name][1]
    for channel in range(3):
        for row, col in every_position(out.shape):
            step = pool_arithmetic(model, x, name, channel, row, col)
            assert abs(step.value - step.model_value) < TOLERANCE
    if kind == "MaxPooling2D":
        step = pool_arithmetic(model, x, name, 0, 0, 0)
        r, c = step.winner
        assert step.window[r, c] == np.nanmax(step.window) and abs(step.window[r, c] - step.model_value) < TOLERANCE


def test_dense_output_unit_sum_and_softmax_equal_the_models_probability():
    model = model_with(
        [
            {"type": "Conv2D", "filters": 2, "kernel_size": 3, "activation": "relu"},
            {"type": "Flatten"},
            {"type": "Dense", "units": 6, "activation": "relu"},
            {"type": "Dense", "units": 4, "activation": "softmax"},
        ]
    )
    x = image()
    probabilities = layer_values(model, x)["dense_1"][1]
    for unit in range(4):
        step = dense_arithmetic(model, x, "dense_1", unit)
        assert abs(dense_result(step, model) - probabilities[unit]) < TOLERANCE
        assert abs(step.probabilities.sum() - 1) < 1e-9
        top = step.top_inputs(3)
        assert len(top) == 3 and abs(step.products[top[0]]) == np.abs(step.products).max()
        assert abs(step.products[top].sum() + step.rest_sum(3) - step.products.sum()) < 1e-9
    hidden = dense_arithmetic(model, x, "dense", 2)
    assert abs(dense_result(hidden, model) - hidden.model_value) < TOLERANCE


def test_trained_model_arithmetic_matches(trained_shapes_model):
    model, x = trained_shapes_model
    assert [type(layer).__name__ for layer in explainable_layers(model)][:2] == ["Conv2D", "MaxPooling2D"]
    step = conv_arithmetic(model, x, "conv2d_1", 5, 4, 7)
    assert abs(conv_result(step, model) - step.model_value) < TOLERANCE
    step = dense_arithmetic(model, x, model.layers[-1].name, 2)
    assert abs(dense_result(step, model) - step.model_value) < TOLERANCE


def test_positions_and_layers_that_do_not_exist_are_refused_plainly():
    model = model_with([{"type": "Conv2D", "filters": 2, "kernel_size": 3}, {"type": "Flatten"}])
    with pytest.raises(NotExplainable, match="outside the feature map"):
        conv_arithmetic(model, image(), "conv2d", 0, 7, 0)
    with pytest.raises(NotExplainable, match="has 2 filters"):
        conv_arithmetic(model, image(), "conv2d", 2, 0, 0)
    with pytest.raises(NotExplainable, match="not a convolution"):
        conv_arithmetic(model, image(), "flatten", 0, 0, 0)
    with pytest.raises(NotExplainable, match="no layer called"):
        pool_arithmetic(model, image(), "nope", 0, 0, 0)


@pytest.fixture(scope="module")
def trained_shapes_model(tmp_path_factory):
    from core.data.datasets import load_dataset
    from core.insight.inspection import load_run_model
    from core.runs.manager import RunManager
    from core.runs.store import RunStore
    from core.training.hyperparams import Hyperparameters
    from core.training.presets import PRESETS

    store = RunStore(tmp_path_factory.mktemp("arith_home"))
    hp = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=50)
    run = RunManager(store).start(PRESETS["model1"].spec((28, 28, 1), 5), "shapes", hp, owner="tester")
    assert run.wait(120) and run.status == "finished", run.message
    return load_run_model(store, run.id), load_dataset("shapes").as_float("x_test")[0]


def test_receptive_field_grows_back_through_conv_and_pooling():
    from core.insight.arithmetic import receptive_field
    from core.training.presets import PRESETS

    model = build_model(PRESETS["model1"].spec((28, 28, 1), 5))
    assert receptive_field(model, "conv2d", 5, 7) == (5, 7, 7, 9)  # its own 3×3 window
    assert receptive_field(model, "max_pooling2d", 0, 0) == (0, 0, 3, 3)
    assert receptive_field(model, "conv2d_1", 0, 0) == (0, 0, 7, 7)  # 3 pooled cells = 6 conv cells + 2
    assert receptive_field(model, "conv2d_1", 10, 10) == (20, 20, 27, 27)
    same = build_model(PRESETS["modern"].spec((28, 28, 1), 5))
    assert receptive_field(same, "conv2d", 0, 0) == (0, 0, 1, 1)  # 'same': the window starts in the padding
    with pytest.raises(NotExplainable, match="sees all of the image"):
        receptive_field(model, "dense", 0, 0)


# --- skip connections: Add and Concatenate, of feature maps and of flat vectors ---------------------

FLAT_MERGES = [
    {"type": "Dense", "units": 6, "activation": "relu"},
    {"type": "Dense", "units": 6, "activation": "tanh"},
    {"type": "Add", "with": 1},  # the second Dense's output plus the first's
    {"type": "Concatenate", "with": 2},
    {"type": "Dense", "units": 3, "activation": "softmax"},
]


def test_an_add_of_two_dense_outputs_is_their_values_summed_as_the_model_computed():
    model, x = model_with(FLAT_MERGES, input_shape=(5,)), image((5,))
    assert [layer.name for layer in explainable_layers(model)] == ["dense", "dense_1", "add", "concatenate", "dense_2"]
    values = layer_values(model, x)
    for index in range(6):
        step = add_arithmetic(model, x, "add", index)
        assert step.flat and step.sources == ("dense_1", "dense")  # the main path, then the shortcut
        assert step.values == (pytest.approx(values["dense_1"][1][index]), pytest.approx(values["dense"][1][index]))
        assert abs(step.value - step.model_value) < TOLERANCE
    with pytest.raises(NotExplainable, match=r"add has 6 values \(0 to 5\)"):
        add_arithmetic(model, x, "add", 6)


def test_a_concatenate_value_is_one_inputs_own_at_its_own_index():
    model, x = model_with(FLAT_MERGES, input_shape=(5,)), image((5,))
    steps = [concat_arithmetic(model, x, "concatenate", index) for index in range(12)]
    assert [(s.source, s.source_channel) for s in steps] == [(0, i) for i in range(6)] + [(1, i) for i in range(6)]
    assert steps[0].sources == ("add", "dense_1") and steps[0].ranges() == [(0, 5), (6, 11)]
    assert all(s.value == s.model_value for s in steps)  # copied, not computed: exactly the same number
    maps = model_with(
        [
            {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
            {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same"},
            {"type": "Concatenate", "with": 1},
        ]
    )
    step = concat_arithmetic(maps, image(), "concatenate", 5, 2, 7)
    assert (step.source, step.source_channel, step.sources, step.widths) == (1, 2, ("conv2d_1", "conv2d"), (3, 4))
    assert step.value == step.model_value == pytest.approx(layer_values(maps, image())["conv2d"][1][2, 7, 2])
    with pytest.raises(NotExplainable, match="pick a row and a column"):
        concat_arithmetic(maps, image(), "concatenate", 5)
    with pytest.raises(NotExplainable, match="not a Concatenate"):
        concat_arithmetic(maps, image(), "conv2d", 0, 0, 0)
