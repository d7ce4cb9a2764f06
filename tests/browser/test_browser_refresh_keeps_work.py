"""A browser refresh right after a table import (real Chromium, the identity cookie set by the page) keeps
the table, its model and the settings changed on Train, instead of going back to Fashion-MNIST's model 1."""

from __future__ import annotations

import pytest
from kit import FIRST_LOAD_MS, button, expect, go_to, idle, new_tab, no_app_errors, type_into

pytestmark = pytest.mark.browser


def test_a_refresh_after_a_table_import_keeps_the_table_and_the_settings(app_url, browser):
    tab = new_tab(browser)
    tab.goto(app_url, timeout=FIRST_LOAD_MS)
    expect(tab.get_by_role("heading", name="Build your network", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    go_to(tab, "Data", "Look at the data")
    tab.get_by_text("Import a table (CSV) to predict a number").click()
    button(tab, "csv_example").click()
    idle(tab)
    button(tab, "import_csv").click()
    expect(tab.get_by_text("Imported House prices (synthetic example)")).to_be_visible()
    go_to(tab, "Train", "Train")
    type_into(tab, "hp_epochs", "9")

    tab.reload(timeout=FIRST_LOAD_MS)
    expect(tab.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    idle(tab)
    expect(tab.locator(".st-key-hp_epochs input")).to_have_value("9")
    expect(tab.locator(".st-key-hp_loss")).to_be_visible()  # a table's loss choice: still the table
    go_to(tab, "Build", "Build your network")
    expect(tab.get_by_text("table rows of 7 numbers").first).to_be_visible()
    no_app_errors(tab)
