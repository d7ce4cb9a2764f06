"""Issue 19 on Results: a run whose loss exploded is coached as such (never "healthy"), and a TFLite step that
fails shows a plain message in the phone section instead of a traceback."""

import pytest
from helpers import APP, open_page, rerun, restart_app_server
from streamlit.testing.v1 import AppTest

from core.model import tflite
from core.runs.manager import RunManager
from core.runs.record import Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

OWNER = "0123456789abcdef"


@pytest.fixture(scope="module")
def exploded(tmp_path_factory):
    """Model 1 trained with SGD at learning rate 10 on 2,000 Fashion-MNIST images for 1 epoch, owned by OWNER."""
    home = tmp_path_factory.mktemp("exploded_app_home")
    manager = RunManager(RunStore(home), max_concurrent=1)
    hp = Hyperparameters(
        optimizer="sgd", learning_rate=10.0, epochs=1, batch_size=32, limit_train=2000, limit_test=500, seed=1
    )
    run = manager.start(PRESETS["model1"].spec(num_classes=10), "fashion_mnist", hp, owner=OWNER, name="too fast")
    assert run.wait(300) and run.status == Status.FINISHED, run.message
    return home, run


@pytest.fixture
def results(monkeypatch, exploded):
    home, run = exploded
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(home))
    restart_app_server()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["_user_id"] = OWNER  # as if its browser sent the owner's cookie (AppTest has none)
    rerun(at)
    open_page(at, "results")
    at.selectbox(key="results_run").select(run.id)
    return rerun(at)


def test_results_coach_the_exploded_loss_and_never_call_it_healthy(results):
    warnings = [w.value for w in results.warning if "The loss exploded" in w.value]
    assert len(warnings) == 1
    assert "in batch 3 (epoch 1)" in warnings[0] and "try 0.01 for SGD" in warnings[0]
    assert not [s.value for s in results.success if "healthy" in s.value.lower()]


def test_results_show_a_plain_message_when_the_tflite_interpreter_fails(results, monkeypatch):
    def failing_interpreter(content, with_xnnpack):
        raise RuntimeError("failed to create XNNPACK runtimeNode number 13 (TfLiteXNNPackDelegate) failed to prepare.")

    monkeypatch.setattr(tflite, "_interpreter", failing_interpreter)
    results.button(key="make_tflite").click()
    rerun(results)  # raises nothing: no traceback on the page
    messages = [i.value for i in results.info if "TensorFlow Lite interpreter" in i.value]
    assert messages and messages[0].startswith("The TensorFlow Lite interpreter could not run the float32 file")
    assert "lower the learning rate and train again" in messages[0] and "XNNPACK" not in messages[0]
    assert not [d for d in results.dataframe if "File" in d.value.columns]  # no table of files that are not there
