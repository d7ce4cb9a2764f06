"""AppTest tests of what reaches a page from outside: links, someone else's address bar, big models."""

import base64
import zlib

from helpers import app_opened_with, open_page

from core.runs.record import Run
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

ADA = "a1" * 16  # another learner's id (a 128-bit secret, as the app makes them)
ADAS_SPEC = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Conv2D", "filters": 7, "kernel_size": 5, "activation": "relu"},
        {"type": "GlobalMaxPooling2D"},
        {"type": "Dense", "units": 5, "activation": "softmax"},
    ],
}


def adas_run() -> Run:
    """A finished run of Ada's in the server's store (as if she trained it in her browser)."""
    hp = Hyperparameters(epochs=3, batch_size=32, seed=7)
    run = Run(ADAS_SPEC, "shapes", hp, owner=ADA, name="Ada's secret run", params=1_000)
    run.finish("finished")
    RunStore().save(run)
    return run


def infos(at) -> list[str]:
    return [i.value for i in at.info]


def test_a_link_of_60000_nested_brackets_opens_the_default_model_with_a_plain_message():
    token = base64.urlsafe_b64encode(zlib.compress(b"[" * 60_000, 9)).decode().rstrip("=")
    at = app_opened_with(s=token)
    assert any("nests brackets more than 8 deep" in text and "default model is loaded" in text for text in infos(at))
    assert "s" not in at.query_params


def test_an_old_u_parameter_never_makes_you_someone_else():
    run = adas_run()
    at = app_opened_with(u=ADA)
    assert at.session_state["_user_id"] != ADA and len(at.session_state["_user_id"]) == 32
    assert "u" not in at.query_params  # the id is never put in (or left in) the address
    open_page(at, "results")
    assert run.id not in " ".join(m.value for m in at.markdown)


def test_someone_elses_address_bar_gives_their_model_but_not_their_run():
    run = adas_run()
    at = app_opened_with(run=run.id)
    # Ada's model and settings are in the builder...
    assert session_state_spec(at) == ADAS_SPEC
    assert any("someone else's run: its model and training settings are loaded" in text for text in infos(at))
    assert "run" not in at.query_params
    open_page(at, "train")
    assert at.number_input(key="hp_epochs").value == 3
    # ...but not her run: nothing followed, nothing listed, no results.
    text = " ".join(m.value for m in [*at.markdown, *at.caption, *at.header])
    assert run.id not in text and "Ada's secret run" not in text
    open_page(at, "results")
    assert run.id not in " ".join(m.value for m in [*at.markdown, *at.caption, *at.header])


def session_state_spec(at) -> dict:
    return at.session_state["playground"].spec


def test_build_shows_the_training_memory_beside_the_parameter_count():
    at = app_opened_with()
    line = next(m.value for m in at.markdown if "Total params" in m.value)
    assert line.startswith("**Total params: 108,618** · **Training memory: about ")
    assert line.endswith(f"at batch size {PRESETS['model1'].app_hyperparameters.batch_size}")


def test_a_model_over_the_memory_budget_is_a_problem_on_build(monkeypatch):
    monkeypatch.setenv("CNN_PLAYGROUND_MEMORY_BUDGET_MB", "5")
    at = app_opened_with()
    problems = [m.value for m in at.markdown if "memory" in m.value and m.value.startswith("- ")]
    assert problems and "more than the 5 MB each training may use; layer 1 (Conv2D, output 26×26×16)" in problems[0]
    open_page(at, "train")
    assert at.button(key="train").disabled
