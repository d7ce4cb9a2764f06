"""A challenge whose teacher set (and locked) a target accuracy: the learner's run stops there, and Results
and the class leaderboard say how long it took ("reached 1 % in 0 s")."""

import re

from helpers import app_opened_with, app_run, make_challenge, open_page, rerun, teacher_logged_in

from core.training.hyperparams import Hyperparameters


def test_a_locked_target_stops_the_run_and_results_and_the_board_show_the_time_to_it():
    challenge = make_challenge(
        title="Race to 1 %",
        max_epochs=3,
        hyperparameters=Hyperparameters(
            optimizer="adam", epochs=3, batch_size=32, limit_train=300, limit_test=60, target_accuracy=0.01
        ),
        locked=("optimizer", "target_accuracy"),
    )
    at = app_opened_with(challenge=challenge.code)
    at.text_input(key="learner_name").set_value("Ada")
    rerun(at)
    open_page(at, "train")
    target = at.number_input(key="hp_target_accuracy")
    assert target.value == 1.0 and target.disabled  # the teacher's 1 %, shown as a percentage, locked
    at.button(key="train").click()
    rerun(at)
    run = app_run(at.session_state["playground"].run_id)
    assert run.wait(120) and run.status == "finished", run.message
    assert run.epoch == 1 and run.results["target_reached"]["epoch"] == 1  # stopped at the target, not after 3

    open_page(at, "results")
    metric = next(m for m in at.metric if m.label == "Time to 1 %")
    assert re.fullmatch(r"Reached 1 % in \d+ s", metric.value)
    settings = dict(zip(*[list(c) for c in at.dataframe[0].value[["Setting", "Value"]].T.values]))
    assert settings["Target accuracy"] == "1 %"
    assert any("Reached the target" in m.value for m in [*at.success, *at.info, *at.markdown, *at.caption])

    board = app_opened_with(board=challenge.code)
    board.switch_page("views/projector.py")
    board.query_params["board"] = challenge.code
    rerun(board)
    html = " ".join(m.value for m in board.markdown)
    assert "Time to target" in html and re.search(r"reached 1 % in \d+ s", html)


def test_the_teacher_sets_a_race_to_a_target_when_creating_a_challenge(monkeypatch):
    from dashboard import session

    at = teacher_logged_in(monkeypatch)
    at.text_input(key="nc_title").set_value("Race to 85")
    at.selectbox(key="nc_dataset").set_value("shapes")
    rerun(at)
    at.number_input(key="nc_target_accuracy").set_value(85.0)
    at.multiselect(key="nc_locked").set_value(["target_accuracy"])
    rerun(at)
    at.button(key="create_challenge").click()
    rerun(at)
    challenge = session.challenges().get(at.session_state["teacher_challenge_choice"])
    assert challenge.hyperparameters.target_accuracy == 0.85 and "target_accuracy" in challenge.locked
    assert "set by your teacher: target accuracy" in challenge.rules()
