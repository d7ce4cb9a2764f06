"""axe-core on every page, in one browser tab and one app server: no violation of any impact (critical,
serious, moderate or minor: headings descend one level at a time) but Streamlit's own markup the app
cannot change (accessibility.STREAMLIT_OWN); the Projector from the back of a room; touch targets on a tablet.

A teacher logs in and makes a quick challenge (Shapes, 300 images, 1 epoch); the same tab joins it as a
learner and trains one run, so that Results, Inside and Predict show what they show after a run and the
Projector has a race. Pages are switched through the sidebar (no new page load) and axe runs on each once
it is idle. Then the Projector at 1920×1080 (sidebar folded away, the race over half the width, large tick
labels, what its numbers are) and the Build page on a tablet (768×1024: icon buttons at least 44 px).
"""

from __future__ import annotations

import re

import pytest
from accessibility import axe_violations, describe, of_the_app, summary_line
from kit import (
    FIRST_LOAD_MS,
    RUN_MS,
    SCREENSHOTS,
    TEACHER_PASSWORD,
    button,
    choose,
    drawn,
    expect,
    go_to,
    idle,
    no_app_errors,
    type_into,
)

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 768}
PROJECTOR = {"width": 1920, "height": 1080}
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


def make_a_quick_challenge(page, url: str) -> str:
    page.goto(url + "/teacher", timeout=FIRST_LOAD_MS)
    expect(page.get_by_role("heading", name="Teacher", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    page.locator(".st-key-teacher_password input").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(button(page, "teacher_log_out")).to_be_visible()
    choose(page, "nc_dataset", "Shapes (synthetic)")
    idle(page)
    type_into(page, "nc_train_images", 300)
    type_into(page, "nc_epochs", 1)
    button(page, "create_challenge").click()
    expect(page.get_by_text(re.compile("^Challenge created"))).to_be_visible()
    link = page.locator('[data-testid="stCode"]', has_text="?challenge=").first.inner_text()
    return re.search(r"challenge=([0-9a-f]+)", link).group(1)


def join_and_train(page, url: str, code: str) -> None:
    page.goto(f"{url}/?challenge={code}", timeout=FIRST_LOAD_MS)
    expect(page.get_by_text("Challenge: ")).to_be_visible(timeout=FIRST_LOAD_MS)
    # Build's next step is above the fold at 1366×768.
    next_step = page.locator('[data-testid="stPageLink"]', has_text="Next: Train")
    expect(next_step).to_be_visible()
    box = next_step.bounding_box()
    assert box["y"] + box["height"] <= LAPTOP["height"], f"Build's next step is below the fold: {box}"
    next_step.click()
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible()
    button(page, "train").click()
    expect(page.get_by_text(re.compile(r"^Finished after 1 epoch in "))).to_be_visible(timeout=RUN_MS)
    idle(page)


def scan_every_page(page) -> dict:
    found = {}
    for link, heading in PAGES:
        go_to(page, link, heading)
        idle(page)
        if link == "Build":  # the Keras code: a long block that must not scroll out of a keyboard's reach
            page.locator('[data-testid="stExpander"] summary', has_text="Keras code for this model").click()
            expect(page.locator('[data-testid="stCode"]').first).to_be_visible()
        drawn(page)  # images and charts drawn after the script ends
        found[link] = axe_violations(page)
    return found


def check_the_projector(page, url: str, code: str) -> list[dict]:
    page.set_viewport_size(PROJECTOR)
    page.goto(f"{url}/projector?board={code}", timeout=FIRST_LOAD_MS)
    race = page.locator(".st-key-race_chart .js-plotly-plot, [data-testid=stPlotlyChart] .js-plotly-plot").first
    expect(race).to_be_visible(timeout=FIRST_LOAD_MS)
    drawn(page)
    page.screenshot(path=str(SCREENSHOTS / "projector-1920.png"))
    shown = page.locator('[data-testid="stSidebar"]').bounding_box()
    assert shown is None or shown["x"] + shown["width"] <= 1, f"the sidebar takes the projector's screen: {shown}"
    width = race.locator(".nsewdrag").first.bounding_box()["width"]  # the curves' own area
    assert width > PROJECTOR["width"] / 2, f"the race's curves are {width:.0f} px wide of {PROJECTOR['width']}"
    sizes = page.evaluate(
        "() => [...document.querySelector('.js-plotly-plot').querySelectorAll('.xtick text, .ytick text')]"
        ".map(t => parseFloat(getComputedStyle(t).fontSize))"
    )
    assert sizes and min(sizes) >= 20, f"tick labels of {min(sizes or [0])} px cannot be read from the back"
    expect(page.get_by_text(re.compile("the % after a name: its latest validation accuracy"))).to_be_visible()
    expect(page.get_by_text(re.compile("differs a little from its validation accuracy"))).to_be_visible()
    return axe_violations(page)


def check_touch_targets_on_a_tablet(page, url: str) -> None:
    page.set_viewport_size(TABLET)
    page.goto(url + "/", timeout=FIRST_LOAD_MS)
    icons = page.locator('button[aria-label^="Move layer"]:visible, button[aria-label^="Remove layer"]:visible')
    expect(icons.first).to_be_visible(timeout=FIRST_LOAD_MS)
    idle(page)
    small = [
        (b["width"], b["height"])
        for i in range(icons.count())
        if (b := icons.nth(i).bounding_box()) and (b["width"] < 44 or b["height"] < 44)
    ]
    assert not small, f"icon buttons under 44×44 px on a tablet: {small}"


def test_every_page_passes_axe_and_the_projector_reads_from_the_back_of_the_room(classroom_url, page):
    page.set_viewport_size(LAPTOP)
    code = make_a_quick_challenge(page, classroom_url)
    join_and_train(page, classroom_url, code)
    found = scan_every_page(page)
    found["Projector"] = check_the_projector(page, classroom_url, code)
    check_touch_targets_on_a_tablet(page, classroom_url)
    no_app_errors(page)

    for name, violations in found.items():  # the whole list, Streamlit's own too, for whoever reads the log
        print(f"\n{name}: {summary_line(violations)}\n{describe(violations)}")
    failing = {name: of_the_app(v) for name, v in found.items() if of_the_app(v)}
    assert not failing, "\n".join(f"{name}:\n{describe(v)}" for name, v in failing.items())
