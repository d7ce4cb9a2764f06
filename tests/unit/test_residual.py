"""Skip connections in the spec: residual blocks, Add and Concatenate, through everything that reads a spec."""

import pytest
from helpers import finished_run
from markdown_it import MarkdownIt

from core.experiments.factors import apply_values, factor_options, parse_factor
from core.insight.arch_diff import ADDED, CHANGED, diff_architectures, summary
from core.insight.model_card import model_card
from core.model.diagram import build_diagram, diagram_png, diagram_svg
from core.model.edit import duplicate_layer, insert_layer, merge_sources, move_layer, remove_layer
from core.model.spec import analyze
from core.runs.store import RunStore
from core.share import decode, encode
from core.training.codegen import model_code, snippet
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS
from core.training.validation import InvalidInput, check_spec

CONV = {"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"}
POOL = {"type": "MaxPooling2D", "pool_size": 2}
HEAD = [{"type": "GlobalAveragePooling2D"}, {"type": "Dense", "units": 10, "activation": "softmax"}]


def spec_of(*layers) -> dict:
    return {"input_shape": [28, 28, 1], "layers": [*layers, *HEAD]}


def test_a_residual_block_with_the_same_shape_adds_its_input_as_it_is():
    analysis = analyze(spec_of(CONV, POOL, {"type": "ResidualBlock", "filters": 16, "kernel_size": 3}))
    assert analysis.ok, analysis.problems
    block = analysis.layers[2]
    assert block.name == "residual_block" and block.output_shape == (14, 14, 16)
    # two 3×3 convolutions 16 → 16 without bias, each with BatchNormalization's four values per channel
    assert block.params == 2 * (3 * 3 * 16 * 16) + 2 * 4 * 16 == 4_736
    assert [p.name for p in block.inner] == [
        "residual_block_conv1",
        "residual_block_bn1",
        "residual_block_act1",
        "residual_block_conv2",
        "residual_block_bn2",
        "residual_block_add",
        "residual_block",
    ]
    assert all(p.branch == "main" for p in block.inner)  # no projection: the shortcut is the input itself


def test_a_block_that_changes_the_shape_gets_a_1x1_convolution_on_its_shortcut():
    block = {"type": "ResidualBlock", "filters": 32, "kernel_size": 3, "strides": 2, "convs": 3}
    analysis = analyze(spec_of(CONV, POOL, block))
    report = analysis.layers[2]
    assert report.output_shape == (7, 7, 32)
    shortcut = [p for p in report.inner if p.branch == "shortcut"]
    assert [(p.name, p.type, p.output_shape) for p in shortcut] == [
        ("residual_block_shortcut", "Conv2D", (7, 7, 32)),
        ("residual_block_shortcut_bn", "BatchNormalization", (7, 7, 32)),
    ]
    convs = 3 * 3 * 16 * 32 + 2 * (3 * 3 * 32 * 32)
    assert report.params == convs + 3 * 4 * 32 + 16 * 32 + 4 * 32 == 24_064
    assert shortcut[0].kwargs == {"filters": 32, "kernel_size": 1, "strides": 2, "padding": "same", "use_bias": False}


def test_the_resnet_preset_is_valid_and_the_notebook_models_unchanged():
    analysis = analyze(PRESETS["resnet_small"].spec(), (28, 28, 1), 10, batch_size=256)
    assert analysis.ok and analysis.total_params == 78_378
    assert analysis.memory.total_mb > analyze(PRESETS["model1"].spec(), batch_size=256).memory.total_mb
    assert [analyze(PRESETS[n].spec()).total_params for n in ("model1", "model2", "model3")] == [
        108_618,
        75_594,
        142_538,
    ]


def test_an_add_of_a_smaller_layer_says_what_fits_and_how_to_fix_it():
    spec = spec_of(
        CONV,
        POOL,
        {**CONV, "filters": 32},
        {**CONV, "filters": 32},
        {"type": "Add", "with": 2},
    )
    analysis = analyze(spec)
    (problem,) = analysis.problems
    assert problem.layer == 4
    assert problem.text() == (
        "Layer 5: Add needs both inputs 14×14×32; layer 2 gives 14×14×16 — use a 1×1 convolution on the shortcut "
        "(turn on '1×1 convolution on the shortcut' on this layer) (layer 3 fits)."
    )
    spec["layers"][4]["projection"] = True  # the fix
    fixed = analyze(spec)
    assert fixed.ok and fixed.layers[4].output_shape == (14, 14, 32)
    assert fixed.layers[4].params == 16 * 32 + 32  # the shortcut's 1×1 convolution, with bias


