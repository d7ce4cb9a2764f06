"""Edits of a spec (core.model.edit): whatever a learner adds, removes, moves or duplicates, every Add and
Concatenate keeps taking the layer it took, the spec stays plain JSON, and the spec edited is left as it was.
(tests/unit/test_residual.py has the worked examples of each edit.)"""

import copy
import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.model.edit import (
    duplicate_layer,
    fit_to_data,
    insert_layer,
    move_layer,
    new_layer,
    remove_layer,
    set_layer_arg,
)
from core.model.spec import MERGE_TYPES, analyze
from core.training.validation import check_spec

ROOT = Path(__file__).resolve().parents[2]
CONV = {"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"}
START = {
    "input_shape": [12, 12, 1],
    "layers": [
        CONV,
        {**CONV, "filters": 8},
        {"type": "Add", "with": 1},
        {"type": "BatchNormalization"},
        {"type": "Concatenate", "with": 3},
        {"type": "ResidualBlock", "filters": 16, "kernel_size": 3},
        {"type": "Add", "with": 0, "projection": True},
        {"type": "GlobalAveragePooling2D"},
        {"type": "Dense", "units": 4, "activation": "softmax"},
    ],
}
# A merge moved above its layer (Build says so at the merge): edits still keep it on that layer.
LOOKING_AHEAD = {**START, "layers": [CONV, {"type": "Add", "with": 3}, CONV, *START["layers"][1:]]}
INSERTED = ["Conv2D", "BatchNormalization", "Dropout", "MaxPooling2D", "Add", "Concatenate", "ResidualBlock"]
TAG = "_tag"  # the test's own name for each layer, to follow it through the edits (never analysed)

edits = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from(INSERTED)),
        st.tuples(st.just("remove"), st.floats(0, 1)),
        st.tuples(st.just("move"), st.floats(0, 1), st.sampled_from([-1, 1])),
        st.tuples(st.just("duplicate"), st.floats(0, 1)),
    ),
    max_size=12,
)


def _untagged(spec: dict) -> dict:
    return {**spec, "layers": [{k: v for k, v in layer.items() if k != TAG} for layer in spec["layers"]]}


def _tag_of(spec: dict, number: int) -> str:
    return "input" if number == 0 else spec["layers"][number - 1][TAG]


@settings(max_examples=200, deadline=5_000, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([START, LOOKING_AHEAD]), edits)
def test_every_merge_keeps_its_layer_through_any_edits(start, steps):
    """The test keeps its own account: which layer (by tag) each merge takes, and when that layer is
    removed, the layer that fed it (the one above it, or the input). The spec's numbers must say the same."""
    spec = json.loads(json.dumps(start))  # every layer its own dict
    for i, layer in enumerate(spec["layers"]):
        layer[TAG] = f"start{i}"
    takes = {layer[TAG]: _tag_of(spec, layer["with"]) for layer in spec["layers"] if layer["type"] in MERGE_TYPES}
    made = 0
    for step in steps:
        count, before = len(spec["layers"]), copy.deepcopy(spec)
        if step[0] == "insert":
            position = round(step[1] * count)
            spec = insert_layer(spec, position, step[2])
            made += 1
            spec["layers"][position][TAG] = f"new{made}"
            if step[2] in MERGE_TYPES:  # a new merge takes an earlier layer: the nearest that fits
                assert spec["layers"][position]["with"] <= position
                takes[f"new{made}"] = _tag_of(spec, spec["layers"][position]["with"])
        elif not count:
            continue
        elif step[0] == "remove":
            index = min(int(step[1] * count), count - 1)
            gone = spec["layers"][index][TAG]
            fed_by = _tag_of(spec, index)  # what fed the removed layer
            spec = remove_layer(spec, index)
            takes.pop(gone, None)
            takes = {merge: fed_by if source == gone else source for merge, source in takes.items()}
        elif step[0] == "move":
            index = min(int(step[1] * count), count - 1)
            spec = move_layer(spec, index, step[2])
        else:
            index = min(int(step[1] * count), count - 1)
            spec = duplicate_layer(spec, index)
            made += 1
            copied = spec["layers"][index + 1]
            if copied["type"] in MERGE_TYPES:  # the copy takes what the original takes
                takes[f"new{made}"] = takes[copied[TAG]]
            copied[TAG] = f"new{made}"
        assert before == json.loads(json.dumps(before))  # the edited spec was not changed: a new one came back
        assert json.loads(json.dumps(spec)) == spec  # plain JSON, as share links, drafts and runs keep it
        merges = {layer[TAG]: layer for layer in spec["layers"] if layer["type"] in MERGE_TYPES}
        assert set(merges) == set(takes)
        problems = analyze(_untagged(spec)).problems
        for position, layer in enumerate(spec["layers"]):
            if layer["type"] not in MERGE_TYPES:
                continue
            number = layer["with"]
            assert isinstance(number, int) and 0 <= number <= len(spec["layers"])
            if number <= position:  # an earlier layer: the very one it took
                assert _tag_of(spec, number) == takes[layer[TAG]]
            else:  # only a move puts a merge above its layer, and then Build says so at the merge
                first = min(p.layer for p in problems if p.layer is not None)
                if first == position:  # (unless a layer above it has a problem: shapes stop there)
                    assert any(f"takes layer {number}, which is not above it" in p.message for p in problems)
                assert first <= position
                assert spec["layers"][number - 1][TAG] == takes[layer[TAG]]


