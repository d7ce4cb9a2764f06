"""Inside the network for a trained residual model: its feature maps, Grad-CAM and how an Add's number was
computed (the main path plus the shortcut), equal to the network's own value; an Add and a Concatenate of
flat vectors too."""

import pytest
from helpers import APP, open_page, rerun, restart_app_server
from streamlit.testing.v1 import AppTest

from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters

OWNER = "0123456789abcdef"
SPEC = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "ResidualBlock", "filters": 8, "kernel_size": 3},
        {"type": "GlobalAveragePooling2D"},
        {"type": "Dense", "units": 8, "activation": "relu"},
        {"type": "Add", "with": 4},  # two flat vectors of 8: the Dense layer's and the pooling's
        {"type": "Concatenate", "with": 4},  # and the pooling's 8 joined on: 16
        {"type": "Dense", "units": 5, "activation": "softmax"},
    ],
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    home = tmp_path_factory.mktemp("residual_inside_home")
    hp = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=100)
    run = RunManager(RunStore(home), max_concurrent=1).start(SPEC, "shapes", hp, owner=OWNER, name="resnet")
    assert run.wait(120) and run.status == "finished", run.message
    return home, run


@pytest.fixture
def app(monkeypatch, finished):
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(finished[0]))
    restart_app_server()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["_user_id"] = OWNER  # as if its browser sent the owner's cookie
    return rerun(at)


def test_inside_explains_the_add_of_a_residual_block(app, finished):
    open_page(app, "inside")
    app.selectbox(key="inside_run").select(finished[1].id)
    rerun(app)
    assert not app.exception
    layer = app.selectbox(key="arith_layer")
    assert any(o.startswith("residual_block_add (add") for o in layer.options), layer.options
    layer.select("residual_block_add")
    rerun(app)
    assert not app.exception
    text = " ".join(m.value for m in app.markdown)
    assert "the main path (residual_block_bn2)" in text and "the shortcut (max_pooling2d)" in text
    values = {m.label: m.value for m in app.metric}
    assert values["Worked out here"] == values["The network's value"]


def test_inside_explains_an_add_and_a_concatenate_of_flat_vectors(app, finished):
    open_page(app, "inside")
    app.selectbox(key="inside_run").select(finished[1].id)
    rerun(app)
    app.selectbox(key="arith_layer").select("add")
    rerun(app)
    assert not app.exception and not app.info, [i.value for i in app.info]
    app.number_input(key="arith_unit_add").set_value(3)
    rerun(app)
    text = " ".join(m.value for m in app.markdown)
    assert "the main path (dense), value 3" in text and "the shortcut (global_average_pooling2d), value 3" in text
    values = {m.label: m.value for m in app.metric}
    assert values["Worked out here"] == values["The network's value"]
    app.selectbox(key="arith_layer").select("concatenate")
    rerun(app)
    assert not app.exception and not app.info, [i.value for i in app.info]
    app.number_input(key="arith_unit_concatenate").set_value(11)
    rerun(app)
    text = " ".join(m.value for m in app.markdown)
    assert "values 0 to 7 are the main path's (add); values 8 to 15 are the shortcut's" in text
    assert "Value 11 is the shortcut's value 3, copied as it is" in text
    values = {m.label: m.value for m in app.metric}
    assert values["Worked out here"] == values["The network's value"]
