"""A file of work in real Chromium: Ada saves her work on Results and downloads it; Bob, in another browser,
opens the file and gets her run as a copy of his own (a new id); a file that is not one is refused plainly."""

from __future__ import annotations

import re

import pytest
from kit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FIRST_LOAD_MS,
    RUN_MS,
    button,
    choose,
    expect,
    go_to,
    idle,
    new_tab,
    no_app_errors,
    run_id_in,
    sync_api,
)

pytestmark = pytest.mark.browser
YOUR_WORK = "Your work: save it, open it elsewhere, recovery code"


def open_your_work(tab) -> None:
    go_to(tab, "Results", "Results")
    idle(tab)
    tab.get_by_text(YOUR_WORK).click()
    expect(button(tab, "work_open")).to_be_visible()
    idle(tab)


def main_text(tab) -> str:
    return tab.locator('[data-testid="stMain"]').inner_text()


def test_work_saved_in_one_browser_opens_as_the_other_learners_own_copy(app_url, tmp_path):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            ada = new_tab(browser)
            ada.goto(app_url, timeout=FIRST_LOAD_MS)
            expect(ada.get_by_role("heading", name="Build your network", exact=True)).to_be_visible(
                timeout=FIRST_LOAD_MS
            )
            go_to(ada, "Data", "Look at the data")
            choose(ada, "dataset_choice", "Shapes (synthetic)")
            idle(ada)
            expect(ada.get_by_text(re.compile("2,500 grey 28×28 drawings")).first).to_be_visible()
            go_to(ada, "Train", "Train")
            epochs = ada.locator(".st-key-hp_epochs input")
            epochs.fill("1")
            epochs.press("Enter")
            idle(ada)
            button(ada, "train").click()
            ada.wait_for_url(lambda url: run_id_in(url) is not None)
            run_id = run_id_in(ada.url)
            expect(ada.get_by_text(re.compile(r"^Finished after 1 epoch"))).to_be_visible(timeout=RUN_MS)

            open_your_work(ada)
            button(ada, "work_prepare").click()
            idle(ada)
            with ada.expect_download() as download_info:
                button(ada, "work_download").click()
            saved = tmp_path / "my-work.zip"
            download_info.value.save_as(saved)
            assert saved.stat().st_size > 10_000  # the run's model is in it

            bob = new_tab(browser)
            bob.goto(app_url, timeout=FIRST_LOAD_MS)
            expect(bob.get_by_role("heading", name="Build your network", exact=True)).to_be_visible(
                timeout=FIRST_LOAD_MS
            )
            open_your_work(bob)
            assert run_id not in main_text(bob)
            uploader = bob.locator('.st-key-work_file input[type="file"]')
            # Not a file of work: refused in words, nothing opened.
            not_work = tmp_path / "notes.zip"
            not_work.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip
            uploader.set_input_files(str(not_work))
            expect(bob.locator(".st-key-work_file")).to_contain_text("notes.zip")
            bob.wait_for_timeout(500)  # the upload's own rerun
            idle(bob)
            button(bob, "work_open").click()
            idle(bob)
            expect(bob.locator('[data-testid="stAlertContentError"]').first).to_be_visible()
            # Ada's file: opened as Bob's own copy, under a new id.
            uploader.set_input_files(str(saved))
            expect(bob.locator(".st-key-work_file")).to_contain_text("my-work.zip")
            bob.wait_for_timeout(500)
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
        finally:
            browser.close()
