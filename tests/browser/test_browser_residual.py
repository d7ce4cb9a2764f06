"""Real Chromium: a learner builds a residual network from the Build page's list (no code typed), sees its
shapes checked and the shortcut drawn as an arc in the picture, adds an Add from the list (its checkbox in
full words), and starts training it."""

from __future__ import annotations

import re

import pytest
from kit import FIRST_LOAD_MS, RUN_MS, Shots, button, choose, expect, go_to, idle, no_app_errors

pytestmark = pytest.mark.browser

PICTURE_SVG_JS = """async () => {
    // The architecture picture is an <img> of the SVG the app drew: read what it shows.
    for (const img of document.querySelectorAll('[data-testid="stImage"] img, img')) {
        const text = await (await fetch(img.src)).text();
        if (text.includes('<svg')) return text;
    }
    return null;
}"""


def pick(page, key: str, option: str) -> None:
    """Pick from a long selectbox by typing, as a learner would (its list only draws the options in view)."""
    box = page.locator(f".st-key-{key} input[role=combobox]")
    box.click()
    try:  # right after a button press the first click may only focus the box (seen in Chromium 156)
        expect(page.get_by_role("option").first).to_be_visible(timeout=2_000)
    except AssertionError:
        box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)


def add_layer(page, kind: str, position: str) -> None:
    pick(page, "add_layer_type", kind)
    choose(page, "add_layer_position", position)
    button(page, "add_layer").click()
    idle(page)


def test_a_residual_network_built_from_the_list_is_drawn_with_its_shortcut_and_trains(app_url, page):
    shots = Shots()
    try:
        page.goto(app_url + "/", timeout=FIRST_LOAD_MS)
        expect(page.get_by_role("heading", name="Build your network")).to_be_visible(timeout=FIRST_LOAD_MS)
        go_to(page, "Data", "Look at the data")
        choose(page, "dataset_choice", "Shapes (synthetic)")
        idle(page)
        go_to(page, "Build", "Build your network")
        choose(page, "preset_choice", "Blank — just the output layer")
        button(page, "load_preset").click()
        idle(page)

        add_layer(page, "Conv2D", "at the top")
        add_layer(page, "MaxPooling2D", "after layer 1 (Conv2D)")
        add_layer(page, "ResidualBlock", "after layer 2 (MaxPooling2D)")
        card = page.locator(".st-key-layer_card_2")
        expect(card).to_contain_text("3. ResidualBlock")
        expect(card).to_contain_text("(None, 13, 13, 32)")  # its shapes, checked as it was added
        expect(card).to_contain_text(f"{2 * 3 * 3 * 32 * 32 + 2 * 4 * 32:,} params")
        summary = page.locator(".st-key-build_shapes")
        expect(summary).to_contain_text("residual_block (ResidualBlock)")
        expect(page.get_by_text("Ready to train — go to Train.")).to_be_visible()
        card.get_by_text("Inside this block: 7 layers").click()
        idle(page)
        expect(card).to_contain_text("residual_block_add (Add)")

        svg = page.evaluate(PICTURE_SVG_JS)
        assert svg is not None, "the architecture picture is not on the page"
        assert svg.count('<path class="shortcut"') == 1 and ">shortcut</text>" in svg
        assert "Residual 32 × 3×3" in svg
        no_app_errors(page)
        shots.take(page, "residual-build")

        # An Add after the block, wired to the pooling (13×13×32, as the block gives): its shortcut checkbox
        # is there in full words (the problem it would fix names it), not cut to a third of the card.
        add_layer(page, "Add", "after layer 3 (ResidualBlock)")
        add = page.locator(".st-key-layer_card_3")
        expect(add).to_contain_text("4. Add")
        expect(add).to_contain_text("(None, 13, 13, 32)")
        label = add.locator('[data-testid="stCheckbox"] label p')
        expect(label).to_have_text("1×1 convolution on the shortcut")
        assert label.evaluate("p => p.scrollWidth <= p.clientWidth"), "the checkbox's label is cut short"
        expect(page.get_by_text("Ready to train — go to Train.")).to_be_visible()
        assert page.evaluate(PICTURE_SVG_JS).count('<path class="shortcut"') == 2  # the block's and the Add's

        go_to(page, "Train", "Train")
        idle(page)
        button(page, "train").click()
        expect(page.get_by_text(re.compile(r"^Training: epoch \d+ of \d+"))).to_be_visible(timeout=RUN_MS)
        shots.take(page, "residual-training")
        button(page, "stop").click()
        expect(page.get_by_text(re.compile(r"^(Stopped|Finished) after"))).to_be_visible(timeout=RUN_MS)
        no_app_errors(page)
    finally:
        shots.write_index()
