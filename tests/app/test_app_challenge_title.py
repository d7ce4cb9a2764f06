"""A challenge left untitled is named after the data set it trains on (not after another data set)."""

from helpers import app_opened_with, rerun

from dashboard import session


def test_an_untitled_challenge_is_named_after_its_data_set(monkeypatch):
    monkeypatch.setenv("CNN_PLAYGROUND_TEACHER_PASSWORD", "s3cret")
    at = app_opened_with()
    at.switch_page("views/teacher.py")
    rerun(at)
    at.text_input(key="teacher_password").set_value("s3cret")
    at.button(key="FormSubmitter:teacher_login-Log in").click()
    rerun(at)
    at.selectbox(key="nc_dataset").set_value("shapes")
    rerun(at)
    title = at.text_input(key="nc_title")
    assert not title.value and title.placeholder == "Best CNN on Shapes (synthetic)"
    at.button(key="create_challenge").click()
    rerun(at)
    assert any("Challenge created" in s.value for s in at.success)
    code = at.session_state["teacher_challenge_choice"]
    assert session.challenges().get(code).title == "Best CNN on Shapes (synthetic)"
