"""Every way a learner can take inside a challenge keeps its rules: a preset, a clone, a share link, a
data set switch, training more; refusals name what to change; a hidden test set never reaches a
learner's page and scores the leaderboard. Fast: the shapes data set, a few hundred images, 1 epoch."""

import json

import pytest
from helpers import app_opened_with, make_challenge, rerun
from streamlit.testing.v1 import AppTest

import core.runs.manager
from core.classroom.challenges import create_challenge
from core.data.datasets import load_dataset
from core.runs.challenges import HIDDEN_SCORE, Challenge
from core.share import encode
from core.training.hyperparams import Hyperparameters
from dashboard import session

SMALL = {
    "input_shape": [28, 28, 1],
    "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}],
}


def challenge_with(**changes) -> Challenge:
    """The shared saved Shapes challenge, with more locks, one epoch per run and no hidden settings."""
    hyperparameters = Hyperparameters(optimizer="adam", learning_rate=0.001, epochs=1, batch_size=32, limit_train=300)
    locked = ("optimizer", "learning_rate", "batch_size")
    return make_challenge(**{"hyperparameters": hyperparameters, "locked": locked, "hidden": (), **changes})


def on_page(at, page: str) -> AppTest:
    at.switch_page(page)
    rerun(at)
    assert not at.exception, at.exception
    return at


def train_and_wait(at):
    on_page(at, "views/train.py")
    assert not at.button(key="train").disabled, [w.value for w in at.warning]
    at.button(key="train").click()
    rerun(at)
    run_id = at.session_state["playground"].run_id
    owner = session.manager().store.load(run_id).owner  # the learner's (anonymous) id
    run = session.manager().get(run_id, owner)
    assert run.wait(60) and run.status == "finished", run.message
    rerun(at)
    return run


def test_load_preset_keeps_the_locked_settings_and_the_learner_can_train():
    challenge = challenge_with(preset="model1", max_params=200_000)
    at = app_opened_with(challenge=challenge.code)
    at.selectbox(key="preset_choice").set_value("model3")  # its own settings: lr 0.002, batch 128, 8 epochs
    rerun(at)
    at.button(key="load_preset").click()
    rerun(at)
    hp = at.session_state["playground"].hyperparameters
    assert (hp.optimizer, hp.learning_rate, hp.batch_size) == ("adam", 0.001, 32)  # the teacher's, kept
    assert hp.epochs <= 2 and hp.limit_train == 300
    on_page(at, "views/train.py")
    assert at.number_input(key="hp_learning_rate").value == 0.001 and at.number_input(key="hp_learning_rate").disabled
    assert not at.button(key="train").disabled


def test_a_share_link_into_a_challenge_keeps_the_shared_model_under_the_challenges_rules():
    challenge = challenge_with()
    shared = encode(
        {
            "dataset": "shapes",
            "preset": "blank",
            "spec": {**SMALL, "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 7}, SMALL["layers"][1]]},
            "hyperparameters": Hyperparameters(optimizer="sgd", learning_rate=0.5, epochs=9, limit_test=1).to_dict(),
        }
    )
    at = app_opened_with(challenge=challenge.code, s=shared)
    pg = at.session_state["playground"]
    assert [layer.get("units") for layer in pg.spec["layers"]] == [None, 7, 5]  # the shared model stays
    hp = pg.hyperparameters
    assert (hp.optimizer, hp.learning_rate, hp.epochs, hp.limit_test, hp.limit_train) == ("adam", 0.001, 2, None, 300)


def test_clone_and_train_more_follow_the_teachers_latest_rules():
    challenge = challenge_with()
    at = app_opened_with(challenge=challenge.code)
    run = train_and_wait(at)
    # the teacher changes the rules meanwhile: another locked learning rate
    session.challenges().update(
        challenge.code,
        hyperparameters=Hyperparameters.from_dict({**challenge.hyperparameters.to_dict(), "learning_rate": 0.003}),
    )
    on_page(at, "views/train.py")
    assert at.number_input(key="more_epochs").max == 1  # 1 of the 2 epochs allowed is left
    on_page(at, "views/results.py")
    at.button(key="clone_run").click()
    rerun(at)
    hp = at.session_state["playground"].hyperparameters
    assert hp.learning_rate == 0.003 and at.session_state["playground"].parent_id == run.id
    # training more is capped by core too, whatever the page offers
    with pytest.raises(core.runs.manager.RunRejected, match="set More epochs to at most 1"):
        session.manager().continue_run(run.id, 2, run.owner)


def test_a_closed_challenge_refuses_with_a_reason_beside_train():
    challenge = challenge_with()
    at = app_opened_with(challenge=challenge.code)
    session.challenges().update(challenge.code, closed=True)
    on_page(at, "views/train.py")
    at.button(key="train").click()
    rerun(at)
    assert any("closed this challenge" in e.value for e in at.error)


def test_the_quick_experiment_limit_does_not_carry_over_to_a_smaller_data_set():
    at = app_opened_with()
    on_page(at, "views/train.py")
    at.number_input(key="hp_limit_train").set_value(6000)
    rerun(at)
    assert at.session_state["playground"].hyperparameters.limit_train == 6000
    on_page(at, "views/data.py")
    at.selectbox(key="dataset_choice").set_value("shapes")  # 2,000 training images
    rerun(at)
    assert at.session_state["playground"].hyperparameters.limit_train is None
    on_page(at, "views/train.py")
    assert at.number_input(key="hp_limit_train").value == 0


def test_hidden_test_set_never_reaches_a_learner_and_scores_the_leaderboard():
    home = session.manager().store.home
    challenge = create_challenge(
        session.challenges(),
        teacher="the-teacher",
        title="Hidden shapes",
        dataset="shapes",
        preset="blank",
        max_params=20_000,
        max_epochs=1,
        hyperparameters=Hyperparameters(epochs=1, batch_size=32, limit_train=300),
        hidden_test=150,
    )
    from core.runs.challenges import load_hidden_test

    hidden_x, hidden_y = load_hidden_test(home, challenge.code)
    at = app_opened_with(challenge=challenge.code)
    at.text_input(key="learner_name").set_value("Ada")
    rerun(at)
    on_page(at, "views/data.py")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Test images"] == "350"  # 500 − 150 kept back
    learners_data = load_dataset(challenge.dataset)
    assert not {bytes(x) for x in hidden_x} & {bytes(x) for x in learners_data.x_test}
    run = train_and_wait(at)
    assert run.results["test_examples"] == 350
    on_page(at, "views/results.py")
    page_text = json.dumps([str(e.value) for e in at.markdown] + [str(e.value) for e in at.caption])
    assert HIDDEN_SCORE not in page_text and "150" not in page_text
    board = app_opened_with()
    board.query_params["board"] = challenge.code
    on_page(board, "views/projector.py")
    html = " ".join(m.value for m in board.markdown)
    assert f"{100 * run.results[HIDDEN_SCORE]:.1f} %" in html and "hidden test set" in html