def test_merges_that_cannot_fit_or_look_ahead_are_explained():
    flat = analyze(spec_of(CONV, {"type": "Flatten"}, {"type": "Add", "with": 1}))
    assert flat.problems[0].text() == (
        "Layer 3: Add needs both inputs 12,544 values; layer 1 gives 28×28×16 — merge with a layer that gives "
        "12,544 values."
    )
    ahead = analyze(spec_of(CONV, {"type": "Add", "with": 3}, CONV))
    assert ahead.problems[0].text() == (
        "Layer 2: Add takes layer 3, which is not above it — pick one of the layers above it (1 to 1) or 0 for "
        "the input."
    )
    concat = analyze(spec_of(CONV, POOL, {"type": "Concatenate", "with": 1}))
    assert concat.problems[0].message.startswith("Concatenate needs both inputs 14×14 in size; its input is 14×14×16")
    joined = analyze(spec_of(CONV, CONV, {"type": "Concatenate", "with": 1}))
    assert joined.ok and joined.layers[2].output_shape == (28, 28, 32)


def test_a_merge_without_its_layer_or_with_a_bad_one_is_refused_plainly():
    assert (
        "Add needs a value for merge with — pick one of the layers above it"
        in analyze(spec_of(CONV, {"type": "Add"})).problems[0].text()
    )
    with pytest.raises(InvalidInput, match="merge with must be a layer number"):
        check_spec(spec_of(CONV, {"type": "Add", "with": "conv2d"}))
    with pytest.raises(InvalidInput, match="convolutions must be at most 3"):
        check_spec(spec_of({"type": "ResidualBlock", "filters": 8, "kernel_size": 3, "convs": 4}))


def test_the_merge_picker_lists_earlier_layers_whose_shapes_fit_nearest_first():
    spec = spec_of(CONV, {**CONV, "filters": 32}, POOL, {**CONV, "filters": 16}, {"type": "Add", "with": 1})
    sources = merge_sources(analyze(spec), 4, "Add")
    assert [s.number for s in sources] == [3, 2, 1, 0]  # layer 4 is the Add's own input: not offered
    assert [s.number for s in sources if s.fits] == []  # 14×14×16 is made nowhere above layer 4
    assert sources[-1].label == "The input · 28×28×1"
    assert sources[0].label == "Layer 3 · max_pooling2d (MaxPooling2D) · 14×14×32"
    projected = merge_sources(analyze(spec), 4, "Add", projection=True)
    assert [s.number for s in projected if s.fits] == [3, 2, 1, 0]  # a strided 1×1 convolution fits them all


def test_edits_keep_each_merge_on_its_layer():
    spec = spec_of(CONV, {**CONV, "filters": 32}, {**CONV, "filters": 16}, {"type": "Add", "with": 1})
    moved_down = insert_layer(spec, 0, "BatchNormalization")
    assert moved_down["layers"][4] == {"type": "Add", "with": 2}
    assert remove_layer(spec, 0)["layers"][2] == {"type": "Add", "with": 0}  # its layer gone: what fed it
    assert duplicate_layer(spec, 0)["layers"][4] == {"type": "Add", "with": 1}
    swapped = move_layer(spec, 3, -1)  # the Add above layer 3: still takes layer 1
    assert swapped["layers"][2] == {"type": "Add", "with": 1}
    added = insert_layer(spec, 4, "Add")  # a new merge takes the nearest earlier layer that fits
    assert added["layers"][4] == {"type": "Add", "with": 3, "projection": False}
    assert analyze(added).ok


