"""The Projector opened with a ?board= code that names no challenge says so, showing the code as typed."""

from helpers import app_opened_with, rerun


def test_the_projector_says_a_board_code_is_unknown():
    at = app_opened_with(board="no-such**code**")
    at.switch_page("views/projector.py")
    at.query_params["board"] = "no-such**code**"
    rerun(at)
    warnings = [w.value for w in at.warning]
    assert any("There is no challenge with the code" in w and r"no-such\*\*code\*\*" in w for w in warnings), warnings
    assert not at.error  # a plain word, not an error box, and no traceback
