"""AppTest: a regression on a CSV table — the example, the builder for tables, training, results, bad files."""

import pytest
from helpers import app_run, rerun, table_with, wait_for

from core.data import tabular


def import_example(at):
    at.switch_page("views/data.py")
    rerun(at)
    at.button(key="csv_example").click()
    rerun(at)
    return at


def test_the_example_table_is_previewed_with_how_each_column_is_used(app):
    import_example(app)
    preview = table_with(app, "area_m2")
    assert len(preview) == 10 and "street" in preview.columns
    columns = table_with(app, "How it is used").set_index("Column")
    assert columns.loc["district", "How it is used"] == "category: one-hot encoded into 4 columns of 0/1"
    assert columns.loc["street", "Kind"] == "left out"
    assert columns.loc["street", "How it is used"] == "left out (see why below)"
    assert any("**street** is left out: text with 36 different values" in c.value for c in app.caption)
    assert app.selectbox(key="csv_target").value == tabular.EXAMPLE_TARGET
    assert app.multiselect(key="csv_features_price_k_eur").value == ["area_m2", "rooms", "age_years", "district"]
    assert app.text_input(key="csv_title").value == tabular.EXAMPLE_TITLE


def test_example_to_results_builder_offers_table_layers_and_results_show_mae(app):
    import_example(app)
    app.button(key="import_csv").click()
    rerun(app)
    assert any("Imported **House prices (synthetic example)**" in s.value for s in app.success)
    pg = app.session_state["playground"]
    # 480 training rows: a small table starts from the Linear preset (issue 25), and says why
    assert pg.dataset.startswith("own-") and pg.preset == "linear"
    assert pg.spec["input_shape"] == [7] and [layer["type"] for layer in pg.spec["layers"]] == ["Dense"]
    assert any("With 480 training rows the model starts as the Linear preset" in i.value for i in app.info)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Training rows"] == "480" and metrics["Test rows"] == "120"
    assert metrics["Predicts"] == "price_k_eur"
    assert "district=Centre" in table_with(app, "→ price_k_eur").columns  # the rows as the network gets them

    app.switch_page("views/build.py")
    rerun(app)
    assert app.selectbox(key="add_layer_type").options == ["BatchNormalization", "Dropout", "Dense"]
    assert app.selectbox(key="preset_choice").options == [
        "Tabular — two hidden Dense layers",
        "Linear — just the output layer (linear regression)",
    ]
    assert any("image presets are not offered" in c.value for c in app.caption)
    assert any("table rows of 7 numbers" in m.value for m in app.markdown)
    assert any("Ready to train" in s.value for s in app.success)

    app.switch_page("views/experiment.py")
    rerun(app)
    assert app.number_input(key="xp_limit_train").label == "Training rows per run (0 = all)"  # a table has rows

    app.switch_page("views/train.py")
    rerun(app)
    assert app.selectbox(key="hp_loss").value == "mse"
    app.selectbox(key="hp_loss").select("mae")
    app.number_input(key="hp_epochs").set_value(12)
    rerun(app)
    assert app.session_state["playground"].hyperparameters.loss == "mae"
    app.button(key="train").click()
    rerun(app)
    run = wait_for(app_run(app.session_state["playground"].run_id), 120)
    rerun(app)
    assert run.status == "finished", run.message
    assert any("test MAE" in s.value for s in app.success)
    assert set(run.batch_history()[-1]) == {"step", "epoch", "loss", "mae"}

    app.switch_page("views/results.py")
    rerun(app)
    metrics = {m.label: m.value for m in app.metric}
    assert {"Test MAE", "Test RMSE", "R²"} <= set(metrics) and "Test accuracy" not in metrics
    assert float(metrics["Test MAE"]) < 25 and float(metrics["R²"]) > 0.9  # price std ≈ 110 k€, noise 15
    assert len(app.get("plotly_chart")) == 3  # history, predicted vs actual, residuals: no confusion matrix
    assert not any("Confusion matrix" in h.value for h in app.header)
    assert table_with(app, "Setting").set_index("Setting").loc["Loss", "Value"] == "Mean absolute error (MAE)"
    assert len(table_with(app, "Error")) == 10  # the test rows with the largest errors
    assert table_with(app, "Test MAE")["Run"].tolist() == [run.id]

    for page in ("inside", "predict"):
        app.switch_page(f"views/{page}.py")
        rerun(app)
        assert any("works on networks that classify images" in i.value for i in app.info), page
    app.switch_page("views/compare.py")
    rerun(app)
    assert table_with(app, "Test MAE")["Run"].tolist() == [run.id]
    assert any("Mean absolute error (MAE) and loss per epoch" in h.value for h in app.header)


def test_switching_back_to_images_gives_an_image_preset(app):
    import_example(app)
    app.button(key="import_csv").click()
    rerun(app)
    app.selectbox(key="dataset_choice").select("shapes")
    rerun(app)
    pg = app.session_state["playground"]
    assert pg.preset == "model1" and pg.spec["input_shape"] == [28, 28, 1] and pg.spec["layers"][-1]["units"] == 5


@pytest.mark.parametrize(
    "content, message",
    [
        (b"name,colour\n" + b"ann,red\nbob,blue\n" * 6, "no column of numbers that varies"),
        (b"area,price\n100,250\n", "only one row of data"),
        (b"\x00\x01binary\xff" * 20, "not a text table"),
    ],
)
def test_a_bad_csv_upload_gets_its_plain_message(app, content, message):
    app.switch_page("views/data.py")
    rerun(app)
    app.file_uploader(key="csv_file").set_value(("bad.csv", content, "text/csv"))
    rerun(app)
    errors = [e.value for e in app.error]
    assert any("**bad.csv** cannot be used" in e and message in e for e in errors), errors
    assert not app.get("button") or not any(b.key == "import_csv" for b in app.button)


def test_a_csv_with_missing_values_says_how_many_rows_were_left_out(app):
    frame = tabular.make_example_houses(60)
    frame.loc[[2, 7, 30], "age_years"] = None
    app.switch_page("views/data.py")
    rerun(app)
    app.file_uploader(key="csv_file").set_value(("houses.csv", frame.to_csv(index=False).encode(), "text/csv"))
    rerun(app)
    assert app.text_input(key="csv_title").value == "houses"
    assert table_with(app, "How it is used").set_index("Column").loc["age_years", "Missing"] == 3
    app.button(key="import_csv").click()
    rerun(app)
    assert any("3 of 60 rows had a missing value" in w.value for w in app.warning)
