"""AppTest tests of classroom mode: the teacher page, a learner's restricted builder, the leaderboard."""

import json
import time

import pytest
from helpers import app_opened_with, app_run, app_trains_nothing, make_challenge, rerun, wait_for
from streamlit.testing.v1 import AppTest

import core.runs.manager
from core.classroom.login import TOKEN_SECONDS, make_teacher_token, server_secret
from dashboard import session
from dashboard.session import teacher as teacher_login


@pytest.fixture(autouse=True)
def fresh_login_throttle():
    teacher_login._throttle.clear()  # wrong passwords of earlier tests do not slow this one


def test_teacher_page_is_off_without_a_configured_password(monkeypatch):
    monkeypatch.delenv("CNN_PLAYGROUND_TEACHER_PASSWORD", raising=False)
    at = app_opened_with()
    at.switch_page("views/teacher.py")
    rerun(at)
    assert any("Classroom mode is off" in i.value for i in at.info)


def _teacher(monkeypatch) -> AppTest:
    monkeypatch.setenv("CNN_PLAYGROUND_TEACHER_PASSWORD", "s3cret")
    at = app_opened_with()
    at.switch_page("views/teacher.py")
    rerun(at)
    return at


def _log_in(at, password: str) -> None:
    at.text_input(key="teacher_password").set_value(password)
    at.button(key="FormSubmitter:teacher_login-Log in").click()
    rerun(at)


def test_teacher_logs_in_and_creates_a_quick_challenge_which_is_selected(monkeypatch):
    at = _teacher(monkeypatch)
    _log_in(at, "wrong")
    assert any("password is not right" in e.value for e in at.error)
    assert at.session_state["teacher_password"] == ""  # the typed password is not kept
    _log_in(at, "s3cret")
    assert at.session_state["teacher_token"]
    kept = [str(at.session_state[k]) for k in at.session_state]
    assert not any("s3cret" in v for v in kept)  # the password is nowhere in the session
    older = make_challenge(title="An older one")
    at.text_input(key="nc_title").set_value("Tiny models")
    at.selectbox(key="nc_dataset").set_value("shapes")
    rerun(at)
    at.number_input(key="nc_train_images").set_value(400)
    at.multiselect(key="nc_locked").set_value(["optimizer", "epochs"])
    rerun(at)
    # The expected time comes from a speed measurement trained like a run (tests/app/test_app_jobs.py).
    manager = core.runs.manager.default_manager()
    (probe,) = [j for j in manager.store.list(kind="speed_probe") if j.dataset == "shapes"]
    wait_for(manager.job(probe.id, probe.owner), timeout=300)
    rerun(at)
    assert any("Expected time per run" in i.value and "400 training images" in i.value for i in at.info)
    at.button(key="create_challenge").click()
    rerun(at)
    assert any("Challenge created" in s.value for s in at.success)
    code = at.session_state["teacher_challenge_choice"]  # the new one is selected, not the older one
    assert code != older.code and any(f"?challenge={code}" in c.value for c in at.code)
    made = session.challenges().get(code)
    assert (made.title, made.train_images, made.locked) == ("Tiny models", 400, ("optimizer", "epochs"))
    assert [c.code for c in session.challenges().list()][0] == code  # newest first


def test_teacher_edits_closes_and_deletes_a_challenge(monkeypatch):
    challenge = make_challenge()
    at = _teacher(monkeypatch)
    _log_in(at, "s3cret")
    at.selectbox(key="teacher_challenge_choice").set_value(challenge.code)
    rerun(at)
    at.text_input(key=f"ed_{challenge.code}_title").set_value("Shapes, take two")
    at.number_input(key=f"ed_{challenge.code}_max_epochs").set_value(4)
    at.button(key=f"save_{challenge.code}").click()
    rerun(at)
    edited = session.challenges().get(challenge.code)
    assert (edited.title, edited.max_epochs) == ("Shapes, take two", 4)
    at.button(key=f"close_{challenge.code}").click()
    rerun(at)
    assert session.challenges().get(challenge.code).closed
    at.checkbox(key=f"confirm_delete_{challenge.code}").check()
    rerun(at)
    at.button(key=f"delete_{challenge.code}").click()
    rerun(at)
    assert session.challenges().get(challenge.code) is None
    assert any("Challenge deleted" in s.value for s in at.success)


def _expired_token() -> str:
    secret = server_secret(session.manager().store.home)
    return make_teacher_token(secret, "s3cret", now=time.time() - TOKEN_SECONDS - 1)


def test_a_click_after_the_teachers_login_expired_changes_nothing_and_asks_for_the_password(monkeypatch):
    challenge = make_challenge()
    at = _teacher(monkeypatch)
    _log_in(at, "s3cret")
    at.selectbox(key="teacher_challenge_choice").set_value(challenge.code)
    rerun(at)
    at.checkbox(key=f"confirm_delete_{challenge.code}").check()
    rerun(at)
    at.session_state["teacher_token"] = _expired_token()  # the school day is over while the page is open
    at.button(key=f"delete_{challenge.code}").click()
    rerun(at)
    assert session.challenges().get(challenge.code) is not None  # refused by the classroom, not deleted
    assert any("Only a logged-in teacher" in e.value for e in at.error)
    assert at.text_input(key="teacher_password")  # the login form again
    assert not [b for b in at.button if b.key == f"delete_{challenge.code}"]


def test_wrong_teacher_passwords_slow_down(monkeypatch):
    at = _teacher(monkeypatch)
    for _ in range(3):
        _log_in(at, "wrong")
    assert any("Wait" in e.value for e in at.error)
    _log_in(at, "s3cret")  # even the right one must wait now
    assert any("Too many wrong passwords" in e.value for e in at.error)
    assert "teacher_token" not in at.session_state or not at.session_state["teacher_token"]


def test_learner_gets_the_restricted_builder_and_reaches_the_leaderboard(monkeypatch):
    app_trains_nothing(monkeypatch)  # the page's rules and the board, not what Ada's run learns
    challenge = make_challenge()
    at = app_opened_with(challenge=challenge.code)
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
    at.number_input(key="hp_epochs").set_value(3)  # above the cap: Train says so beside it
    rerun(at)
    assert at.button(key="train").disabled
    assert any("This challenge allows at most 2 epochs: lower Epochs." in w.value for w in at.warning)
    at.number_input(key="hp_epochs").set_value(2)
    rerun(at)
    at.button(key="train").click()
    rerun(at)
    run_id = at.session_state["playground"].run_id
    run = app_run(run_id)
    assert run.wait(60) and run.status == "finished", run.message
    assert (run.challenge, run.learner) == (challenge.code, "Ada")

    board = app_opened_with(board=challenge.code)
    board.switch_page("views/projector.py")
    board.query_params["board"] = challenge.code
    rerun(board)
    html = " ".join(m.value for m in board.markdown)
    assert "Shapes sprint" in html and "Ada" in html and "Leaderboard" in html
    race = json.loads(board.get("plotly_chart")[0].proto.spec)  # the live race: Ada's curve, starred
    assert race["data"][0]["name"].startswith("★ Ada")


def test_a_model_over_the_challenge_limit_cannot_train():
    challenge = make_challenge(preset="model1")  # model1 for shapes has 107,973 params > 20,000
    at = app_opened_with(challenge=challenge.code)
    assert any("more than the limit of 20,000" in m.value for m in at.markdown)
    at.switch_page("views/train.py")
    rerun(at)
    assert at.button(key="train").disabled


def test_a_mistyped_challenge_link_says_so_plainly():
    at = app_opened_with(challenge="deadbeef")
    assert any("challenge link is not valid" in i.value for i in at.info)
