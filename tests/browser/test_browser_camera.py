"""Recording a data set with the camera, in real Chromium at a tablet's size (768×1024): Chromium's fake camera
(``--use-fake-device-for-media-stream``, allowed without asking by ``--use-fake-ui-for-media-stream``) gives the
pictures; two classes, two pictures each with the camera widget's own button, then the data set is built and
is the one the data set picker shows."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from kit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FIRST_LOAD_MS,
    Shots,
    button,
    choose,
    expect,
    idle,
    new_tab,
    no_app_errors,
    type_into,
)

from core.data.user_datasets import UserDatasetStore

pytestmark = pytest.mark.browser
FAKE_CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
TABLET = {"width": 768, "height": 1024}
VIDEO = '[data-testid="stCameraInputWebcamStyledBox"] video'
SIZED_JS = f"""() => {{
    const video = document.querySelector('{VIDEO}');
    return !!video && video.getBoundingClientRect().height > 0 && video.getBoundingClientRect().height < innerHeight;
}}"""
# Kept in view while waiting, as a learner's eyes would be: thumbnails drawn late can push it out again, and
# Chrome pauses a muted video out of view (the stream then never reaches half a second).
PLAYING_JS = f"""() => {{
    const video = document.querySelector('{VIDEO}');
    if (!video) return false;
    const box = video.getBoundingClientRect();
    if (box.top < 0 || box.bottom > innerHeight) video.scrollIntoView({{block: 'center'}});
    return video.videoWidth > 0 && video.currentTime > 0.5;
}}"""


@pytest.fixture
def camera_page(playwright):
    """A tab of a Chromium whose camera is the fake device (a moving test pattern), allowed without a prompt."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *FAKE_CAMERA_ARGS])
    try:
        yield new_tab(browser, TABLET)
    finally:
        browser.close()


def add_class(page, name: str) -> None:
    field = page.locator(".st-key-rec_class_name input")
    field.fill(name)
    field.press("Enter")  # the text is committed before the button's click
    idle(page)
    button(page, "rec_add_class").click()
    idle(page)
    expect(page.locator(".st-key-rec_class_name input")).to_have_value("")


def camera_ready(page) -> None:
    """As a learner would wait: the camera in view (Chrome pauses a muted video that starts out of view), its
    stream started and showing frames (the first ones are black)."""
    page.wait_for_function(SIZED_JS)  # the first frames come at the device's full size, then the widget's
    page.wait_for_function(PLAYING_JS, polling=250)


def take_pictures(page, class_index: int, n: int) -> None:
    card = page.locator(f".st-key-rec_class_{class_index}")
    for taken in range(1, n + 1):
        camera_ready(page)
        shoot = page.get_by_test_id("stCameraInputButton").filter(has_text="Take Photo")
        expect(shoot).to_be_enabled()
        shoot.click()
        needs = f", needs {2 - taken} more" if taken < 2 else ""
        expect(card.get_by_text(f"{taken} picture(s){needs}", exact=True)).to_be_visible()
        idle(page)
        expect(card.locator("img")).to_have_count(taken)  # its thumbnails
    camera_ready(page)  # a fresh camera, ready for the next class


def test_take_pictures_of_two_classes_with_the_camera_and_build_the_data_set(app_url, camera_page, tmp_path):
    page, shots = camera_page, Shots()
    page.goto(f"{app_url}/data", timeout=FIRST_LOAD_MS)
    expect(page.get_by_role("heading", name="Look at the data", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    idle(page)
    page.locator('[data-testid="stExpander"] summary', has_text="Record your own data set").click()
    add_class(page, "cups")
    add_class(page, "spoons")
    page.locator(".st-key-rec_camera_on label").click()
    idle(page)

    choose(page, "rec_target", "cups")
    take_pictures(page, 0, 2)
    page.locator(".st-key-rec_target").scroll_into_view_if_needed()  # first: a list that opens is closed by a scroll
    choose(page, "rec_target", "spoons")
    take_pictures(page, 1, 2)
    shots.take(page, "camera-recorded")

    type_into(page, "rec_title", "My camera set")
    button(page, "rec_build").click()
    expect(
        page.get_by_text(re.compile(r"^Imported My camera set: 2 training and 2 test images of 32×32 colour"))
    ).to_be_visible()
    expect(page.locator(".st-key-dataset_choice input[role=combobox]")).to_have_value("My camera set")
    idle(page)
    expect(page.get_by_test_id("stMetricValue").first).to_have_text("2")  # its training images
    shots.take(page, "camera-built")
    shots.write_index()
    no_app_errors(page)

    # The pictures are the camera's: Chromium's fake device shows a green test pattern (never black frames).
    store = UserDatasetStore(tmp_path / "home")  # the served app's store (see the app_url fixture)
    # The served app is shared by the browser tests: other tests' data sets may be there too.
    metas = [json.loads(path.read_text()) for path in store.dir.glob("own-*.json")]
    [meta] = [m for m in metas if m.get("title") == "My camera set"]
    data = store.load(meta["id"])
    assert data.class_names == ("cups", "spoons") and data.x_train.shape == (2, 32, 32, 3)
    pixels = np.concatenate([data.x_train, data.x_test]).reshape(-1, 3).mean(axis=0)
    assert pixels[1] > 100 and pixels[1] > 2 * max(pixels[0], pixels[2]), pixels
