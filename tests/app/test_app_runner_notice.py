"""The runner's notice (e.g. an unreachable training cluster) is shown on every page."""

from helpers import open_page, rerun

import core.runs.manager

NOTICE = (
    "The training cluster at 10.0.0.5:6379 (RAY_ADDRESS) cannot be reached: is its head node running, and is "
    "this server allowed to connect to it? Training runs on this server instead."
)


def test_the_runner_notice_is_shown_on_every_page(app):
    assert not [w for w in app.warning if "training cluster" in w.value]
    core.runs.manager.default_manager().notice = NOTICE
    for page in ("build", "train", "results"):
        at = open_page(app, page)
        assert [w.value for w in at.warning if "training cluster" in w.value] == [NOTICE]
    rerun(app)
