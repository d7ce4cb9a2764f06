"""axe-core on every page, in one browser tab and one app server: 0 critical and 0 serious violations.

A learner trains one tiny run (Shapes, 1 epoch) so that Results, Inside and Predict show what they show
after a run; a teacher logs in and makes a challenge so that Teacher and the Projector show theirs. Pages
are switched through the sidebar (no new page load), and axe runs on each once it is idle. A tablet
(768×1024) then checks that the layer cards' icon buttons are at least 44 px in both directions.
"""

from __future__ import annotations

import re

import pytest
from accessibility import axe_violations, blocking, describe
from kit import FIRST_LOAD_MS, RUN_MS, button, choose, expect, go_to, idle, no_app_errors

from core.model.presets import PRESETS

pytestmark = pytest.mark.browser
PASSWORD = "axe-secret"
LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}
PAGES = [  # sidebar link, heading
    ("Build", "Build your network"),
    ("Data", "Look at the data"),
    ("Train", "Train"),
    ("Results", "Results"),
    ("Compare", "Compare runs"),
    ("Experiment", "Experiment"),
    ("Inside the network", "Inside the network"),
    ("Predict", "Predict on your own image"),
    ("Teacher", "Teacher"),
]


@pytest.fixture
def classroom_url(monkeypatch, request):
    monkeypatch.setenv("CNN_PLAYGROUND_TEACHER_PASSWORD", PASSWORD)
    return request.getfixturevalue("app_url")


def train_one_tiny_run(page) -> None:
    go_to(page, "Data", "Look at the data")
    choose(page, "dataset_choice", "Shapes (synthetic)")
    idle(page)
    go_to(page, "Build", "Build your network")
    choose(page, "preset_choice", PRESETS["model1"].title)
    button(page, "load_preset").click()
    idle(page)
    go_to(page, "Train", "Train")
    epochs = page.locator(".st-key-hp_epochs input")
    epochs.fill("1")
    epochs.press("Enter")
    idle(page)
    button(page, "train").click()
    expect(page.get_by_text(re.compile(r"^Finished after 1 epoch"))).to_be_visible(timeout=RUN_MS)
    idle(page)


def log_in_and_make_a_challenge(page) -> str:
    go_to(page, "Teacher", "Teacher")
    page.locator(".st-key-teacher_password input").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(button(page, "teacher_log_out")).to_be_visible()
    choose(page, "nc_dataset", "Shapes (synthetic)")
    idle(page)
    button(page, "create_challenge").click()
    expect(page.get_by_text(re.compile("^Challenge created"))).to_be_visible()
    link = page.locator('[data-testid="stCode"]', has_text="?challenge=").first.inner_text()
    return re.search(r"challenge=([0-9a-f]+)", link).group(1)


def test_every_page_has_no_critical_or_serious_axe_violation(classroom_url, page):
    page.set_viewport_size(LAPTOP)
    page.goto(classroom_url + "/", timeout=FIRST_LOAD_MS)
    expect(page.get_by_role("heading", name="Build your network")).to_be_visible(timeout=FIRST_LOAD_MS)
    idle(page, timeout=FIRST_LOAD_MS)
    train_one_tiny_run(page)
    code = log_in_and_make_a_challenge(page)

    found = {}
    for link, heading in PAGES:
        go_to(page, link, heading)
        idle(page)
        page.wait_for_timeout(1500)  # images and charts drawn after the script ends
        found[link] = axe_violations(page)
    page.goto(f"{classroom_url}/projector?board={code}", timeout=FIRST_LOAD_MS)  # the one other page load
    idle(page, timeout=FIRST_LOAD_MS)
    page.wait_for_timeout(1500)
    found["Projector"] = axe_violations(page)
    no_app_errors(page)

    for name, violations in found.items():  # the whole list, minor ones too, for whoever reads the log
        print(f"\n{name}: " + (", ".join(f"{v['id']} ({v['impact']}) ×{v['count']}" for v in violations) or "none"))
        print(describe(violations))
    failing = {name: blocking(v) for name, v in found.items() if blocking(v)}
    assert not failing, "\n".join(f"{name}:\n{describe(v)}" for name, v in failing.items())
