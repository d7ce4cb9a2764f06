"""Two browsers train at once on one server and each sees only its own run (real Chromium)."""

from __future__ import annotations

import re

import pytest
from kit import (
    FIRST_LOAD_MS,
    RUN_MS,
    button,
    choose,
    expect,
    go_to,
    idle,
    limit_images,
    new_tab,
    no_app_errors,
    run_id_in,
    type_into,
    use_shapes,
    wait_for_more_points,
)

pytestmark = pytest.mark.browser
EPOCHS = 6
IMAGES = 600  # of shapes' 2,000: 6 epochs still last long enough to be seen training side by side


def open_learner(browser, url: str):
    """A separate browser context: its own cookies, so its own anonymous user."""
    tab = new_tab(browser)
    tab.goto(url, timeout=FIRST_LOAD_MS)
    expect(tab.get_by_role("heading", name="Build your network", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    use_shapes(tab)
    go_to(tab, "Train", "Train")
    type_into(tab, "hp_epochs", EPOCHS)
    choose(tab, "hp_batch_size", "32")
    limit_images(tab, IMAGES)
    idle(tab)
    return tab


def test_two_browsers_train_at_once_and_see_only_their_own_runs(app_url, browser):
    # The shared server has two training slots (conftest.SHARED_SETTINGS): both runs train at the same time
    # rather than one waiting in the queue.
    ada, bob = open_learner(browser, app_url), open_learner(browser, app_url)
    button(ada, "train").click()
    button(bob, "train").click()
    ids = {}
    for name, tab in (("ada", ada), ("bob", bob)):
        tab.wait_for_url(lambda url: run_id_in(url) is not None)
        ids[name] = run_id_in(tab.url)
    assert ids["ada"] != ids["bob"]
    # Both are training at the same time, each chart growing with its own run.
    for tab in (ada, bob):
        expect(tab.get_by_text(re.compile(rf"^Training: epoch \d+ of {EPOCHS}"))).to_be_visible()
    wait_for_more_points(ada, 0)
    wait_for_more_points(bob, 0)
    for name, tab in (("ada", ada), ("bob", bob)):
        other = ids["bob" if name == "ada" else "ada"]
        expect(tab.get_by_role("heading", name=re.compile(rf"^Run {ids[name]}:"))).to_be_visible()
        expect(tab.get_by_text(re.compile(rf"^Finished after {EPOCHS} epoch"))).to_be_visible(timeout=RUN_MS)
        go_to(tab, "Results", "Results")
        table = tab.locator('[data-testid="stDataFrame"]').last
        expect(table).to_contain_text(ids[name])
        assert other not in tab.locator('[data-testid="stMain"]').inner_text()
        # The other's run cannot be opened by putting its id in the URL either.
        tab.goto(tab.url.split("?")[0].replace("/results", "/train") + f"?run={other}", timeout=FIRST_LOAD_MS)
        expect(tab.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
        idle(tab)
        assert other not in tab.locator('[data-testid="stMain"]').inner_text()
        no_app_errors(tab)