def test_plain_stacks_keep_their_sequential_code_and_merges_get_the_functional_api():
    assert model_code(PRESETS["model1"].spec()).startswith("model = keras.Sequential([\n    keras.Input(")
    block = {"type": "ResidualBlock", "filters": 32, "kernel_size": 3}
    spec = spec_of(CONV, POOL, block, {**CONV, "filters": 32}, {"type": "Add", "with": 3})
    lines = model_code(spec).splitlines()
    assert lines[:3] == [
        "inputs = keras.Input(shape=(28, 28, 1))",
        "x = inputs",
        "x = layers.Conv2D(16, kernel_size=3, padding='same', activation='relu', name='conv2d')(x)",
    ]
    expected = [
        "# Residual block: 2 convolutions, then their input is added back through a 1×1 convolution (the shape "
        "changes)",
        "shortcut = x",
        "x = layers.Conv2D(32, kernel_size=3, padding='same', use_bias=False, name='residual_block_conv1')(x)",
        "x = layers.BatchNormalization(name='residual_block_bn1')(x)",
        "x = layers.Activation('relu', name='residual_block_act1')(x)",
        "x = layers.Conv2D(32, kernel_size=3, padding='same', use_bias=False, name='residual_block_conv2')(x)",
        "x = layers.BatchNormalization(name='residual_block_bn2')(x)",
        "shortcut = layers.Conv2D(32, kernel_size=1, padding='same', use_bias=False, "
        "name='residual_block_shortcut')(shortcut)",
        "shortcut = layers.BatchNormalization(name='residual_block_shortcut_bn')(shortcut)",
        "x = layers.Add(name='residual_block_add')([x, shortcut])",
        "x = layers.Activation('relu', name='residual_block')(x)",
        "layer3 = x  # an Add or Concatenate below takes it",
        "x = layers.Conv2D(32, kernel_size=3, padding='same', activation='relu', name='conv2d_1')(x)",
        "x = layers.Add(name='add')([x, layer3])",
    ]
    start = lines.index(expected[0])
    assert lines[start : start + len(expected)] == expected
    assert lines[-1] == 'model = keras.Model(inputs, x, name="cnn_playground_model")'
    compile(snippet(spec), "snippet.py", "exec")


def test_code_for_a_merge_that_does_not_fit_is_refused_with_the_problem():
    with pytest.raises(InvalidInput, match="Add needs both inputs 14×14×16; layer 1 gives 28×28×16"):
        model_code(spec_of(CONV, POOL, {"type": "Add", "with": 1}))


def test_a_share_link_carries_residual_blocks_and_merges():
    spec = PRESETS["resnet_small"].spec()
    spec["layers"].insert(5, {"type": "Add", "with": 4, "projection": True})
    model = {
        "dataset": "fashion_mnist",
        "preset": "resnet_small",
        "spec": spec,
        "hyperparameters": PRESETS["resnet_small"].app_hyperparameters.to_dict(),
    }
    assert decode(encode(model)) == model


def test_the_picture_draws_each_shortcut_as_an_arc():
    spec = spec_of(CONV, POOL, {"type": "ResidualBlock", "filters": 16, "kernel_size": 3}, {"type": "Add", "with": 1})
    diagram = build_diagram(spec)
    assert diagram.shortcuts == ["Max pool 2×2 → Residual 16 × 3×3", "Conv 16 × 3×3 → Add layer 1"]
    svg = diagram_svg(spec)
    assert svg.count('<path class="shortcut"') == 2 and svg.count(">shortcut</text>") == 2
    assert "Residual 16 × 3×3" in svg
    assert diagram_png(spec).startswith(b"\x89PNG")
    assert build_diagram(PRESETS["model1"].spec()).shortcuts == []  # a plain stack has none


def test_the_architecture_diff_shows_a_block_changed_and_one_added():
    before = PRESETS["resnet_small"].spec()
    after = PRESETS["resnet_small"].spec()
    after["layers"][3]["filters"] = 48
    after["layers"].insert(5, {"type": "ResidualBlock", "filters": 64, "kernel_size": 3})
    rows = diff_architectures(before, after)
    changed = [r for r in rows if r.status == CHANGED]
    assert changed[0].left.type == "ResidualBlock" and changed[0].changed_settings == ("filters: 32 → 48",)
    (added,) = [r for r in rows if r.status == ADDED]
    assert added.right.type == "ResidualBlock" and added.params_change == 2 * 3 * 3 * 64 * 64 + 2 * 4 * 64
    total = analyze(after).total_params - analyze(before).total_params
    assert summary(rows)["params_change"] == total


