"""A challenge left untitled is named after the data set it trains on (not after another data set)."""

from helpers import rerun, teacher_logged_in

from dashboard import session


def test_an_untitled_challenge_is_named_after_its_data_set(monkeypatch):
    at = teacher_logged_in(monkeypatch)
    at.selectbox(key="nc_dataset").set_value("shapes")
    rerun(at)
    title = at.text_input(key="nc_title")
    assert not title.value and title.placeholder == "Best CNN on Shapes (synthetic)"
    at.button(key="create_challenge").click()
    rerun(at)
    assert any("Challenge created" in s.value for s in at.success)
    code = at.session_state["teacher_challenge_choice"]
    assert session.challenges().get(code).title == "Best CNN on Shapes (synthetic)"
