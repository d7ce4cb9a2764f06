"""AppTest tests of the dashboard pages: what a learner sees and can do on each page."""

from helpers import app_run, rerun, shape_rows, table_with, use_shapes, wait_for


def test_build_page_shows_model1_summary(app):
    rows = shape_rows(app)
    assert rows[0] == "conv2d (Conv2D)" and rows[-1] == "dense_1 (Dense)"
    table = table_with(app, "Output shape")
    assert list(table["Output shape"]) == [
        "(None, 26, 26, 16)",
        "(None, 13, 13, 16)",
        "(None, 11, 11, 32)",
        "(None, 5, 5, 32)",
        "(None, 800)",
        "(None, 128)",
        "(None, 10)",
    ]
    assert any("108,618" in m.value for m in app.markdown)


def test_add_remove_move_duplicate_layers_update_the_shape_table(app):
    # Add a Dropout after layer 5 (Flatten).
    app.selectbox(key="add_layer_type").select("Dropout")
    app.selectbox(key="add_layer_position").select(5)
    app.button(key="add_layer").click()
    rerun(app)
    rows = shape_rows(app)
    assert len(rows) == 8 and rows[5] == "dropout (Dropout)"
    v = app.session_state["playground"].builder_version  # layer widget keys carry it
    # Move it up above Flatten: the Dropout now sees the 5×5×32 feature map.
    app.button(key=f"b{v}_5_up").click()
    rerun(app)
    table = table_with(app, "Output shape")
    assert table["Layer (type)"][4] == "dropout (Dropout)"
    assert table["Output shape"][4] == "(None, 5, 5, 32)"
    # Duplicate the first Conv2D: a second 3×3 conv shrinks 26 to 24.
    v = app.session_state["playground"].builder_version
    app.button(key=f"b{v}_0_dup").click()
    rerun(app)
    table = table_with(app, "Output shape")
    assert table["Output shape"][1] == "(None, 24, 24, 16)"
    # Remove the duplicate again.
    v = app.session_state["playground"].builder_version
    app.button(key=f"b{v}_1_del").click()
    rerun(app)
    assert table_with(app, "Output shape")["Output shape"][1] == "(None, 13, 13, 16)"


def test_changing_a_parameter_updates_shapes_and_params(app):
    v = app.session_state["playground"].builder_version
    app.selectbox(key=f"b{v}_0_kernel_size").select(5)
    rerun(app)
    table = table_with(app, "Output shape")
    assert table["Output shape"][0] == "(None, 24, 24, 16)"
    assert table["Params"][0] == "416"


def test_invalid_stack_disables_train_with_its_reason(app):
    v = app.session_state["playground"].builder_version
    app.button(key=f"b{v}_4_del").click()  # remove Flatten: Dense now gets a 4-D tensor
    rerun(app)
    assert any("add Flatten or GlobalAveragePooling2D before Dense" in e.value for e in app.error)
    app.switch_page("views/train.py")
    rerun(app)
    assert app.button(key="train").disabled
    assert any("problem" in w.value and "Build" in w.value for w in app.warning)


def test_data_page_switches_data_set_and_adapts_model(app):
    use_shapes(app)
    assert [m.value for m in app.metric][:4] == ["2,000", "500", "28×28×1", "5"]
    pg = app.session_state["playground"]
    assert pg.spec["layers"][-1]["units"] == 5
    assert len(app.get("plotly_chart")) == 2  # class balance and pixel heatmap


