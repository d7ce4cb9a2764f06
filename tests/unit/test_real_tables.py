"""Real tables (issue 25): the default target is a column named like one, or none (the user is asked); a
look-alike target that cannot be one is said loudly; row numbers and numeric identifiers are left out;
small tables start from the Linear preset; a small test set's R² comes with a warning."""

import io

import numpy as np
import pandas as pd
import pytest

from core.data import tabular
from core.training.evaluation import r2_caution, summarize_regression
from core.training.presets import SMALL_DATA_SET, default_preset_for, preset_advice


def columns_of(frame: pd.DataFrame):
    return tabular.describe(frame)


def read(text: str):
    frame, _ = tabular.read_csv(text.encode())
    return frame, tabular.describe(frame)


def housing(rows: int = 30) -> pd.DataFrame:
    """Like the housing-prices table of the issue: the price first, a 0/1 count last."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "price": rng.integers(100, 900, rows) * 1000,
            "area": rng.integers(50, 200, rows),
            "bedrooms": rng.integers(1, 5, rows),
            "garagepl": rng.integers(0, 3, rows),
        }
    )


@pytest.mark.parametrize(
    "name, rank",
    [
        ("price", 2),
        ("Price", 2),
        ("y", 2),
        ("target", 2),
        ("SalePrice", 1),
        ("median_house_value", 1),
        ("MedHouseVal", 1),
        ("price_k_eur", 1),
        ("garagepl", 0),
        ("carb", 0),
        ("Day", 0),
        ("z", 0),
        ("yield", 0),  # a word that merely starts with y
        ("valence", 0),
    ],
)
def test_a_column_named_like_the_value_to_predict_is_recognised(name, rank):
    assert tabular.target_name_rank(name) == rank


def test_the_price_column_is_the_default_target_not_the_last_numeric_column():
    choice = tabular.default_target(columns_of(housing()))
    assert choice.name == "price"
    assert "price" in choice.note and not choice.warning


def test_a_whole_name_beats_a_word_in_a_name():
    frame = housing().assign(price_per_m2=lambda f: f["price"] / f["area"])
    assert tabular.default_target(columns_of(frame)).name == "price"


@pytest.mark.parametrize("last", ["carb", "Day", "z"])
def test_without_a_target_like_name_no_column_is_guessed(last):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"mpg": rng.normal(20, 5, 30), "hp": rng.normal(100, 30, 30), last: rng.integers(1, 9, 30)})
    choice = tabular.default_target(columns_of(frame))
    assert choice.name is None
    assert "choose" in choice.note.lower()


def test_a_target_with_a_few_typos_is_not_dropped_silently():
    frame = housing().astype({"price": object})
    frame.loc[[3, 9], "price"] = "about 200"  # not a missing-value marker such as "?": test_missing_markers.py
    columns = columns_of(frame)
    assert "price" not in tabular.target_candidates(frame, columns)
    choice = tabular.default_target(columns)
    assert choice.name is None  # no other column silently takes its place
    assert "Column 'price' looks like the value to predict, but it cannot be the target" in choice.warning
    assert "'about 200'" in choice.warning


def test_a_row_number_column_is_left_out_with_the_reason():
    frame, columns = read(housing().to_csv())  # pandas writes its index as a first, unnamed column
    by_name = {c.name: c for c in columns}
    assert "Unnamed: 0" in frame.columns
    row_number = by_name["Unnamed: 0"]
    assert row_number.kind == tabular.LEFT_OUT
    assert row_number.reason.startswith("it counts the rows (0, 1, 2 … 29)")
    assert "Unnamed: 0" not in tabular.target_candidates(frame, columns)
    prepared = tabular.prepare(frame, "price")
    assert "Unnamed: 0" not in prepared.feature_names
    assert any("'Unnamed: 0' was left out: it counts the rows" in line for line in prepared.report)


def test_rows_numbered_from_one_are_a_row_number_too():
    frame = housing().assign(No=range(1, 31))
    column = {c.name: c for c in columns_of(frame)}["No"]
    assert column.kind == tabular.LEFT_OUT and "counts the rows (1, 2, 3 … 30)" in column.reason


@pytest.mark.parametrize("name", ["id", "ID", "customer_id", "houseId", "Unnamed: 0"])
def test_a_numeric_identifier_is_left_out_like_a_text_one(name):
    rng = np.random.default_rng(2)
    frame = housing().assign(**{name: rng.permutation(np.arange(1000, 1030)) * 7})  # shuffled, all different
    column = {c.name: c for c in columns_of(frame)}[name]
    assert column.kind == tabular.LEFT_OUT and "identifies rows" in column.reason


@pytest.mark.parametrize(
    "name, values",
    [
        ("year", list(range(1990, 2020))),  # counts, but not from 0 or 1: a measurement
        ("Day", [d % 28 + 1 for d in range(30)]),  # repeats
        ("rooms", [1, 2] * 15),
        ("paid", list(range(30))[::-1]),  # counts down: not a row number, and not named like an id
    ],
)
def test_measurements_that_look_a_little_like_ids_stay_numbers(name, values):
    frame = housing().assign(**{name: values})
    assert {c.name: c for c in columns_of(frame)}[name].kind == tabular.NUMBER


def test_a_small_table_counting_to_twelve_is_not_called_a_row_number():
    frame = housing(12).assign(month=range(1, 13))
    assert {c.name: c for c in columns_of(frame)}["month"].kind == tabular.NUMBER


def test_the_shipped_example_still_reads_its_columns_as_before():
    frame, columns = tabular.read_csv(tabular.example_bytes())
    kinds = {c.name: c.kind for c in tabular.describe(frame)}
    assert kinds["area_m2"] == kinds["age_years"] == kinds["rooms"] == tabular.NUMBER
    assert tabular.default_target(tabular.describe(frame)).name == tabular.EXAMPLE_TARGET


def test_small_tables_start_from_the_linear_preset_with_the_reason():
    assert default_preset_for(False, 353) == "linear"
    assert default_preset_for(False, SMALL_DATA_SET) == "tabular"
    assert default_preset_for(False) == "tabular"
    assert default_preset_for(True, 300) == "model1"
    advice = preset_advice(False, 353)
    assert "353 training rows" in advice and "Linear preset" in advice and "Tabular preset" in advice
    assert preset_advice(False, 50_000) == "" and preset_advice(True, 100) == ""


def test_a_small_test_set_warns_that_r2_is_rough():
    six = summarize_regression(np.arange(6.0), np.arange(6.0) + 0.5, "mpg", "mse")
    caution = r2_caution(six)
    assert caution is not None and "only 6 rows" in caution and "R²" in caution
    many = summarize_regression(np.arange(200.0), np.arange(200.0), "mpg", "mse")
    assert r2_caution(many) is None
    assert r2_caution({"test_accuracy": 0.5, "test_examples": 6}) is None  # a classification: no R²


def test_a_question_mark_in_the_price_is_a_missing_price_and_its_row_is_said_to_be_left_out():
    text = "area,price\n" + "".join(f"{50 + i},{100 + 3 * i}\n" for i in range(20)) + "70,?\n"
    frame, notes = tabular.read_csv(io.BytesIO(text.encode()).getvalue())
    choice = tabular.default_target(tabular.describe(frame))
    assert choice.name == "price" and not choice.warning
    assert "Column 'price' has '?' in 1 row: read as missing values" in notes[0]
    report = tabular.prepare(frame, "price").report
    assert report[0].startswith("1 of 21 rows had a missing value in a chosen column and were left out")
    assert "1 of those rows has a missing value in the target 'price' itself" in report[1]


def test_small_sets_train_for_more_epochs_and_large_ones_keep_the_presets_own():
    from core.training.presets import MAX_SMALL_SET_EPOCHS, PRESETS, defaults_for

    model1 = PRESETS["model1"]
    assert defaults_for(model1, 1_438).epochs == MAX_SMALL_SET_EPOCHS  # the digits: 11 batches an epoch
    assert defaults_for(model1, 1_438).batch_size == model1.app_hyperparameters.batch_size
    assert defaults_for(model1, 60_000) == model1.app_hyperparameters  # Fashion-MNIST: unchanged
    assert defaults_for(model1, 2_000) == model1.app_hyperparameters  # Shapes: unchanged
    assert defaults_for(model1, None) == model1.app_hyperparameters


def test_blank_takes_its_own_learning_rate_on_a_small_set_only():
    from core.training.presets import MAX_SMALL_SET_EPOCHS, PRESETS, defaults_for, defaults_for_dataset

    blank = PRESETS["blank"]
    small = defaults_for(blank, 1_438)  # the digits: a linear model needs bigger steps in 330 of them
    assert small.learning_rate == 0.02 > blank.app_hyperparameters.learning_rate
    assert small.epochs == MAX_SMALL_SET_EPOCHS and small.optimizer == "adam"
    assert defaults_for(blank, 60_000) == blank.app_hyperparameters  # Fashion-MNIST: unchanged
    # The other presets have no small-set settings of their own: only their epochs change.
    for preset in (p for p in PRESETS.values() if p.name != "blank"):
        small, own = defaults_for(preset, 1_438).to_dict(), preset.app_hyperparameters.to_dict()
        assert {key for key in own if small[key] != own[key]} <= {"epochs"}, preset.name
    # By the data set's name, as the app's Train page and `python -m core train` both ask.
    assert defaults_for_dataset(blank, "shapes") == blank.app_hyperparameters  # 2,000 images: not small
    assert defaults_for_dataset(blank, "own-0123456789ab") == blank.app_hyperparameters  # not there: no size


def test_a_counting_column_written_with_decimals_is_a_measurement():
    frame = housing(40).assign(a=np.arange(40.0))
    assert {c.name: c for c in columns_of(frame)}["a"].kind == tabular.NUMBER
