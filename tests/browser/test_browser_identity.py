"""Identity that cannot be copied (real Chromium): another browser opening a learner's full address-bar
URL gets that learner's model, never their runs; the id is in a cookie, never in the URL."""

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
)

pytestmark = pytest.mark.browser
EPOCHS = 2


def main_text(tab) -> str:
    return tab.locator('[data-testid="stMain"]').inner_text()


def test_b_opens_as_full_url_and_sees_as_model_but_none_of_as_runs(app_url, browser):
    # Ada: shapes, 2 epochs of batch 16 on 300 of its images, trained once.
    ada = new_tab(browser)
    ada.goto(app_url, timeout=FIRST_LOAD_MS)
    expect(ada.get_by_role("heading", name="Build your network", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    use_shapes(ada)
    go_to(ada, "Train", "Train")
    type_into(ada, "hp_epochs", EPOCHS)
    choose(ada, "hp_batch_size", "16")
    limit_images(ada, 300)
    idle(ada)
    button(ada, "train").click()
    ada.wait_for_url(lambda url: run_id_in(url) is not None)
    run_id = run_id_in(ada.url)
    expect(ada.get_by_text(re.compile(rf"^Finished after {EPOCHS} epoch"))).to_be_visible(timeout=RUN_MS)
    idle(ada)
    ada_url = ada.url
    # The id lives in a cookie only: never in the address.
    assert "u=" not in ada_url, ada_url
    cookie = next(c for c in ada.context.cookies() if c["name"] == "cnn_playground_user")
    assert re.fullmatch(r"[0-9a-f]{32}", cookie["value"])
    assert cookie["value"] not in ada.content()

    # Bob opens Ada's full address (as if copied from a projected screen).
    bob = new_tab(browser)
    bob.goto(ada_url, timeout=FIRST_LOAD_MS)
    expect(bob.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    idle(bob)
    # Ada's model and settings...
    expect(bob.locator(".st-key-hp_epochs input")).to_have_value(str(EPOCHS))
    expect(bob.locator('[data-testid="stSidebar"]')).to_contain_text("Shapes (synthetic)")
    # ...but none of her runs: not followed, not listed, not in his address.
    assert run_id not in main_text(bob)
    assert run_id_in(bob.url) is None, bob.url
    go_to(bob, "Build", "Build your network")
    expect(bob.get_by_text(re.compile("someone else's run: its model and training settings"))).to_be_visible()
    go_to(bob, "Results", "Results")
    idle(bob)
    assert run_id not in main_text(bob)
    bob_cookie = next(c for c in bob.context.cookies() if c["name"] == "cnn_playground_user")
    assert bob_cookie["value"] != cookie["value"]
    no_app_errors(bob)

    # Ada, meanwhile, still has her run after a refresh (her cookie, not the URL, says who she is).
    ada.reload(timeout=FIRST_LOAD_MS)
    expect(ada.get_by_role("heading", name=re.compile(rf"^Run {run_id}: "))).to_be_visible(timeout=FIRST_LOAD_MS)
    no_app_errors(ada)
