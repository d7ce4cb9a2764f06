"""A class hour in real browsers: one teacher and two learners, each in their own browser context.

The teacher logs in, presses Enter in the challenge form (nothing is created), creates a quick challenge
with locked settings, reloads and is still logged in. Each learner opens the link at 1366×768, loads a
preset, trains (Train visible without scrolling), clones the run and trains the clone. The projector
(1920×1080, no scrolling) shows both learners in the live race and on the leaderboard. Shapes data set,
300 images per run, 1 epoch: a few seconds per run.
"""

from __future__ import annotations

import json
import re

import pytest
from kit import (
    FIRST_LOAD_MS,
    RUN_MS,
    TEACHER_PASSWORD,
    button,
    choose,
    expect,
    go_to,
    idle,
    new_tab,
    no_app_errors,
    run_id_in,
    type_into,
)

from core.training.presets import PRESETS

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 768}
PROJECTOR = {"width": 1920, "height": 1080}


def pick(tab, key: str, options: list[str]) -> None:
    """Choose these options in the multiselect with this widget key."""
    box = tab.locator(f".st-key-{key} input")
    for option in options:
        box.click()
        box.press_sequentially(option)
        box.press("Enter")  # the first (only) option left by what was typed
        idle(tab)
    tab.keyboard.press("Escape")
    for option in options:
        expect(tab.locator(f".st-key-{key}")).to_contain_text(option)


def in_viewport(tab, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= tab.viewport_size["height"]


def teacher_creates_a_challenge(teacher, url: str) -> str:
    teacher.goto(url + "/teacher", timeout=FIRST_LOAD_MS)
    expect(teacher.get_by_role("heading", name="Teacher", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    password = teacher.locator(".st-key-teacher_password input")
    password.fill("wrong")
    password.press("Enter")  # submits nothing: only the button does
    idle(teacher)
    expect(teacher.get_by_text("That password is not right.")).to_have_count(0)
    teacher.get_by_role("button", name="Log in").click()
    expect(teacher.get_by_text("That password is not right.")).to_be_visible()
    password.fill(TEACHER_PASSWORD)
    teacher.get_by_role("button", name="Log in").click()
    expect(button(teacher, "teacher_log_out")).to_be_visible()

    # Enter in a field of the challenge form creates nothing.
    type_into(teacher, "nc_title", "Shapes sprint")
    expect(teacher.get_by_text("Challenge created")).to_have_count(0)
    choose(teacher, "nc_dataset", "Shapes (synthetic)")
    idle(teacher)
    type_into(teacher, "nc_train_images", 300)
    type_into(teacher, "nc_max_epochs", 2)
    type_into(teacher, "nc_epochs", 1)
    choose(teacher, "nc_batch_size", "32")
    idle(teacher)
    pick(teacher, "nc_locked", ["Optimizer", "Learning rate"])
    expect(teacher.get_by_text(re.compile(r"Expected time per run: about"))).to_be_visible(timeout=RUN_MS)
    expect(teacher.get_by_text("Challenge created")).to_have_count(0)
    button(teacher, "create_challenge").click()
    expect(teacher.get_by_text(re.compile("^Challenge created"))).to_be_visible()
    link = teacher.locator('[data-testid="stCode"]', has_text="?challenge=").first.inner_text().strip()
    code = re.search(r"challenge=([0-9a-f]+)", link).group(1)
    no_app_errors(teacher)

    # A reload keeps the teacher logged in (a signed token in a cookie), on the challenge just made.
    teacher.reload()
    expect(button(teacher, "teacher_log_out")).to_be_visible(timeout=FIRST_LOAD_MS)
    expect(teacher.locator(".st-key-teacher_password")).to_have_count(0)
    teacher.get_by_role("tab", name="Your challenges").click()
    expect(teacher.locator(".st-key-teacher_challenge_choice input")).to_have_value(f"Shapes sprint ({code})")
    return code


def learner_trains_and_clones(tab, url: str, code: str, name: str) -> None:
    tab.goto(f"{url}/?challenge={code}", timeout=FIRST_LOAD_MS)
    expect(tab.get_by_text("Challenge: Shapes sprint")).to_be_visible(timeout=FIRST_LOAD_MS)
    type_into(tab, "learner_name", name)
    choose(tab, "preset_choice", PRESETS["model1"].title)
    button(tab, "load_preset").click()
    idle(tab)
    # The layer cards' icon buttons have names a screen reader says.
    expect(tab.locator('button[aria-label="Move layer 2 up"]:visible')).to_have_count(1)
    expect(tab.locator('button[aria-label="Remove layer 1"]:visible')).to_have_count(1)
    go_to(tab, "Train", "Train")
    expect(tab.locator(".st-key-hp_learning_rate input")).to_be_disabled()  # locked, at the teacher's value
    expect(tab.locator(".st-key-hp_learning_rate input")).to_have_value("0.001")  # as %g: what trains
    train = button(tab, "train")
    expect(train).to_be_enabled()
    assert in_viewport(tab, train), "Train is below the fold at 1366×768"
    previous = None
    for attempt in ("first", "clone"):
        train.click()
        tab.wait_for_url(lambda url, before=previous: run_id_in(url) not in (None, before))
        previous = run_id_in(tab.url)
        expect(tab.get_by_role("heading", name=re.compile(rf"^Run {previous}: "))).to_be_visible()
        # 1 or 2 epochs: the preset brings its own epochs, held within the challenge's 2
        expect(tab.get_by_text(re.compile(r"^Finished after [12] epoch"))).to_be_visible(timeout=RUN_MS)
        if attempt == "first":
            go_to(tab, "Results", "Results")
            button(tab, "clone_run").click()
            expect(tab.get_by_role("heading", name="Build your network", exact=True)).to_be_visible()
            go_to(tab, "Train", "Train")
            expect(button(tab, "train")).to_be_enabled()
    no_app_errors(tab)


def test_a_class_hour_with_a_teacher_and_two_learners(classroom_url, browser):
    teacher = new_tab(browser, LAPTOP)
    code = teacher_creates_a_challenge(teacher, classroom_url)
    for name in ("Ada", "Bob"):
        learner_trains_and_clones(new_tab(browser, LAPTOP), classroom_url, code, name)

    teacher.set_viewport_size(PROJECTOR)
    teacher.goto(f"{classroom_url}/projector?board={code}", timeout=FIRST_LOAD_MS)
    race = teacher.locator(".js-plotly-plot").first
    expect(race).to_be_visible(timeout=FIRST_LOAD_MS)
    idle(teacher)
    names = teacher.evaluate(
        "() => (document.querySelector('.js-plotly-plot').data || []).map(t => t.name).filter(Boolean)"
    )
    assert any(n.lstrip("★ ").startswith("Ada") for n in names), names
    assert any(n.lstrip("★ ").startswith("Bob") for n in names), names
    assert sum(n.startswith("★") for n in names) == 1, f"one leader is marked: {json.dumps(names)}"
    board = teacher.locator('[data-testid="stMain"]')
    expect(board.locator("table")).to_contain_text("Ada")
    expect(board.locator("table")).to_contain_text("Bob")
    overflow = teacher.evaluate(
        "() => { const m = document.querySelector('[data-testid=stMain]'); return m.scrollHeight - m.clientHeight; }"
    )
    assert overflow <= 0, f"the projector scrolls by {overflow} px at 1920×1080"
    no_app_errors(teacher)
