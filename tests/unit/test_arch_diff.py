"""Two models' layers aligned: insertions, deletions and changed settings, with shape and parameter changes."""

import copy

from core.insight.arch_diff import ADDED, CHANGED, REMOVED, SAME, diff_architectures, summary
from core.model import edit
from core.model.spec import analyze
from core.training.presets import PRESETS


def statuses(rows):
    return [(r.status, r.left.name if r.left else None, r.right.name if r.right else None) for r in rows]


def test_inserted_layer_is_one_added_row_and_the_rest_still_pair():
    left = PRESETS["model1"].spec()
    right = copy.deepcopy(left)
    right["layers"].insert(1, {"type": "Dropout", "rate": 0.25})
    rows = diff_architectures(left, right)
    assert [r.status for r in rows] == [SAME, ADDED, SAME, SAME, SAME, SAME, SAME, SAME]
    assert rows[1].right.type == "Dropout" and rows[1].left is None
    assert summary(rows)["params_change"] == 0


def test_removed_layers_and_the_parameters_they_take_away():
    left = PRESETS["model1"].spec()
    right = copy.deepcopy(left)
    del right["layers"][2:4]  # the second conv and its pooling
    rows = diff_architectures(left, right)
    assert statuses(rows) == [
        (SAME, "conv2d", "conv2d"),
        (SAME, "max_pooling2d", "max_pooling2d"),
        (REMOVED, "conv2d_1", None),
        (REMOVED, "max_pooling2d_1", None),
        (SAME, "flatten", "flatten"),
        (SAME, "dense", "dense"),
        (SAME, "dense_1", "dense_1"),
    ]
    total = analyze(right).total_params - analyze(left).total_params
    assert summary(rows)["params_change"] == total
    flatten = rows[4]
    assert flatten.shape_changed and flatten.left.output_shape == (800,) and flatten.right.output_shape == (2704,)


def test_changed_settings_are_listed_with_old_and_new_values():
    rows = diff_architectures(PRESETS["model1"].spec(), PRESETS["model2"].spec())
    first = rows[0]
    assert first.status == CHANGED and first.changed_settings == ("kernel_size: 3×3 → 5×5",)
    assert first.params_change == (5 * 5 - 3 * 3) * 16
    assert [r.status for r in rows].count(ADDED) == 1  # model 2's Dropout
    assert summary(rows) == {
        "added": 1,
        "removed": 0,
        "changed": 2,
        "same": 5,
        "params_change": analyze(PRESETS["model2"].spec()).total_params
        - analyze(PRESETS["model1"].spec()).total_params,
    }


def test_default_left_out_equals_default_written():
    left = {"input_shape": [28, 28, 1], "layers": [{"type": "Conv2D", "filters": 4, "kernel_size": 3}]}
    right = {
        "input_shape": [28, 28, 1],
        "layers": [{"type": "Conv2D", "filters": 4, "kernel_size": [3, 3], "strides": 1}],
    }
    assert [r.status for r in diff_architectures(left, right)] == [SAME]


def test_replaced_layer_is_a_removal_and_an_addition():
    left = {"input_shape": [8, 8, 1], "layers": [{"type": "MaxPooling2D"}, {"type": "Flatten"}]}
    right = {"input_shape": [8, 8, 1], "layers": [{"type": "AveragePooling2D"}, {"type": "Flatten"}]}
    assert [r.status for r in diff_architectures(left, right)] == [REMOVED, ADDED, SAME]


# --- skip connections: a merge is compared by what it is wired to, not by the number it names ----------

CONV = {"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"}
MERGED = {
    "input_shape": [16, 16, 1],
    "layers": [
        CONV,
        {**CONV, "filters": 8},
        {"type": "Add", "with": 1},
        {"type": "Concatenate", "with": 2},
        {"type": "GlobalAveragePooling2D"},
        {"type": "Dense", "units": 3, "activation": "softmax"},
    ],
}


def test_a_layer_inserted_above_a_merge_and_its_layer_leaves_the_merge_the_same():
    right = edit.insert_layer(MERGED, 0, "BatchNormalization")
    assert right["layers"][3] == {"type": "Add", "with": 2} and right["layers"][4]["with"] == 3  # renumbered
    rows = diff_architectures(MERGED, right)
    assert [r.status for r in rows] == [ADDED, SAME, SAME, SAME, SAME, SAME, SAME]
    assert summary(rows)["changed"] == 0


def test_a_layer_inserted_inside_the_shortcut_changes_only_what_its_shapes_change():
    right = edit.insert_layer(MERGED, 1, "Dropout")  # between the Add's earlier layer and the Add
    rows = diff_architectures(MERGED, right)
    assert statuses(rows)[:4] == [
        (SAME, "conv2d", "conv2d"),
        (ADDED, None, "dropout"),
        (SAME, "conv2d_1", "conv2d_1"),
        (SAME, "add", "add"),
    ]
    assert summary(rows)["changed"] == 0


def test_a_merge_wired_to_another_layer_is_changed_and_says_which_layer_each_takes():
    right = copy.deepcopy(MERGED)
    right["layers"][2]["with"] = 0  # the input instead of the first convolution
    rows = diff_architectures(MERGED, right)
    (changed,) = [r for r in rows if r.status == CHANGED]
    assert changed.left.name == "add" and changed.changed_settings == ("merges with: layer 1 (conv2d) → the input",)


def test_a_merge_rewired_after_an_insertion_names_each_sides_own_layers():
    right = edit.insert_layer(MERGED, 0, "BatchNormalization")
    right["layers"][4]["with"] = 2  # the Concatenate: from the second convolution to the first
    rows = diff_architectures(MERGED, right)
    (changed,) = [r for r in rows if r.status == CHANGED]
    assert changed.right.type == "Concatenate"
    assert changed.changed_settings == ("merges with: layer 2 (conv2d_1) → layer 2 (conv2d)",)
    assert changed.right.settings == changed.left.settings == {}  # the number is wiring, not a setting


def test_a_merge_whose_layer_was_removed_takes_another_one_and_is_changed():
    right = edit.remove_layer(MERGED, 0)  # the Add took it: now the input
    rows = diff_architectures(MERGED, right)
    add = next(r for r in rows if r.left is not None and r.left.name == "add")
    assert add.status == CHANGED and add.changed_settings == ("merges with: layer 1 (conv2d) → the input",)
