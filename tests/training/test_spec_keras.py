"""The Keras models built from specs agree with the analysis: layer names, shapes, parameter counts."""

import keras
import pytest
from helpers import EXTRA_SPECS, MIXED_LAYERS_SPEC

from core.model.keras_build import build_model
from core.model.spec import analyze, is_graph, layer_names
from core.training.codegen import model_code
from core.training.presets import PRESETS

SEED_PARAMS = {"model1": 108_618, "model2": 75_594, "model3": 142_538}


@pytest.mark.parametrize("name, params", SEED_PARAMS.items())
def test_keras_builds_the_notebook_presets_with_the_seed_parameter_counts(name, params):
    assert build_model(PRESETS[name].spec()).count_params() == params


@pytest.mark.parametrize("name", [*PRESETS, *EXTRA_SPECS])
def test_analyze_matches_what_keras_builds(name):
    spec = PRESETS[name].spec() if name in PRESETS else EXTRA_SPECS[name]
    analysis = analyze(spec)
    assert analysis.ok, [p.text() for p in analysis.problems]
    model = build_model(spec)
    # A residual block (or a merge) is several Keras layers: its inner layers, in a functional model.
    expected = [(p.name, p.output_shape, p.params) for r in analysis.layers for p in (r.inner or [r])]
    built = [
        (layer.name, tuple(layer.output.shape[1:]), layer.count_params())
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    assert sorted(built) == sorted(expected)
    if not is_graph(spec):
        assert built == expected  # a plain stack: Sequential, in the spec's order
    assert analysis.total_params == model.count_params()


def test_preset_resized_to_other_data_keeps_keras_in_agreement():
    spec = PRESETS["model1"].spec((32, 32, 3), 5)
    assert spec["input_shape"] == [32, 32, 3] and spec["layers"][-1]["units"] == 5
    assert analyze(spec, (32, 32, 3), 5).total_params == build_model(spec).count_params()
    # resizing must not change the preset itself
    assert PRESETS["model1"].layers[-1]["units"] == 10


def test_model_code_builds_the_same_model():
    spec = PRESETS["model2"].spec()
    namespace = {"keras": keras, "layers": keras.layers}
    exec(model_code(spec), namespace)
    assert namespace["model"].count_params() == 75_594
    assert [l.name for l in namespace["model"].layers] == layer_names(spec)


def test_layer_names_are_the_names_keras_gives():
    spec = MIXED_LAYERS_SPEC
    # The same names Keras gives unnamed layers in a fresh session: its name counters reset. (Without Python's
    # garbage collection, which clear_session runs by default: in a worker that trained other modules' models
    # first, that took 8-20 s and has nothing to do with the names.)
    keras.backend.clear_session(free_memory=False)
    model = keras.Sequential(
        [keras.Input((28, 28, 1))]
        + [getattr(keras.layers, l["type"])(**{k: v for k, v in l.items() if k != "type"}) for l in spec["layers"]]
    )
    assert [layer.name for layer in model.layers] == layer_names(spec)
