"""The recovery code in real Chromium: Ada asks for hers on Results, Bob types it in another browser and
becomes Ada (her runs listed, her cookie); the code never appears in an address."""

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
    expect(button(tab, "recovery_use")).to_be_visible()
    idle(tab)


def user_cookie(tab) -> str:
    """The identity cookie, once the app's cookie script has written it."""
    tab.wait_for_function("() => document.cookie.includes('cnn_playground_user=')", timeout=30_000)
    return next(c["value"] for c in tab.context.cookies() if c["name"] == "cnn_playground_user")


def test_a_recovery_code_typed_in_another_browser_makes_it_the_same_learner(app_url):
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
            button(ada, "recovery_show").click()
            idle(ada)
            code_block = ada.locator('[data-testid="stCode"] code')
            expect(code_block).to_be_visible()
            code = code_block.inner_text().strip()
            assert re.fullmatch(r"[0-9a-f]{4}(-[0-9a-f]{4}){7}", code), code
            expect(ada.get_by_text(re.compile("Anyone with this code can see"))).to_be_visible()
            assert code not in ada.url and code.replace("-", "") not in ada.url

            bob = new_tab(browser)
            bob.goto(app_url, timeout=FIRST_LOAD_MS)
            expect(bob.get_by_role("heading", name="Build your network", exact=True)).to_be_visible(
                timeout=FIRST_LOAD_MS
            )
            assert user_cookie(bob) != user_cookie(ada)
            open_your_work(bob)
            assert run_id not in bob.locator('[data-testid="stMain"]').inner_text()
            # A wrong code is refused in words; the right one (typed with spaces and capitals) is taken.
            bob.locator(".st-key-recovery_code_typed input").fill("0000-1111-2222-3333-4444-5555-6666-7777")
            button(bob, "recovery_use").click()
            expect(bob.get_by_text(re.compile("(not|no) .*code|code .*(not|no)", re.I)).first).to_be_visible()
            bob.locator(".st-key-recovery_code_typed input").fill(code.upper().replace("-", " "))
            button(bob, "recovery_use").click()
            expect(bob.get_by_text(re.compile("^Welcome back"))).to_be_visible()
            idle(bob)
            expect(bob.locator('[data-testid="stMain"]')).to_contain_text(run_id)
            # The cookie follows, so a reload keeps Bob as Ada; the code never reached an address.
            bob.wait_for_function(
                "v => document.cookie.includes('cnn_playground_user=' + v)", arg=user_cookie(ada), timeout=30_000
            )
            bob.reload(timeout=FIRST_LOAD_MS)
            go_to(bob, "Results", "Results")
            idle(bob)
            expect(bob.locator('[data-testid="stMain"]')).to_contain_text(run_id)
            for tab in (ada, bob):
                assert code.replace("-", "") not in tab.url.replace("-", "")
                no_app_errors(tab)
        finally:
            browser.close()
