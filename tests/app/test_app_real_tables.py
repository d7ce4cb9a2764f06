"""AppTest: a real-looking CSV (issue 25) — the price column is the default target (not the last column), a
row-number column is left out, a look-alike target that cannot be one is said loudly, a "?" in the price is a
missing price (its rows left out, loudly), no name like a target means the user is asked; Results speaks of rows, warns about a small test set's R² and writes big MAEs in full."""

import numpy as np
import pandas as pd
from helpers import APP, TIMEOUT, rerun, table_with
from streamlit.testing.v1 import AppTest

from core.runs.record import Run, Status
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS, TABLE_PRESETS
from dashboard import session

ANN = "a1a1a1a1a1a1a1a1"


def housing_csv(rows: int = 40, price_cells: str = "") -> bytes:
    """Like the issue's housing-prices file: price first, written with pandas' index, a 0-2 count last; with
    ``price_cells`` written in two rows' price instead of a number."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "price": (rng.integers(100, 900, rows) * 1000).astype(object if price_cells else int),
            "area": rng.integers(50, 200, rows),
            "bedrooms": rng.integers(1, 5, rows),
            "garagepl": rng.integers(0, 3, rows),
        }
    )
    if price_cells:
        frame.loc[[4, 11], "price"] = price_cells
    return frame.to_csv().encode()  # with the index: "Unnamed: 0"


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.switch_page("views/data.py")
    rerun(at)
    at.file_uploader(key="csv_file").set_value((name, content, "text/csv"))
    return rerun(at)


def new_session() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["_user_id"] = ANN
    return rerun(at)


def test_the_price_column_is_the_default_target_and_the_row_number_is_left_out():
    at = upload(new_session(), "Housing.csv", housing_csv())
    assert at.selectbox(key="csv_target").value == "price"  # not garagepl, the last numeric column
    assert any("'price' is chosen because its name says it is the value to predict" in c.value for c in at.caption)
    columns = table_with(at, "How it is used").set_index("Column")
    assert columns.loc["Unnamed: 0", "Kind"] == "left out"
    assert any("**Unnamed: 0** is left out: it counts the rows (0, 1, 2 … 39)" in c.value for c in at.caption)
    assert at.multiselect(key="csv_features_price").value == ["area", "bedrooms", "garagepl"]


def test_a_price_with_typos_is_said_loudly_and_no_other_column_takes_its_place():
    at = upload(new_session(), "Housing.csv", housing_csv(price_cells="about 200k"))
    warnings = [w.value for w in at.warning]
    assert any("price" in w and "looks like the value to predict, but it cannot be the target" in w for w in warnings)
    assert at.selectbox(key="csv_target").value is None
    assert any("Choose the column to predict" in i.value for i in at.info)
    assert not any(b.key == "import_csv" for b in at.button)  # nothing imported before a target is chosen


def test_a_price_with_question_marks_is_the_target_and_its_rows_without_one_are_said_loudly():
    at = upload(new_session(), "Housing.csv", housing_csv(price_cells="?"))  # "?": no value, as UCI files write it
    assert any("Column 'price' has '?' in 2 rows: read as missing values" in c.value for c in at.caption)
    assert at.selectbox(key="csv_target").value == "price"
    assert not any("cannot be the target" in w.value for w in at.warning)
    at.button(key="import_csv").click()
    rerun(at)
    warnings = [w.value for w in at.warning]
    assert any("2 of 40 rows had a missing value in a chosen column" in w for w in warnings), warnings
    assert any("2 of those rows have a missing value in the target 'price' itself" in w for w in warnings)


def test_without_a_target_like_name_the_user_is_asked_then_can_import():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"mpg": rng.normal(20, 5, 40), "hp": rng.normal(100, 20, 40), "carb": rng.integers(1, 8, 40)})
    at = upload(new_session(), "mtcars.csv", frame.to_csv(index=False).encode())
    target = at.selectbox(key="csv_target")
    assert target.value is None
    target.select("mpg")
    rerun(at)
    at.button(key="import_csv").click()
    rerun(at)
    assert any("Imported **mtcars**" in s.value for s in at.success)
    pg = at.session_state["playground"]
    assert pg.preset == "linear"  # 32 training rows: the Linear preset, with the reason
    assert any("With 32 training rows the model starts as the Linear preset" in i.value for i in at.info)


def test_results_of_a_small_table_speak_of_rows_warn_about_r2_and_write_big_errors_in_full():
    at = upload(new_session(), "Housing.csv", housing_csv())
    at.button(key="import_csv").click()
    rerun(at)
    dataset = at.session_state["playground"].dataset
    spec = {"input_shape": [3], "layers": [dict(TABLE_PRESETS["linear"].layers[0])]}
    run = Run(spec, dataset, Hyperparameters(epochs=2, batch_size=32), owner=ANN, params=4, task="regression")
    run.begin(1, eval_sizes={"validation": 3, "test": 8})
    for epoch in (1, 2):
        run.record_epoch({"epoch": epoch, "loss": 1.0 / epoch, "mae": 0.8 / epoch, "seconds": 0.1})
    run.finish(
        Status.FINISHED,
        "",
        {
            "task": "regression",
            "test_loss": 1.5e8,
            "test_mae": 10_820.0,
            "test_rmse": 12_250.0,
            "test_r2": 0.41,
            "test_examples": 8,
            "target_name": "price",
            "loss": "mse",
            "train_examples": 32,
            "train_examples_available": 32,
        },
    )
    session.manager().store.save(run)
    at.switch_page("views/results.py")
    rerun(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test MAE"] == "10,820"
    assert any("The test set has only 8 rows" in w.value and "R²" in w.value for w in at.warning)
    settings = table_with(at, "Setting").set_index("Setting")["Value"]
    assert settings["Training rows"] == "32" and "Training images" not in settings.index
    runs = table_with(at, "Test MAE")
    assert runs["Test MAE"].tolist() == ["10,820"]  # not 1.082e+04


def test_an_imported_small_image_set_trains_for_more_epochs_with_the_presets_defaults():
    import io
    import zipfile

    from PIL import Image

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for label, shade in (("0", 30), ("1", 220)):
            for i in range(15):
                image = io.BytesIO()
                Image.fromarray(np.full((8, 8), shade + i, dtype=np.uint8)).save(image, "PNG")
                archive.writestr(f"digits/{label}/{i}.png", image.getvalue())
    at = new_session()
    at.switch_page("views/data.py")
    rerun(at)
    at.file_uploader(key="image_zip").upload("digits.zip", buffer.getvalue(), "application/zip")
    rerun(at)
    at.text_input(key="image_name").input("Digits")
    at.button(key="import_images").click()
    rerun(at)
    pg = at.session_state["playground"]
    assert pg.dataset.startswith("own-") and pg.preset == "model1"
    assert pg.hyperparameters.epochs == 30  # 24 training images: one batch an epoch, 8 epochs would be 8 steps
    at.switch_page("views/data.py")
    rerun(at)
    at.selectbox(key="dataset_choice").select("shapes")
    rerun(at)
    own = PRESETS["model1"].app_hyperparameters.epochs
    assert at.session_state["playground"].hyperparameters.epochs == own  # 2,000 images: the preset's own