def test_experiments_vary_a_blocks_filters_and_add_or_remove_a_block():
    spec, hp = PRESETS["resnet_small"].spec(), PRESETS["resnet_small"].app_hyperparameters
    keys = {option.key for option in factor_options(spec, hp)}
    assert {"layer4.filters", "layer4", "add6"} <= keys
    assert "ResidualBlock" in next(o for o in factor_options(spec, hp) if o.key == "add6").choices
    wider, _ = apply_values(spec, hp, {"layer4.filters": 48})
    assert wider["layers"][3]["filters"] == 48 and analyze(wider).ok
    added, _ = apply_values(spec, hp, {parse_factor("add6=none,ResidualBlock", spec).key: "ResidualBlock"})
    assert added["layers"][5] == {
        "type": "ResidualBlock",
        "filters": 64,
        "kernel_size": 3,
        "convs": 2,
        "strides": 1,
        "activation": "relu",
    }
    assert analyze(added).ok
    fewer, _ = apply_values(spec, hp, {"layer3": "remove"})
    assert [layer["type"] for layer in fewer["layers"]].count("ResidualBlock") == 2 and analyze(fewer).ok


def test_experiments_keep_a_merge_on_its_layer_when_layers_are_added_above():
    spec = spec_of(CONV, {**CONV, "filters": 16}, {"type": "Add", "with": 1})
    variant, _ = apply_values(spec, Hyperparameters(), {"add1": "BatchNormalization", "layer2": "remove"})
    assert variant["layers"][2] == {"type": "Add", "with": 2}  # still the first convolution
    assert analyze(variant).ok


def test_the_model_card_names_each_block_its_shortcut_and_the_layer_it_adds_back(tmp_path):
    run = finished_run()
    run.results["class_names"] = ["a", "b"]
    run.spec = spec_of(
        CONV,
        POOL,
        {"type": "ResidualBlock", "filters": 16, "kernel_size": 3},
        {"type": "ResidualBlock", "filters": 32, "kernel_size": 3, "strides": 2},
        {**CONV, "filters": 32},
        {"type": "Add", "with": 4},
        {"type": "Concatenate", "with": 4},
        {"type": "Add", "with": 0, "projection": True},
    )
    assert analyze(run.spec).ok, analyze(run.spec).problems
    card = model_card(run, RunStore(tmp_path))
    lines = card.splitlines()
    start = lines.index(
        "- Skip connections: a shortcut carries an earlier output past the layers in between and adds it back "
        "(or joins it on), so those layers learn a change to it rather than all of it anew:"
    )
    assert lines[start + 1 : start + 6] == [
        "  - Layer 3 (`residual_block`) is a residual block: 2 convolutions of 16 filters 3×3, each followed by "
        "BatchNormalization. Its shortcut carries the block's input, the output of layer 2 (`max_pooling2d`), past "
        "them and adds it back to their result as it is.",
        "  - Layer 4 (`residual_block_1`) is a residual block: 2 convolutions of 32 filters 3×3 (the first with "
        "stride 2), each followed by BatchNormalization. Its shortcut carries the block's input, the output of "
        "layer 3 (`residual_block`), past them and adds it back to their result through a 1×1 convolution, since "
        "the block changes the shape.",
        "  - Layer 6 (`add`) adds the output of layer 4 (`residual_block_1`), carried forward by its shortcut, to "
        "the output of layer 5 (`conv2d_1`).",
        "  - Layer 7 (`concatenate`) joins the output of layer 4 (`residual_block_1`), carried forward by its "
        "shortcut, on to the output of layer 6 (`add`) as more channels: 7×7×64 together.",
        "  - Layer 8 (`add_1`) adds the input image, carried forward by its shortcut through a 1×1 convolution "
        "that gives it the same shape, to the output of layer 7 (`concatenate`).",
    ]
    assert "1 Add (an earlier layer's output added back: a skip connection)" not in card  # there are two
    assert "2 Add (an earlier layer's output added back: a skip connection)" in card
    rendered = MarkdownIt("commonmark").render(card)
    assert rendered.count("<li><code>") == 0 and "<ul>\n<li>Layer 3 (<code>residual_block</code>)" in rendered
    run.spec = PRESETS["model1"].spec()
    assert "Skip connections" not in model_card(run, RunStore(tmp_path))  # a plain stack has none
