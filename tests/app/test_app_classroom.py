"""AppTest tests of classroom mode: the teacher page, a learner's restricted builder, the leaderboard."""

import json

import pytest
from helpers import APP, app_run, rerun
from streamlit.testing.v1 import AppTest

import core.runs.manager
from core.classroom import Challenge, new_code
from core.training.hyperparams import Hyperparameters
from dashboard import session


def fresh_app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(autouse=True)
def fresh_manager():
    core.runs.manager._default = None
    session.manager.clear()


def make_challenge(**changes) -> Challenge:
    values = dict(
        code=new_code(),
        title="Shapes sprint",
        dataset="shapes",
        preset="blank",
        max_params=20_000,
        max_epochs=2,
        hyperparameters=Hyperparameters(
            optimizer="adam", learning_rate=0.001, epochs=2, batch_size=32, limit_train=300, limit_test=60
        ),
        locked=("optimizer",),
        hidden=("seed",),
    )
    values.update(changes)
    return session.challenges().save(Challenge(**values))


def test_teacher_page_is_off_without_a_configured_password(monkeypatch):
    monkeypatch.delenv("CNN_PLAYGROUND_TEACHER_PASSWORD", raising=False)
    at = fresh_app()
    at.switch_page("views/teacher.py")
    rerun(at)
    assert any("Classroom mode is off" in i.value for i in at.info)


def test_teacher_logs_in_and_creates_a_challenge_with_a_link(monkeypatch):
    monkeypatch.setenv("CNN_PLAYGROUND_TEACHER_PASSWORD", "s3cret")
    at = fresh_app()
    at.switch_page("views/teacher.py")
    rerun(at)
    at.text_input(key="teacher_password").set_value("wrong")
    at.button[0].click()
    rerun(at)
    assert any("password is not right" in e.value for e in at.error)
    at.text_input(key="teacher_password").set_value("s3cret")
    at.button[0].click()
    rerun(at)
    assert at.session_state["is_teacher"]
    at.text_input[0].set_value("Tiny models")
    at.button(key="FormSubmitter:new_challenge-Create challenge").click()
    rerun(at)
    assert any("Challenge created" in s.value for s in at.success)
    code = at.session_state["teacher_challenge"]
    assert any(f"?challenge={code}" in c.value for c in at.code)
    assert session.challenges().get(code).title == "Tiny models"


def test_learner_gets_the_restricted_builder_and_reaches_the_leaderboard():
    challenge = make_challenge()
    at = fresh_app(challenge=challenge.code)
    banner = " ".join(m.value for m in at.markdown)
    assert "Challenge: Shapes sprint" in banner and "at most 20,000 parameters and 2 epochs" in banner
    at.text_input(key="learner_name").set_value("Ada")
    rerun(at)
    at.switch_page("views/data.py")
    rerun(at)
    assert at.selectbox(key="dataset_choice").disabled
    at.switch_page("views/train.py")
    rerun(at)
    assert at.selectbox(key="hp_optimizer").disabled  # locked
    assert not [w for w in at.number_input if w.key == "hp_seed"]  # hidden
    assert at.number_input(key="hp_epochs").max == 2  # capped
    at.button(key="train").click()
    rerun(at)
    run_id = at.session_state["playground"].run_id
    run = app_run(run_id)
    assert run.wait(60) and run.status == "finished", run.message
    assert (run.challenge, run.learner) == (challenge.code, "Ada")

    board = fresh_app(board=challenge.code)
    board.switch_page("views/projector.py")
    board.query_params["board"] = challenge.code
    rerun(board)
    html = " ".join(m.value for m in board.markdown)
    assert "Shapes sprint" in html and "Ada" in html and "Leaderboard" in html
    race = json.loads(board.get("plotly_chart")[0].proto.spec)  # the live race: Ada's curve, starred
    assert race["data"][0]["name"].startswith("★ Ada")


def test_a_model_over_the_challenge_limit_cannot_train():
    challenge = make_challenge(preset="model1")  # model1 for shapes has 107,973 params > 20,000
    at = fresh_app(challenge=challenge.code)
    assert any("more than the limit of 20,000" in m.value for m in at.markdown)
    at.switch_page("views/train.py")
    rerun(at)
    assert at.button(key="train").disabled


def test_a_mistyped_challenge_link_says_so_plainly():
    at = fresh_app(challenge="deadbeef")
    assert any("challenge link is not valid" in i.value for i in at.info)
