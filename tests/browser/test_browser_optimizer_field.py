"""Train in a real browser: a change of optimizer shows, in the learning-rate field, the rate that then trains.

A keyed field whose value the server forgets keeps showing its old value in the browser (and sends it back
with the next rerun), so the page sets it instead. The learner picks SGD (the field shows SGD's own 0.01),
changes the epochs (another rerun: the field stays), and the run that starts is named with 0.01; a learning
rate the learner typed stays when the optimizer changes back.
"""

from __future__ import annotations

import re

import pytest
from kit import FIRST_LOAD_MS, button, choose, expect, go_to, idle, no_app_errors, type_into

pytestmark = pytest.mark.browser


def test_the_learning_rate_field_follows_the_optimizer_and_is_the_rate_that_trains(app_url, page):
    page.goto(app_url + "/", timeout=FIRST_LOAD_MS)
    expect(page.get_by_role("heading", name="Build your network", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    go_to(page, "Train", "Train")
    idle(page)
    rate = page.locator(".st-key-hp_learning_rate input")
    choose(page, "hp_optimizer", "SGD")
    expect(rate).to_have_value("0.01")  # SGD's own rate: the preset's was tuned for Adam
    type_into(page, "hp_epochs", 1)
    expect(rate).to_have_value("0.01")

    button(page, "train").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Run \w+: .* sgd lr 0\.01$"))).to_be_visible()
    button(page, "stop").click()
    expect(page.get_by_text(re.compile(r"^(Stopped|Finished) after "))).to_be_visible(timeout=FIRST_LOAD_MS)
    idle(page)

    type_into(page, "hp_learning_rate", 0.05)  # the learner's own rate stays with another optimizer
    choose(page, "hp_optimizer", "Adam")
    idle(page)
    expect(rate).to_have_value("0.05")
    no_app_errors(page)