@settings(max_examples=100, deadline=5_000, suppress_health_check=[HealthCheck.too_slow])
@given(edits.filter(lambda steps: all(s[0] != "move" for s in steps)))
def test_without_moves_every_merge_names_an_earlier_layer_and_the_spec_passes_the_door(steps):
    spec = copy.deepcopy(START)
    for step in steps:
        count = len(spec["layers"])
        if step[0] == "insert":
            spec = insert_layer(spec, round(step[1] * count), step[2])
        elif count and step[0] == "remove":
            spec = remove_layer(spec, min(int(step[1] * count), count - 1))
        elif count:
            spec = duplicate_layer(spec, min(int(step[1] * count), count - 1))
    for position, layer in enumerate(spec["layers"]):
        if layer["type"] in MERGE_TYPES:
            assert 0 <= layer["with"] <= position, spec
    assert check_spec(json.loads(json.dumps(spec))) == spec  # the door for specs from outside takes it back


def test_a_layer_setting_changes_in_place_and_none_means_the_default():
    spec = {"input_shape": [8, 8, 1], "layers": [{"type": "MaxPooling2D", "pool_size": 2, "strides": 1}]}
    set_layer_arg(spec, 0, "pool_size", 3)
    set_layer_arg(spec, 0, "strides", None)  # Keras' default: the pool size
    set_layer_arg(spec, 0, "padding", None)  # not set: nothing to remove
    assert spec["layers"] == [{"type": "MaxPooling2D", "pool_size": 3}]


def test_a_spec_fits_a_data_set_its_input_and_its_output_units():
    spec = {"input_shape": [28, 28, 1], "layers": [{"type": "Flatten"}, new_layer("Dense")]}
    fitted = fit_to_data(spec, (32, 32, 3), 7)
    assert fitted == {"input_shape": [32, 32, 3], "layers": [{"type": "Flatten"}, {**new_layer("Dense"), "units": 7}]}
    assert spec["input_shape"] == [28, 28, 1]  # the spec given is left as it was
    no_dense = {"input_shape": [4], "layers": [{"type": "Dropout", "rate": 0.1}]}
    assert fit_to_data(no_dense, (6,), 1)["layers"] == no_dense["layers"]  # only a Dense output is resized


def test_the_edits_import_neither_keras_nor_streamlit():
    code = "import sys, core.model.edit; print(' '.join(m for m in ('keras', 'tensorflow', 'streamlit') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.split() == []