def test_training_run_on_shapes_completes_and_results_show_accuracy(app):
    use_shapes(app)
    app.switch_page("views/train.py")
    rerun(app)
    app.number_input(key="hp_epochs").set_value(2)
    rerun(app)
    assert not app.button(key="train").disabled
    app.button(key="train").click()
    rerun(app)
    run_id = app.session_state["playground"].run_id
    assert run_id and app.query_params["run"] == [run_id] or app.query_params["run"] == run_id
    run = wait_for(app_run(run_id), 120)
    rerun(app)
    assert run.status == "finished", run.message
    assert any("test accuracy" in s.value for s in app.success)
    app.switch_page("views/results.py")
    rerun(app)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Test accuracy"].endswith("%")
    assert float(metrics["Test accuracy"].rstrip(" %")) > 50
    assert metrics["Parameters"] == f"{run.params:,}"
    assert len(app.get("plotly_chart")) == 3  # history, confusion matrix, per-class accuracy
    table = table_with(app, "Test accuracy (%)")
    assert list(table["Run"]) == [run_id]

    # Train the same run one more epoch from the Train page: its history grows to 3 epochs.
    app.switch_page("views/train.py")
    rerun(app)
    app.number_input(key="more_epochs").set_value(1)
    app.button(key="train_more").click()
    rerun(app)
    run = wait_for(app_run(run_id), 120)
    rerun(app)
    assert run.status == "finished" and [e["epoch"] for e in run.epoch_history()] == [1, 2, 3]
    assert any("after 3 epochs" in s.value for s in app.success)


def test_results_page_without_runs_explains_what_to_do(app):
    app.switch_page("views/results.py")
    rerun(app)
    assert any("No runs yet" in i.value for i in app.info)


def test_streamlit_still_has_the_cleanup_hook_we_neutralise():
    """dashboard.runtime replaces this private function; fail loudly if a Streamlit upgrade renames it."""
    from streamlit.runtime.scriptrunner import script_runner

    import dashboard.runtime  # noqa: F401

    assert hasattr(script_runner, "_clean_problem_modules")
    assert script_runner._clean_problem_modules.__name__ == "_clean_problem_modules_without_keras"


def total_params_line(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Total params:"))


def test_an_edit_in_the_layer_editor_updates_the_parameter_total(app):
    assert total_params_line(app).startswith("**Total params: 108,618** · **Training memory: about ")
    v = app.session_state["playground"].builder_version
    app.number_input(key=f"b{v}_0_filters").set_value(17)
    rerun(app)
    # conv 1: 17·(9+1) = 170; conv 2: 32·(9·17+1) = 4,928; the rest unchanged (1,290 + 102,528)
    assert total_params_line(app).startswith("**Total params: 108,916** · ")
    assert table_with(app, "Params")["Params"][0] == "170"


def test_an_edit_on_build_updates_the_sidebar_too(app):
    assert "108,618 params · ready to train" in [m.value for m in app.sidebar.markdown]
    v = app.session_state["playground"].builder_version
    app.number_input(key=f"b{v}_0_filters").set_value(17)
    rerun(app)
    assert "108,916 params · ready to train" in [m.value for m in app.sidebar.markdown]


def test_the_keras_code_is_made_only_when_its_expander_is_opened(app):
    assert not any("keras.Sequential" in c.value for c in app.code)
    app.session_state["build_code"] = True  # what opening the expander does
    rerun(app)
    assert any("keras.Sequential" in c.value and "layers.Conv2D(16" in c.value for c in app.code)


def test_train_trains_exactly_what_a_share_link_may_carry(app):
    """The Train page and share links read one field table: a value typed outside what a link may carry
    blocks Train with the reason; the edges themselves train."""
    from core.share import LINK_LIMITS

    app.switch_page("views/train.py")
    rerun(app)
    split = app.slider(key="hp_validation_split")
    assert (split.min, split.max) == LINK_LIMITS["validation_split"]
    for key, name in (("hp_learning_rate", "learning_rate"), ("hp_epochs", "epochs"), ("hp_seed", "seed")):
        low, high = LINK_LIMITS[name]
        for value, ok in ((low, True), (high, True), (low / 10 if name == "learning_rate" else low - 1, False)):
            app.number_input(key=key).set_value(value)
            rerun(app)
            assert app.button(key="train").disabled != ok, (name, value)
        app.number_input(key=key).set_value(low)
        rerun(app)


def test_a_layers_more_settings_are_made_when_opened_and_still_edit_the_model(app):
    v = app.session_state["playground"].builder_version
    assert not [s for s in app.selectbox if s.key == f"b{v}_0_padding"]
    app.session_state[f"b{v}_0_more"] = True  # what opening the card's "More settings" does
    rerun(app)
    app.selectbox(key=f"b{v}_0_padding").select("same")
    rerun(app)
    assert table_with(app, "Output shape")["Output shape"][0] == "(None, 28, 28, 16)"
