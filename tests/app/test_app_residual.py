"""Build page: a residual network from the list, without typing code — blocks, a hand-wired Add, the shapes."""

from helpers import rerun, table_with


def add(app, kind: str, position: int) -> None:
    app.selectbox(key="add_layer_type").select(kind)
    app.selectbox(key="add_layer_position").select(position)
    app.button(key="add_layer").click()
    rerun(app)


def version(app) -> int:
    return app.session_state["playground"].builder_version


def test_a_residual_block_from_the_list_shows_its_shapes_and_inner_layers(app):
    # Model 1: conv, pool, conv, pool, ... — a block after the first pooling (13×13×16), 32 filters, stride 2.
    add(app, "ResidualBlock", 2)
    table = table_with(app, "Output shape")
    assert table["Layer (type)"][2] == "residual_block (ResidualBlock)"
    assert table["Output shape"][2] == "(None, 13, 13, 32)"
    app.selectbox(key=f"b{version(app)}_2_strides").select(2)
    rerun(app)
    table = table_with(app, "Output shape")
    assert table["Output shape"][2] == "(None, 7, 7, 32)"  # halved: its shortcut got a 1×1 convolution
    assert table["Params"][2] == f"{3 * 3 * 16 * 32 + 3 * 3 * 32 * 32 + 2 * 4 * 32 + 16 * 32 + 4 * 32:,}"
    app.session_state[f"b{version(app)}_2_inner"] = True  # what opening "Inside this block" does
    rerun(app)
    inner = next(m.value for m in app.markdown if "residual_block_shortcut (Conv2D) · shortcut" in m.value)
    assert "residual_block_add (Add)" in inner and "(None, 7, 7, 32)" in inner
    assert not app.exception


def test_an_add_picked_from_the_list_takes_a_layer_that_fits_and_explains_one_that_does_not(app):
    # After model 1's second convolution (11×11×32): a second 3×3 'same' convolution keeps 11×11×32.
    add(app, "Conv2D", 3)
    app.number_input(key=f"b{version(app)}_3_filters").set_value(32)
    rerun(app)
    app.session_state[f"b{version(app)}_3_more"] = True
    rerun(app)
    app.selectbox(key=f"b{version(app)}_3_padding").select("same")
    rerun(app)
    add(app, "Add", 4)  # takes the nearest earlier layer whose shape fits: layer 3
    table = table_with(app, "Output shape")
    assert table["Layer (type)"][4] == "add (Add)" and table["Output shape"][4] == "(None, 11, 11, 32)"
    picker = app.selectbox(key=f"b{version(app)}_4_with")
    assert picker.value == 3
    assert picker.options == ["Layer 3 · conv2d_1 (Conv2D) · 11×11×32"]  # only the layers that fit
    # Wire it by hand (as a typed spec could) to the first pooling, 13×13×16: no 1×1 convolution turns 13 into 11.
    app.session_state["playground"].spec["layers"][4]["with"] = 2
    rerun(app)
    # said under the list, not in the option's words (a browser keeps those as they were when chosen)
    assert not [o for o in app.selectbox(key=f"b{version(app)}_4_with").options if "fit" in o]
    assert any(c.value.startswith("Layer 2's shape does not fit here") for c in app.caption)
    errors = [e.value for e in app.error]
    assert "1 problem to fix before training:" in errors and not [e for e in errors if "problem(s)" in e]
    assert any(m.value == "1 problem to fix on **Build**" for m in app.sidebar.markdown)  # words, not "(s)"
    assert any(
        "Add needs both inputs 11×11×32; layer 2 gives 13×13×16 — **merge with a layer that gives 11×11×32 (layer 3 "
        "fits)**" in e
        for e in errors
    ), errors
    app.session_state["playground"].spec["layers"][4]["with"] = 3
    # Widen the convolution before the Add: now only the channels differ, and the fix is a 1×1 convolution.
    app.number_input(key=f"b{version(app)}_3_filters").set_value(64)
    rerun(app)
    errors = [e.value for e in app.error]
    assert any(
        "Add needs both inputs 11×11×64; layer 3 gives 11×11×32 — **use a 1×1 convolution on the shortcut" in e
        for e in errors
    ), errors
    app.checkbox(key=f"b{version(app)}_4_projection").check()
    rerun(app)
    table = table_with(app, "Output shape")
    assert table["Output shape"][4] == "(None, 11, 11, 64)" and table["Params"][4] == f"{32 * 64 + 64:,}"
    assert any("Ready to train" in s.value for s in app.success)
