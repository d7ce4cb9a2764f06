"""The recovery code in real Chromium: Ada asks for hers on Results, Bob types it in another browser and
becomes Ada (her runs listed, her cookie); the code never appears in an address."""

from __future__ import annotations

import re

import pytest
from kit import (
    FIRST_LOAD_MS,
    button,
    expect,
    go_to,
    idle,
    new_tab,
    no_app_errors,
    open_app,
    open_your_work,
    train_quick_shapes_run,
)

pytestmark = pytest.mark.browser


def user_cookie(tab) -> str:
    """The identity cookie, once the app's cookie script has written it."""
    tab.wait_for_function("() => document.cookie.includes('cnn_playground_user=')", timeout=30_000)
    return next(c["value"] for c in tab.context.cookies() if c["name"] == "cnn_playground_user")


def test_a_recovery_code_typed_in_another_browser_makes_it_the_same_learner(app_url, browser):
    ada = new_tab(browser)
    open_app(ada, app_url)
    run_id = train_quick_shapes_run(ada)

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
    open_app(bob, app_url)
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
