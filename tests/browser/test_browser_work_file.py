"""A file of work in real Chromium: Ada saves her work on Results and downloads it; Bob, in another browser,
opens the file and gets her run as a copy of his own (a new id); a file that is not one is refused plainly."""

from __future__ import annotations

import re

import pytest
from kit import (
    button,
    expect,
    idle,
    new_tab,
    no_app_errors,
    open_app,
    open_your_work,
    train_quick_shapes_run,
)

pytestmark = pytest.mark.browser


def main_text(tab) -> str:
    return tab.locator('[data-testid="stMain"]').inner_text()


def test_work_saved_in_one_browser_opens_as_the_other_learners_own_copy(app_url, tmp_path, browser):
    ada = new_tab(browser)
    open_app(ada, app_url)
    run_id = train_quick_shapes_run(ada)

    open_your_work(ada)
    button(ada, "work_prepare").click()
    idle(ada)
    with ada.expect_download() as download_info:
        button(ada, "work_download").click()
    saved = tmp_path / "my-work.zip"
    download_info.value.save_as(saved)
    assert saved.stat().st_size > 10_000  # the run's model is in it

    bob = new_tab(browser)
    open_app(bob, app_url)
    open_your_work(bob)
    assert run_id not in main_text(bob)
    uploader = bob.locator('.st-key-work_file input[type="file"]')
    # Not a file of work: refused in words, nothing opened.
    not_work = tmp_path / "notes.zip"
    not_work.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip
    uploader.set_input_files(str(not_work))
    expect(bob.get_by_text("Ready to open: notes.zip (0 KB).")).to_be_visible()  # uploaded, its rerun done
    idle(bob)
    button(bob, "work_open").click()
    idle(bob)
    expect(bob.locator('[data-testid="stAlertContentError"]').first).to_be_visible()
    # Ada's file, chosen in place of that one: opened as Bob's own copy, under a new id.
    bob.get_by_role("button", name="Remove notes.zip").click()
    expect(bob.get_by_text("Ready to open: notes.zip (0 KB).")).to_have_count(0)
    idle(bob)
    uploader.set_input_files(str(saved))
    expect(bob.get_by_text(re.compile(r"^Ready to open: my-work\.zip \([\d.,]+ [KM]B\)\.$"))).to_be_visible()
    idle(bob)
    button(bob, "work_open").click()
    expect(bob.get_by_text(re.compile(r"^Opened 1 run"))).to_be_visible()
    idle(bob)
    text = main_text(bob)
    assert run_id not in text  # a copy with its own id, never Ada's run itself
    expect(bob.get_by_text(re.compile("^No runs yet"))).to_have_count(0)  # the copy is among his runs now
    expect(bob.get_by_text("All your runs")).to_be_visible()
    for tab in (ada, bob):
        no_app_errors(tab)
